#pragma once
// The vocabulary shared by the probe handlers, the workers and the lifecycle hooks: what a handler
// concluded (pkg/probe's Result), the three probe types, and the exec seam (CRI ExecSync).
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace berth::kubelet::prober {

enum class ProbeType { kLiveness, kReadiness, kStartup };

// "Liveness", "Readiness", "Startup": the probe_type label and the event text upstream.
std::string_view probeTypeName(ProbeType type);

// What one run of a handler concluded. A Warning is a success with something to tell (an HTTP
// redirect to another host, not followed).
enum class HandlerResult { kSuccess, kWarning, kFailure, kUnknown };

struct ProbeOutcome {
  HandlerResult result = HandlerResult::kUnknown;
  std::string output;  // the handler's message: the body, the command's output, why it failed
};

// A command's end inside a container.
struct ExecResult {
  int exitCode = 0;
  std::string stdoutData;
  std::string stderrData;
};

// CRI ExecSync: runs `cmd` in the container, waiting at most `timeout` (0: no limit). A command
// that outlives the timeout is an Error with Code::kDeadlineExceeded; a non-zero exit is not an
// error. The kubelet binds it to CriClient::execSync; tests pass a function.
using ExecFunction = std::function<Result<ExecResult>(const std::string& containerId,
                                                      const std::vector<std::string>& cmd,
                                                      std::chrono::seconds timeout)>;

// "kube-<purpose>/<major>.<minor>" (the kubelet's User-Agent for probes and hooks), from the
// Kubernetes version berth speaks.
std::string kubeUserAgent(std::string_view purpose);

}  // namespace berth::kubelet::prober
