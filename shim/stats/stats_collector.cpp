#include "shim/stats/stats_collector.h"

#include <time.h>

#include "shim/stats/disk_usage.h"
#include "shim/stats/net_stats.h"

namespace berth::cri::stats {

namespace {

// The cgroup's numbers, or none when its directories are gone.
Result<std::optional<CgroupStats>> readIfPresent(Result<runtime::CgroupManager> cgroup,
                                                 int64_t now) {
  if (!cgroup) return std::unexpected(std::move(cgroup).error());
  auto stats = readCgroupStats(*cgroup, now);
  if (!stats && stats.error().code() == Code::kNotFound) return std::nullopt;
  if (!stats) return std::unexpected(std::move(stats).error());
  return std::move(*stats);
}

// What a container's and a pod's stats share: cpu (with the rate since `id`'s previous sample),
// memory and io.
template <class Stats>
void takeCgroupStats(const CgroupStats& cgroup, CpuRateCache& rates, const std::string& id,
                     Stats& out) {
  out.cpu = cgroup.cpu;
  out.memory = cgroup.memory;
  out.io = cgroup.io;
  if (out.cpu)
    out.cpu->usageNanoCores = rates.update(id, out.cpu->usageCoreNanoSeconds, out.cpu->timestamp);
}

}  // namespace

Result<runtime::CgroupManager> HostCgroupResolver::container(const std::string& cgroupsPath,
                                                             const std::string& id) {
  return containerCgroup(cgroupsPath, id, driver_);
}

Result<runtime::CgroupManager> HostCgroupResolver::pod(const std::string& cgroupParent) {
  return podCgroup(cgroupParent, driver_);
}

int64_t StatsCollector::realtimeNow() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

StatsCollector::StatsCollector(std::unique_ptr<CgroupResolver> resolver, Clock clock,
                               std::chrono::nanoseconds diskUsageMaxAge)
    : resolver_(std::move(resolver)),
      clock_(std::move(clock)),
      diskUsageMaxAge_(diskUsageMaxAge.count()) {}

Result<FilesystemUsage> StatsCollector::writableLayer(const ContainerStatsInput& in, int64_t now) {
  {
    std::lock_guard lock(layersMu_);
    auto it = layers_.find(in.id);
    if (it != layers_.end() && now - it->second.timestamp < diskUsageMaxAge_) return it->second;
  }
  FilesystemUsage layer{.timestamp = now, .mountpoint = in.imageFsMountpoint};
  if (!in.writableLayerDir.empty()) {
    auto usage = diskUsage(in.writableLayerDir);
    // No upper dir (yet, or any more) is zero usage, as containerd answers without a snapshot.
    if (!usage && usage.error().code() != Code::kNotFound)
      return std::unexpected(std::move(usage).error().context("writable layer"));
    if (usage) {
      layer.usedBytes = usage->bytes;
      layer.inodesUsed = usage->inodes;
    }
  }
  std::lock_guard lock(layersMu_);
  layers_[in.id] = layer;
  return layer;
}

Result<ContainerStats> StatsCollector::containerStats(const ContainerStatsInput& in) {
  int64_t now = clock_();
  ContainerStats out;
  out.id = in.id;
  auto cgroup = BERTH_TRY_CTX(readIfPresent(resolver_->container(in.cgroupsPath, in.id), now),
                              fmt::format("container {}", in.id));
  if (cgroup) {
    takeCgroupStats(*cgroup, containerRates_, in.id, out);
    out.swap = cgroup->swap;
    out.processCount = cgroup->processCount;
  }
  out.writableLayer = BERTH_TRY_CTX(writableLayer(in, now), fmt::format("container {}", in.id));
  return out;
}

Result<PodSandboxStats> StatsCollector::podStats(const PodStatsInput& in) {
  int64_t now = clock_();
  PodSandboxStats out;
  out.id = in.id;
  if (!in.cgroupParent.empty()) {
    auto cgroup = BERTH_TRY_CTX(readIfPresent(resolver_->pod(in.cgroupParent), now),
                                fmt::format("pod {} cgroup {}", in.id, in.cgroupParent));
    if (cgroup) takeCgroupStats(*cgroup, podRates_, in.id, out);
  }
  if (!in.netnsPath.empty())
    out.network = BERTH_TRY_CTX(readNetworkStats(in.netnsPath, now), fmt::format("pod {}", in.id));
  out.process.timestamp = now;
  for (const auto& c : in.containers) {
    out.containers.push_back(BERTH_TRY_CTX(containerStats(c), fmt::format("pod {}", in.id)));
    out.process.processCount += out.containers.back().processCount;
  }
  return out;
}

void StatsCollector::forget(const std::string& id) {
  containerRates_.forget(id);
  podRates_.forget(id);
  std::lock_guard lock(layersMu_);
  layers_.erase(id);
}

}  // namespace berth::cri::stats
