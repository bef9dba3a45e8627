#pragma once
// The container's cgroup: one owner for its directories in every hierarchy. This is the cgroupfs
// driver for v1/hybrid hosts (a directory per v1 hierarchy) and for pure v2 hosts (one directory);
// resource limits and the systemd driver build on it (see docs/ARCHITECTURE.md).

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "runtime/cgroup_resources.h"
#include "runtime/init_plan.h"

namespace berth::runtime {

class CgroupManager {
 public:
  // Resolves runc's cgroupfs semantics: an absolute cgroupsPath is taken from each hierarchy's
  // root; a relative one (or "<id>" when empty) nests under this process's own cgroup.
  [[nodiscard]] static Result<CgroupManager> forContainer(const std::string& cgroupsPath,
                                                          const std::string& id);
  // The systemd driver (--systemd-cgroup): cgroupsPath "slice:prefix:name" names a transient
  // scope, started over D-Bus when the first process joins, with Delegate=yes and the resource
  // properties systemd knows; the rest is written to the delegated cgroup. cgroup v2 only.
  [[nodiscard]] static Result<CgroupManager> forSystemdScope(const std::string& cgroupsPath,
                                                             const std::string& id);
  // Rebuilds the manager from paths saved in the container's state.
  static CgroupManager fromPaths(bool unified, std::map<std::string, std::string> paths,
                                 bool systemd = false);

  bool unified() const { return unified_; }
  bool systemd() const { return !scope_.empty(); }
  // Hierarchy name ("memory", "name=systemd", "" for v2) → the container's directory.
  const std::map<std::string, std::string>& paths() const { return paths_; }

  // Creates the directories (cpuset values copied from the parent so tasks can join).
  [[nodiscard]] Status create();
  // After create(): some directory of the container was there already (shared with others).
  bool preexisting() const { return preexisting_; }
  [[nodiscard]] Status addProcess(pid_t pid);
  // Where a new process goes without a cgroup.procs write by another process, which takes the
  // kernel's global threadgroup lock and, after a quiet spell, waits a full RCU grace period
  // (~10 ms here): the cgroup v2 directory it is cloned into (CLONE_INTO_CGROUP; a v2 host's only
  // hierarchy, a hybrid host's bare one; "" when none) and the v1 directories whose `tasks` file
  // it writes "0" to itself (a single thread moving itself skips the lock). Both are empty for
  // the systemd driver, which moves the process with its scope.
  std::string cloneIntoDir() const;
  // The container's cgroup2 directory: a v2 host's one (systemd scope or cgroupfs), a hybrid
  // host's bare one; "" on a v1-only host.
  std::string unifiedDir() const;
  std::vector<std::string> selfJoinDirs() const;
  // Every pid in the cgroup (and its descendants).
  [[nodiscard]] Result<std::vector<pid_t>> pids() const;
  [[nodiscard]] Status setFrozen(bool frozen);
  [[nodiscard]] Result<bool> frozen() const;
  // Signals every process; with SIGKILL uses cgroup.kill where the kernel has it.
  [[nodiscard]] Status signalAll(int sig);
  // Rolls back create(): removes only the directories create() made (a pre-existing cgroup, say
  // one a test or an orchestrator prepared, stays).
  void undoCreate();
  // Removes the directories (after the processes are gone). Missing ones are fine.
  [[nodiscard]] Status destroy();
  // Performs the writes in order. A controller the host lacks, or a file its kernel lacks, is an
  // error naming the spec field. On v2 the controllers are first enabled in every ancestor.
  [[nodiscard]] Status apply(const std::vector<CgroupWrite>& writes);
  // cgroup v2: the device rules as an eBPF program on the container's directory.
  [[nodiscard]] Status setDeviceRules(const std::vector<ocispec::DeviceCgroup>& rules);
  // exec --cgroup: sub-cgroups of this one, for all hierarchies ("sub") or per controller
  // ("memory:sub", "cpu,cpuacct:sub"). A path that leaves the cgroup is an error.
  [[nodiscard]] Result<CgroupManager> subCgroups(const std::vector<std::string>& specs) const;
  // For a "cgroup" mount on a v1 host: the hierarchies to bind under /sys/fs/cgroup.
  std::vector<CgroupBind> binds() const;

 private:
  std::string procsDir() const;
  // create() for a directory whose parents are missing too.
  [[nodiscard]] Status createWithParents(const std::string& dir);
  // The directory of the hierarchy holding `controller` ("" when none does).
  std::string dirFor(const std::string& controller) const;
  [[nodiscard]] Status enableControllers(const std::set<std::string>& controllers);
  // Best effort, as runc: every controller in the root's cgroup.controllers, at each level.
  void enableAvailableControllers();
  struct V2Levels {
    std::filesystem::path root;                 // the cgroup2 mount holding the directory
    std::vector<std::filesystem::path> levels;  // root .. the container's parent
  };
  [[nodiscard]] Result<V2Levels> v2Levels() const;
  bool unified_ = false;
  std::map<std::string, std::string> paths_;
  std::vector<std::string> created_;
  bool preexisting_ = false;
  // systemd driver: the scope unit, whether it is started, and writes waiting for it.
  std::string scope_;
  bool scopeStarted_ = false;
  std::vector<CgroupWrite> pending_;
  std::optional<std::vector<ocispec::DeviceCgroup>> pendingDevices_;
  [[nodiscard]] Status startScope(pid_t pid);
};

}  // namespace berth::runtime
