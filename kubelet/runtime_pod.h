#pragma once
// What the container runtime holds for one pod (the kubelet's kubecontainer.PodStatus): its
// sandboxes and containers as CRI reports them, grouped by the pod UID the kubelet labelled
// them with. Plain data, so the planners (pod_actions.h, api_pod_status.h) are pure functions
// tested with tables.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace berth::kubelet {

// The labels and annotations the kubelet puts on every sandbox and container, as the upstream
// kubelet names them, so `crictl ps` and other tools read ours as theirs.
inline constexpr const char* kPodNameLabel = "io.kubernetes.pod.name";
inline constexpr const char* kPodNamespaceLabel = "io.kubernetes.pod.namespace";
inline constexpr const char* kPodUidLabel = "io.kubernetes.pod.uid";
inline constexpr const char* kContainerNameLabel = "io.kubernetes.container.name";
inline constexpr const char* kContainerHashAnnotation = "io.kubernetes.container.hash";
inline constexpr const char* kRestartCountAnnotation = "io.kubernetes.container.restartCount";
inline constexpr const char* kTerminationMessagePathAnnotation =
    "io.kubernetes.container.terminationMessagePath";
inline constexpr const char* kTerminationMessagePolicyAnnotation =
    "io.kubernetes.container.terminationMessagePolicy";
inline constexpr const char* kTerminationGraceAnnotation =
    "io.kubernetes.pod.terminationGracePeriod";
inline constexpr const char* kKubeletManagedLabel = "io.kubernetes.kubelet.managed";  // ours

struct SandboxStatus {
  std::string id;
  bool ready = false;
  std::uint32_t attempt = 0;
  std::int64_t createdAt = 0;    // ns since the epoch
  std::vector<std::string> ips;  // primary first
};

enum class ContainerState { kCreated, kRunning, kExited, kUnknown };

struct ContainerStatus {
  std::string id;
  std::string name;
  ContainerState state = ContainerState::kUnknown;
  std::int64_t createdAt = 0;  // ns since the epoch
  std::int64_t startedAt = 0;
  std::int64_t finishedAt = 0;
  int exitCode = 0;
  std::string reason;
  std::string message;
  std::string image;     // as the spec named it
  std::string imageRef;  // the resolved digest reference
  std::string imageId;
  std::uint64_t hash = 0;  // of the container spec it was created from
  int restartCount = 0;
  std::string logPath;
  std::int64_t graceSeconds =
      -1;  // the pod's terminationGracePeriodSeconds when created (-1: unknown)
};

// Why a container is waiting, from the last sync ("CrashLoopBackOff", "ErrImagePull",
// "CreateContainerConfigError", ...): the reason and message its API status shows.
struct WaitingReason {
  std::string reason;
  std::string message;
};

struct RuntimePodStatus {
  std::string uid;
  std::string name;
  std::string ns;
  // Newest first.
  std::vector<SandboxStatus> sandboxes;
  // Newest first; several per name when a container was restarted.
  std::vector<ContainerStatus> containers;

  // The newest instance of the container named `name`.
  const ContainerStatus* find(const std::string& name) const {
    for (const auto& c : containers)
      if (c.name == name) return &c;
    return nullptr;
  }
};

}  // namespace berth::kubelet
