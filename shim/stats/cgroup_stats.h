#pragma once
// CPU, memory, swap and process numbers of one cgroup, read from cgroupfs the way containerd's
// CRI plugin reads them (through containerd/cgroups): cgroup v1 controllers (cpuacct, memory,
// pids) on legacy and hybrid hosts, the unified hierarchy on v2. Where a container's cgroup is
// comes from runtime::CgroupManager, the one owner of berth-runtime's placement rules.

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "runtime/cgroup_manager.h"
#include "shim/cgroup_driver.h"
#include "shim/stats/usage.h"

namespace berth::cri::stats {

// The container's cgroup as the runtime placed it from linux.cgroupsPath: cgroupfs takes an
// absolute path from each hierarchy's root and nests a relative one under this process's cgroup;
// systemd reads "slice:prefix:name" (cgroup v2).
[[nodiscard]] Result<runtime::CgroupManager> containerCgroup(const std::string& cgroupsPath,
                                                             const std::string& id,
                                                             CgroupDriver driver);
// The pod's cgroup from PodSandboxConfig.linux.cgroup_parent: a cgroupfs path
// ("/kubepods/burstable/pod<uid>") or a systemd slice ("kubepods-burstable-pod<uid>.slice").
[[nodiscard]] Result<runtime::CgroupManager> podCgroup(const std::string& cgroupParent,
                                                       CgroupDriver driver);

struct CgroupStats {
  std::optional<CpuUsage> cpu;        // unset when the host has no cpu accounting hierarchy
  std::optional<MemoryUsage> memory;  // unset without a memory hierarchy
  std::optional<SwapUsage> swap;      // unset without swap accounting
  std::optional<IoUsage> io;          // unset without io pressure (no cgroup2 directory, PSI off)
  uint64_t processCount = 0;          // cgroup.procs of the cgroup and its descendants
};

// Whether the kernel's OOM killer killed a task of the cgroup: the oom_kill count of
// memory.events (v2) or memory.oom_control (v1). false without a memory hierarchy.
[[nodiscard]] Result<bool> oomKilled(const runtime::CgroupManager& cgroup);

// Parses a <resource>.pressure file ("some avg10=0.00 avg60=0.00 avg300=0.00 total=0" and a
// "full" line); a malformed line is Internal naming `file`.
[[nodiscard]] Result<PsiStats> parsePsi(const std::string& text, const std::string& file);
// Reads the cgroup's files; every usage gets `timestamp`. Pressure (PSI) comes from the cgroup2
// directory, which a hybrid host has too. A cgroup directory that does not exist
// is NotFound (the container is gone); a file that can't be parsed is Internal naming it.
[[nodiscard]] Result<CgroupStats> readCgroupStats(const runtime::CgroupManager& cgroup,
                                                  int64_t timestamp);

}  // namespace berth::cri::stats
