#include "kubelet/pod_events.h"

#include <fmt/format.h>

#include "kubeapi/event_recorder.h"
#include "kubeapi/json_fields.h"

namespace berth::kubelet {
namespace {

using Json = nlohmann::json;
using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;

// The pod's reference (a pod from an informer's list carries no kind of its own).
Json podReference(const Json& pod, std::string_view fieldPath) {
  Json typed = {{"kind", "Pod"}, {"apiVersion", "v1"}, {"metadata", jsonField(pod, "metadata")}};
  return kubeapi::objectReference(typed, fieldPath);
}

}  // namespace

std::string podDescription(const Json& pod) {
  const Json& meta = jsonField(pod, "metadata");
  return fmt::format("{}_{}({})", jsonString(meta, "name"), jsonString(meta, "namespace"),
                     jsonString(meta, "uid"));
}

void PodEvents::pod(const Json& pod, std::string_view type, std::string_view reason,
                    std::string message) const {
  if (recorder_ == nullptr) return;
  recorder_->event(podReference(pod, {}), type, reason, std::move(message));
}

void PodEvents::container(const Json& pod, const std::string& containerName, std::string_view type,
                          std::string_view reason, std::string message) const {
  if (recorder_ == nullptr) return;
  std::string list = "containers";
  for (const char* other : {"initContainers", "ephemeralContainers"}) {
    for (const Json& c : jsonArray(jsonField(pod, "spec"), other)) {
      if (jsonString(c, "name") == containerName) list = other;
    }
  }
  recorder_->event(podReference(pod, fmt::format("spec.{}{{{}}}", list, containerName)), type,
                   reason, std::move(message));
}

}  // namespace berth::kubelet
