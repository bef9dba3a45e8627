#include "controlplane/controllers/pod_disruption.h"

#include <algorithm>

#include "kubeapi/json_fields.h"
#include "kubeapi/meta_time.h"

namespace berth::controlplane::controllers {

using kubeapi::jsonString;
using nlohmann::json;

json withDisruptionTarget(json pod, std::string_view reason, std::string_view message,
                          bool markFailed) {
  json& status = pod["status"];
  if (!status["conditions"].is_array()) status["conditions"] = json::array();
  json& conditions = status["conditions"];
  json condition = {{"type", "DisruptionTarget"},
                    {"status", "True"},
                    {"reason", reason},
                    {"message", message},
                    {"lastTransitionTime", kubeapi::formatTime(kubeapi::now())}};
  auto it = std::ranges::find_if(
      conditions, [](const json& c) { return jsonString(c, "type") == "DisruptionTarget"; });
  if (it == conditions.end())
    conditions.push_back(std::move(condition));
  else if (jsonString(*it, "status") != "True" || jsonString(*it, "reason") != reason)
    *it = std::move(condition);
  std::string phase = jsonString(status, "phase");
  if (markFailed && phase != "Succeeded" && phase != "Failed") status["phase"] = "Failed";
  return pod;
}

Status markPodDisrupted(const kubeapi::ResourceClient& pods, std::string_view name,
                        std::string_view reason, std::string_view message, bool markFailed) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto pod = pods.get(name);
    if (!pod) return pod.error().isNotFound() ? Status{} : std::unexpected(pod.error().toError());
    json updated = withDisruptionTarget(*pod, reason, message, markFailed);
    if (updated == *pod) return {};
    auto written = pods.updateStatus(updated);
    if (written || written.error().isNotFound()) return {};
    if (!written.error().isConflict()) return std::unexpected(written.error().toError());
  }
  return fail(Code::kAborted, "pod {}: DisruptionTarget: conflicts", name);
}

}  // namespace berth::controlplane::controllers
