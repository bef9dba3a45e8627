#pragma once
// What the kubelet's :10250 API shows, from the daemon's own state: the pods it runs (static pods
// rather than their mirrors), the runtime's pods and containers over CRI, container log files,
// /configz and the probe counters.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kubelet/cri_client.h"
#include "kubelet/pod_sources.h"
#include "kubelet/prober/probe_manager.h"
#include "kubelet/server/kubelet_server.h"

namespace berth::kubelet {

// The PLEG's counters (pkg/kubelet/metrics): relists of the runtime and the evented PLEG's
// connections to its container event stream.
struct PlegCounters {
  std::atomic<std::uint64_t> relists{0};
  std::atomic<std::uint64_t> relistMicros{0};  // summed duration
  std::atomic<std::uint64_t> eventedConnections{0};
  std::atomic<std::uint64_t> eventedErrors{0};
};

class NodeServerHost final : public server::KubeletServerHost {
 public:
  NodeServerHost(const PodSources& pods, CriClient& cri, std::string podLogsDir,
                 nlohmann::json configz, std::function<bool()> healthy,
                 const prober::ProbeManager& probes, const PlegCounters& pleg)
      : pods_(pods),
        cri_(cri),
        podLogsDir_(std::move(podLogsDir)),
        configz_(std::move(configz)),
        healthy_(std::move(healthy)),
        probes_(probes),
        pleg_(pleg) {}

  std::vector<nlohmann::json> pods() override;
  std::vector<nlohmann::json> runningPods() override;
  Result<server::ContainerLogLocation> containerLog(const std::string& ns, const std::string& pod,
                                                    const std::string& container,
                                                    bool previous) override;
  bool containerRunning(const std::string& containerId) override;
  Result<std::string> containerId(const std::string& ns, const std::string& pod,
                                  const std::string& podUid, const std::string& container) override;
  Result<std::string> podSandboxId(const std::string& ns, const std::string& pod,
                                   const std::string& podUid) override;
  CriClient& cri() override { return cri_; }
  nlohmann::json configz() override { return configz_; }
  Status syncLoopHealthy() override;
  std::string probeMetrics() override;
  std::string kubeletMetrics() override;

 private:
  // The UID of the pod ns/name (checked against `wantUid` when given).
  Result<std::string> podUid(const std::string& ns, const std::string& pod,
                             const std::string& wantUid) const;

  const PodSources& pods_;
  CriClient& cri_;
  std::string podLogsDir_;
  nlohmann::json configz_;
  std::function<bool()> healthy_;
  const prober::ProbeManager& probes_;
  const PlegCounters& pleg_;
};

// prober_probe_total in the Prometheus text format, as /metrics/probes serves it.
std::string renderProbeMetrics(const std::vector<prober::ProbeCounter>& counters);

}  // namespace berth::kubelet
