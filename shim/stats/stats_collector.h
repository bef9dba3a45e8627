#pragma once
// What berth-cri's ContainerStats, ListContainerStats, PodSandboxStats and ListPodSandboxStats
// answer, as plain structs (shim/stats/usage.h): a container's cgroup numbers with the CPU rate
// since the previous sample and its writable layer; a pod's cgroup numbers, network counters,
// process count and its containers' stats (containerd 1.7's podSandboxStats).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "runtime/cgroup_manager.h"
#include "shim/stats/cgroup_stats.h"
#include "shim/stats/cpu_rate.h"
#include "shim/stats/usage.h"

namespace berth::cri::stats {

// Where a container's and a pod's cgroups are. The host's answer follows the runtime's placement
// (cgroup_stats.h); unit tests point it at fake trees.
class CgroupResolver {
 public:
  virtual ~CgroupResolver() = default;
  [[nodiscard]] virtual Result<runtime::CgroupManager> container(const std::string& cgroupsPath,
                                                                 const std::string& id) = 0;
  [[nodiscard]] virtual Result<runtime::CgroupManager> pod(const std::string& cgroupParent) = 0;
};

class HostCgroupResolver final : public CgroupResolver {
 public:
  explicit HostCgroupResolver(CgroupDriver driver) : driver_(driver) {}
  Result<runtime::CgroupManager> container(const std::string& cgroupsPath,
                                           const std::string& id) override;
  Result<runtime::CgroupManager> pod(const std::string& cgroupParent) override;

 private:
  CgroupDriver driver_;
};

struct ContainerStatsInput {
  std::string id;
  std::string cgroupsPath;        // linux.cgroupsPath of the container's OCI spec
  std::string writableLayerDir;   // its overlay upper dir; empty when it has none
  std::string imageFsMountpoint;  // FilesystemIdentifier.mountpoint (the image store's root)
};

struct PodStatsInput {
  std::string id;
  std::string cgroupParent;  // PodSandboxConfig.linux.cgroup_parent; empty: no pod cgroup
  std::string netnsPath;     // the pinned netns; empty for host network
  std::vector<ContainerStatsInput> containers;  // the pod's running containers
};

class StatsCollector {
 public:
  using Clock = std::function<int64_t()>;  // nanoseconds since the epoch
  static int64_t realtimeNow();

  // Writable-layer usage is a directory walk: it is measured at most once per `diskUsageMaxAge`
  // per container (containerd refreshes its snapshot sizes every 10 s) and the answer carries the
  // time it was measured.
  explicit StatsCollector(std::unique_ptr<CgroupResolver> resolver, Clock clock = realtimeNow,
                          std::chrono::nanoseconds diskUsageMaxAge = std::chrono::seconds(10));

  // A container without a cgroup (created, not started; or exited and gone) has no cpu/memory.
  [[nodiscard]] Result<ContainerStats> containerStats(const ContainerStatsInput& in);
  [[nodiscard]] Result<PodSandboxStats> podStats(const PodStatsInput& in);
  // Drops what is cached for a removed container or pod.
  void forget(const std::string& id);

 private:
  [[nodiscard]] Result<FilesystemUsage> writableLayer(const ContainerStatsInput& in, int64_t now);

  std::unique_ptr<CgroupResolver> resolver_;
  Clock clock_;
  int64_t diskUsageMaxAge_;
  CpuRateCache containerRates_;
  CpuRateCache podRates_;
  std::mutex layersMu_;
  std::unordered_map<std::string, FilesystemUsage> layers_;
};

}  // namespace berth::cri::stats
