#pragma once
// Container lifecycle operations (runtime-spec runtime.md "Operations"), shared by the commands:
// create, start, kill, delete, and the exec of extra processes.

#include <signal.h>

#include <optional>
#include <string>
#include <vector>

#include "common/child_process.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "ocispec/runtime_spec.h"
#include "runtime/cgroup_manager.h"
#include "runtime/container_record.h"

namespace berth::runtime {

struct GlobalOptions {
  std::string root = kDefaultRoot;
  bool systemdCgroup = false;
};

struct CreateOptions {
  std::string id;
  std::string bundle;  // default: current directory
  std::string consoleSocket;
  std::string pidFile;
  bool noPivot = false;
  bool noNewKeyring = false;
  int preserveFds = 0;
  // `run` in the foreground with a terminal: the runtime receives the pty master itself.
  bool ownTerminal = false;
  // `run`: no exec.fifo; the same runtime starts the container (Lifecycle::startCreated).
  bool startHere = false;
};

struct Created {
  ContainerRecord record;
  ChildProcess init;     // the container's init; `create` releases it, `run` waits for it
  UniqueFd ptyMaster;    // set when ownTerminal
  ocispec::Spec spec;    // the config it was created from
  UniqueFd startSocket;  // startHere: the init's sync socket, which releases it
};

struct ExecOptions {
  std::string id;
  std::optional<ocispec::Process> process;  // --process file, else built from the flags below
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  std::string user;  // uid[:gid]
  std::vector<uint32_t> additionalGids;
  std::vector<std::string> caps;
  std::vector<std::string> cgroups;  // --cgroup [controller[,controller]:]path
  bool tty = false;
  bool noNewPrivs = false;
  bool detach = false;
  bool ignorePaused = false;
  std::string consoleSocket;
  std::string pidFile;
  int preserveFds = 0;
};

// `update`: resources from -r (a LinuxResources JSON document) with the flags applied on top.
struct UpdateOptions {
  std::string id;
  std::optional<ocispec::Resources> resources;
  std::optional<int64_t> memory, memoryReservation, memorySwap, kernelMemory, kernelMemoryTCP;
  std::optional<uint64_t> cpuShares, cpuPeriod, cpuRtPeriod, blkioWeight;
  std::optional<int64_t> cpuQuota, cpuRtRuntime, pidsLimit;
  std::optional<std::string> cpusetCpus, cpusetMems;
  std::optional<bool> cpuIdle;
};

class Lifecycle {
 public:
  explicit Lifecycle(GlobalOptions options) : options_(std::move(options)), store_(options_.root) {}
  const ContainerStore& store() const { return store_; }

  [[nodiscard]] Result<Created> create(const CreateOptions& options);
  [[nodiscard]] Status start(const std::string& id);
  // `start` of a container this runtime created with startHere: releases the init over its
  // socket, without exec.fifo or reading back what create wrote.
  [[nodiscard]] Status startCreated(Created& created);
  [[nodiscard]] Status kill(const std::string& id, int signal, bool all);
  [[nodiscard]] Status remove(const std::string& id, bool force);
  // Tears down a container whose init has exited: leftover processes, cgroup, poststop hooks,
  // state directory. `spec`: its config when the caller has it, else read from the state.
  [[nodiscard]] Status destroy(const ContainerRecord& record, const ocispec::Spec* spec = nullptr);
  // Starts a process in the container; returns its exit status, or 0 when detached.
  [[nodiscard]] Result<int> exec(const ExecOptions& options);
  [[nodiscard]] Status pause(const std::string& id, bool pause);
  // Changes the container's resources (runc update) and remembers them in its saved config.
  [[nodiscard]] Status update(const UpdateOptions& options);

  // Record and status of an existing container.
  [[nodiscard]] Result<std::pair<ContainerRecord, ContainerStatus>> lookup(
      const std::string& id) const;
  // The config.json the container was created from.
  [[nodiscard]] Result<ocispec::Spec> savedSpec(const std::string& id) const;

 private:
  GlobalOptions options_;
  ContainerStore store_;
};

// linux.resources (and the device rules) onto the container's cgroup.
[[nodiscard]] Status applyResources(CgroupManager& cgroups, const ocispec::Spec& spec);

// runc writes --pid-file atomically: temp file then rename.
[[nodiscard]] Status writePidFile(const std::string& path, pid_t pid);

}  // namespace berth::runtime
