#pragma once
// The Events the kubelet writes about pods and their containers (pkg/kubelet/events upstream),
// with the references upstream gives them: a container's names it by field path
// (spec.containers{app}, spec.initContainers{init}), so `kubectl describe pod` shows
// "Pulling", "Created", "Started", "Killing", "BackOff" ... against the right container.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace berth::kubeapi {
class EventRecorder;
}

namespace berth::kubelet {

// format.Pod: "name_namespace(uid)", as the kubelet names a pod in logs and messages.
std::string podDescription(const nlohmann::json& pod);

class PodEvents {
 public:
  static constexpr std::string_view kNormal = "Normal";
  static constexpr std::string_view kWarning = "Warning";

  // Without a recorder nothing is written (unit tests, a kubelet without an API).
  explicit PodEvents(kubeapi::EventRecorder* recorder = nullptr) : recorder_(recorder) {}

  void pod(const nlohmann::json& pod, std::string_view type, std::string_view reason,
           std::string message) const;
  void container(const nlohmann::json& pod, const std::string& containerName, std::string_view type,
                 std::string_view reason, std::string message) const;

 private:
  kubeapi::EventRecorder* recorder_;
};

}  // namespace berth::kubelet
