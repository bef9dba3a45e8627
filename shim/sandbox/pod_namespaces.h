#pragma once
// A pod's namespaces without a pause container: berth-cri creates the pod's network, IPC and UTS
// namespaces once and pins each with a bind mount of its nsfs file, so that CNI configures the
// pinned network namespace and every container of the pod joins them by path. A shared PID
// namespace needs a live init: berth-pod-init runs as its PID 1 (reaping, nothing else).
//
//   <pin-root>/net/<pod-id>   nsfs bind mounts (absent for host namespaces)
//   <pin-root>/ipc/<pod-id>
//   <pin-root>/uts/<pod-id>
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

#include "common/result.h"

namespace berth::shim {

struct PodNamespaceOptions {
  std::string podId;
  std::filesystem::path pinRoot = "/run/berth/ns";
  std::string hostname;  // set in the pod's UTS namespace
  bool hostNetwork = false;
  bool hostIpc = false;
  bool hostUts = false;  // the kubelet gives a host-network pod the host's UTS namespace
  bool sharedPid = false;
  std::filesystem::path podInitPath;  // berth-pod-init, for sharedPid
};

struct PodNamespaces {
  std::optional<std::filesystem::path> net, ipc, uts;
  // PID 1 of the pod's PID namespace (host pid), when shared; containers join /proc/<pid>/ns/pid.
  pid_t pidInit = -1;
};

// Creates and pins what the options ask for; on failure nothing is left (no pin, mount or init).
[[nodiscard]] Result<PodNamespaces> createPodNamespaces(const PodNamespaceOptions& options);

// Unpins and removes, and stops the PID namespace's init. Idempotent: what is gone already is
// not an error (CRI: StopPodSandbox and RemovePodSandbox may be called again).
[[nodiscard]] Status removePodNamespaces(const PodNamespaceOptions& options, pid_t pidInit);

}  // namespace berth::shim
