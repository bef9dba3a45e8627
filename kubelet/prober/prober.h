#pragma once
// One run of a container's probe (prober.go's runProbe): picks the handler the probe names —
// exec, httpGet, tcpSocket or grpc — with timeoutSeconds, the pod IP as the default host and
// ports resolved against the container, and tries again while the handler errors.
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubelet/prober/probe_types.h"

namespace berth::kubelet::prober {

// A probe's integer field with the API server's default for a pod that was not defaulted
// (timeoutSeconds 1, periodSeconds 10, successThreshold 1, failureThreshold 3, ...).
std::int64_t probeField(const nlohmann::json& probe, std::string_view field);

class Prober {
 public:
  explicit Prober(ExecFunction exec) : exec_(std::move(exec)) {}

  // The handler once. An error means neither success nor failure: a port that does not
  // resolve, no handler, a runtime that could not exec.
  [[nodiscard]] Result<ProbeOutcome> runProbe(const nlohmann::json& probe,
                                              const nlohmann::json& container,
                                              const std::string& containerId,
                                              const std::string& podIp) const;
  // runProbe, tried up to 3 times while it errors (runProbeWithRetries, maxProbeRetries).
  [[nodiscard]] Result<ProbeOutcome> probe(const nlohmann::json& probe,
                                           const nlohmann::json& container,
                                           const std::string& containerId,
                                           const std::string& podIp) const;

 private:
  ExecFunction exec_;
};

}  // namespace berth::kubelet::prober
