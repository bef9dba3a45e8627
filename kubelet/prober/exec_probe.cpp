#include "kubelet/prober/exec_probe.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace berth::kubelet::prober {

Result<ProbeOutcome> execProbe(const ExecFunction& exec, const std::string& containerId,
                               const std::vector<std::string>& cmd, std::chrono::seconds timeout) {
  auto res = exec(containerId, cmd, timeout);
  if (!res) {
    if (res.error().code() == Code::kDeadlineExceeded) {
      return ProbeOutcome{HandlerResult::kFailure,
                          fmt::format("command \"{}\" timed out", fmt::join(cmd, " "))};
    }
    return std::unexpected(std::move(res).error().context("exec probe"));
  }
  // CombinedOutput upstream: stdout, then stderr.
  std::string output = res->stdoutData + res->stderrData;
  return ProbeOutcome{res->exitCode == 0 ? HandlerResult::kSuccess : HandlerResult::kFailure,
                      std::move(output)};
}

}  // namespace berth::kubelet::prober
