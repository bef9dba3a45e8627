#pragma once
// exec (pkg/probe/exec over the CRI's ExecSync): exit 0 is a success, another exit a failure
// with the command's output; a command that outlives timeoutSeconds fails (ExecProbeTimeout).
#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"
#include "kubelet/prober/probe_types.h"

namespace berth::kubelet::prober {

// An error is neither success nor failure (the runtime could not run the command): the worker
// retries and then drops that run, as upstream.
[[nodiscard]] Result<ProbeOutcome> execProbe(const ExecFunction& exec,
                                             const std::string& containerId,
                                             const std::vector<std::string>& cmd,
                                             std::chrono::seconds timeout);

}  // namespace berth::kubelet::prober
