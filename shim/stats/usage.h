#pragma once
// Plain mirrors of the CRI v1 stats messages (criapi/runtime/v1/api.proto: CpuUsage, MemoryUsage,
// SwapUsage, IoUsage, PsiStats, FilesystemUsage, NetworkUsage, ProcessUsage, ContainerStats,
// LinuxPodSandboxStats), so that this library needs no gRPC: berth-cri copies them into the
// protobuf types. Timestamps are nanoseconds since the epoch; a message the CRI leaves unset is a
// std::nullopt here.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace berth::cri::stats {

// Pressure stall information of one resource, from the cgroup2 directory's <resource>.pressure
// ("some": at least one task stalled, "full": all of them). Total is in nanoseconds (the kernel
// counts microseconds), the averages are percentages over 10 s, 60 s and 300 s.
struct PsiData {
  uint64_t totalNanoSeconds = 0;
  double avg10 = 0;
  double avg60 = 0;
  double avg300 = 0;
};

struct PsiStats {
  std::optional<PsiData> full;
  std::optional<PsiData> some;
};

struct CpuUsage {
  int64_t timestamp = 0;
  uint64_t usageCoreNanoSeconds = 0;  // cumulative, all cores
  uint64_t usageNanoCores = 0;        // rate since the previous sample (CpuRateCache)
  // Not in the CRI message; the user/system split feeds the cAdvisor metrics.
  uint64_t userNanoSeconds = 0;
  uint64_t systemNanoSeconds = 0;
  std::optional<PsiStats> psi;  // unset without a cgroup2 directory or with PSI off
};

struct MemoryUsage {
  int64_t timestamp = 0;
  uint64_t workingSetBytes = 0;  // usage minus inactive file pages, floored at 0
  uint64_t availableBytes = 0;   // limit minus working set; 0 without a limit
  uint64_t usageBytes = 0;
  uint64_t rssBytes = 0;  // v1 total_rss, v2 anon (as cAdvisor)
  uint64_t pageFaults = 0;
  uint64_t majorPageFaults = 0;
  std::optional<PsiStats> psi;
};

// The CRI's IoUsage holds only the io pressure.
struct IoUsage {
  int64_t timestamp = 0;
  std::optional<PsiStats> psi;
};

struct SwapUsage {
  int64_t timestamp = 0;
  uint64_t swapAvailableBytes = 0;  // limit minus usage; 0 without a limit
  uint64_t swapUsageBytes = 0;
};

struct FilesystemUsage {
  int64_t timestamp = 0;
  std::string mountpoint;  // FilesystemIdentifier: the filesystem holding the layer
  uint64_t usedBytes = 0;
  uint64_t inodesUsed = 0;
};

struct NetworkInterfaceUsage {
  std::string name;
  uint64_t rxBytes = 0;
  uint64_t rxErrors = 0;
  uint64_t txBytes = 0;
  uint64_t txErrors = 0;
  // Not in the CRI message; for the cAdvisor network metrics.
  uint64_t rxPackets = 0;
  uint64_t rxDropped = 0;
  uint64_t txPackets = 0;
  uint64_t txDropped = 0;
};

struct NetworkUsage {
  int64_t timestamp = 0;
  std::optional<NetworkInterfaceUsage> defaultInterface;  // eth0, the CNI interface
  std::vector<NetworkInterfaceUsage> interfaces;          // every interface but lo
};

struct ProcessUsage {
  int64_t timestamp = 0;
  uint64_t processCount = 0;
};

struct ContainerStats {
  std::string id;
  // Unset when the container has no cgroup (not started, or gone).
  std::optional<CpuUsage> cpu;
  std::optional<MemoryUsage> memory;
  std::optional<SwapUsage> swap;
  std::optional<IoUsage> io;  // unset where the cgroup has no io pressure to read
  FilesystemUsage writableLayer;
  uint64_t processCount = 0;
};

struct PodSandboxStats {
  std::string id;
  // Unset when the pod has no cgroup_parent.
  std::optional<CpuUsage> cpu;
  std::optional<MemoryUsage> memory;
  std::optional<IoUsage> io;
  std::optional<NetworkUsage> network;  // unset without a pod netns (host network)
  ProcessUsage process;                 // the containers' processes, summed
  std::vector<ContainerStats> containers;
};

}  // namespace berth::cri::stats
