#pragma once
// The Summary API (stats/v1alpha1, GET /stats/summary) and the resource metrics
// (GET /metrics/resource, what metrics-server and so `kubectl top` read), built from the CRI's
// ListPodSandboxStats/ListContainerStats and the node's /proc. Building is a pure function of
// those inputs; the node's CPU rate needs two samples, kept by NodeUsageSampler.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "runtime/v1/api.pb.h"

namespace berth::kubelet::server {

struct CpuStats {
  std::int64_t time = 0;  // ns since the epoch
  std::optional<std::uint64_t> usageNanoCores;
  std::optional<std::uint64_t> usageCoreNanoSeconds;
};

struct MemoryStats {
  std::int64_t time = 0;
  std::optional<std::uint64_t> availableBytes;
  std::optional<std::uint64_t> usageBytes;
  std::optional<std::uint64_t> workingSetBytes;
  std::optional<std::uint64_t> rssBytes;
  std::optional<std::uint64_t> pageFaults;
  std::optional<std::uint64_t> majorPageFaults;
};

struct InterfaceStats {
  std::string name;
  std::optional<std::uint64_t> rxBytes, rxErrors, txBytes, txErrors;
};

struct NetworkStats {
  std::int64_t time = 0;
  std::vector<InterfaceStats> interfaces;  // the default one first
};

struct ContainerSummary {
  std::string name;
  std::optional<CpuStats> cpu;
  std::optional<MemoryStats> memory;
};

struct PodSummary {
  std::string name, namespace_, uid;
  std::optional<CpuStats> cpu;
  std::optional<MemoryStats> memory;
  std::optional<NetworkStats> network;
  std::vector<ContainerSummary> containers;
};

struct NodeSummary {
  std::string nodeName;
  std::optional<std::int64_t> startTime;  // boot, ns since the epoch
  std::optional<CpuStats> cpu;
  std::optional<MemoryStats> memory;
};

struct Summary {
  NodeSummary node;
  std::vector<PodSummary> pods;
};

// Pods from the sandbox stats, their containers from the container stats (matched by the pod
// UID label); a pod without CPU or memory of its own gets its containers' sums.
std::vector<PodSummary> podSummaries(const std::vector<::runtime::v1::PodSandboxStats>& pods,
                                     const std::vector<::runtime::v1::ContainerStats>& containers);

nlohmann::json summaryJson(const Summary& summary);
// Prometheus text format 0.0.4 with the kubelet's metric and label names, samples stamped with
// their stats' time.
std::string resourceMetricsText(const Summary& summary);

// /proc/stat's first line as cumulative CPU time in ns (user+nice+system+irq+softirq+steal).
[[nodiscard]] Result<std::uint64_t> parseProcStatCpu(std::string_view procStat,
                                                     long clockTicksPerSecond);
// /proc/meminfo as node memory (cadvisor's root cgroup view: usage = total - free,
// workingSet = usage - inactive file, rss = anon pages).
[[nodiscard]] Result<MemoryStats> parseMeminfo(std::string_view meminfo);

// Samples the node from /proc; remembers the last CPU sample to give usageNanoCores.
class NodeUsageSampler {
 public:
  explicit NodeUsageSampler(std::string procRoot = "/proc") : procRoot_(std::move(procRoot)) {}
  [[nodiscard]] Result<NodeSummary> sample(const std::string& nodeName);

 private:
  std::string procRoot_;
  std::mutex mu_;
  std::optional<std::pair<std::int64_t, std::uint64_t>> last_;  // (time, cpu ns)
};

}  // namespace berth::kubelet::server
