#pragma once
// Debian's containerd with its CRI plugin as a daemon under test (tests/integration/containerd,
// bench.cri): its root, state, opt, socket and runc root in a directory of the test's, the CRI
// plugin on a CNI directory and plugin directory of the test's, optionally in a network namespace
// of the test's. And the cleanup such daemons need on the host: their children (shims,
// monitors) outlive them by design, so they are found by command line and ended by PID; mounts
// under the test's directory are detached and the test's cgroups removed.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/child_process.h"
#include "common/result.h"

namespace berth::cri_testing {

struct ContainerdOptions {
  std::filesystem::path dir;  // everything of the daemon's under it; short (a socket lives there)
  std::string sandboxImage;
  std::string runcPath;  // the runc.v2 shim's BinaryName
  std::string cniBinDir;
  std::filesystem::path cniConfDir;
  std::string registryMirror;  // a registry host:port to reach over plain HTTP, or empty
  std::string snapshotter = "overlayfs";
  std::string netnsPath;  // run in this network namespace (nsenter --net), or empty
};

// config.toml (version 2) for the options: btrfs/zfs/devmapper/aufs snapshotters disabled,
// restrict_oom_score_adj (root lacks CAP_SYS_RESOURCE here), no AppArmor, pod netns pinned under
// the state dir, the stream server on 127.0.0.1 port 0, runc.v2 with the runc root in `dir`.
std::string containerdConfig(const ContainerdOptions& o);

class Containerd {
 public:
  // Writes the config and starts the daemon (its output in dir/containerd.log); not yet serving.
  [[nodiscard]] static Result<std::unique_ptr<Containerd>> start(ContainerdOptions options);
  ~Containerd() { stop(); }

  const ContainerdOptions& options() const { return options_; }
  std::filesystem::path socket() const { return options_.dir / "containerd.sock"; }
  std::filesystem::path log() const { return options_.dir / "containerd.log"; }
  ChildProcess& process() { return process_; }
  pid_t pid() const { return process_.pid(); }
  // SIGTERM (20 s to finish), then SIGKILL; then its shims, which outlive it, by PID.
  void stop();
  // Its shims (-address <our socket>).
  std::vector<pid_t> shims() const;

 private:
  explicit Containerd(ContainerdOptions options) : options_(std::move(options)) {}
  ContainerdOptions options_;
  ChildProcess process_;
};

// /proc/<pid>/cmdline with spaces for the NULs ("" for a process gone).
std::string cmdlineOf(pid_t pid);
std::vector<pid_t> pidsWhose(const std::function<bool(pid_t, const std::string& cmdline)>& pred);
// SIGTERM, SIGKILL after `grace`; waits (polls: not our child) until it is gone.
void endProcess(pid_t pid, std::chrono::milliseconds grace);
// Mounts under `dir`, last mounted first, detached.
void unmountUnder(const std::filesystem::path& dir);
// This process's cgroup in each hierarchy + `name`, and everything under it (empty directories
// only: rmdir).
void removeCgroups(const std::string& name);

// The directories containerd makes on the host whatever its config says that don't exist yet:
// /run/containerd (its shims' sockets, fifos, runc root) and /var/lib/cni/results (the CRI
// plugin's CNI result cache, libcni's default), to remove at the end with removeIfEmpty.
std::vector<std::filesystem::path> missingContainerdHostDirs();
// Deepest first, each only when empty (another containerd may use it by then).
void removeIfEmpty(const std::vector<std::filesystem::path>& dirs);

}  // namespace berth::cri_testing
