#pragma once
// An OCI runtime driven through runc's command line (berth-runtime, runc, crun): the one place
// that knows the global flags (--root, --systemd-cgroup) and the verbs berth-cri uses. `create`
// is not here: berth-monitor runs it, holding the container's stdio.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/spawn.h"
#include "common/unique_fd.h"
#include "shim/cri_config.h"

namespace berth::cri {

// What `runtime exec` gets for its stdio (invalid fds become /dev/null).
struct ExecStdio {
  int stdinFd = -1;
  int stdoutFd = -1;
  int stderrFd = -1;
};

class OciRuntime {
 public:
  OciRuntime(std::string name, const RuntimeHandler& handler, CgroupDriver driver);

  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }
  // The flags before the verb, for berth-monitor's --runtime-arg.
  const std::vector<std::string>& globalArgs() const { return globalArgs_; }

  [[nodiscard]] Status start(const std::string& id) const;
  // `kill [--all] <id> <signal>`. A container that is already gone is success.
  [[nodiscard]] Status kill(const std::string& id, int signal, bool all = false) const;
  // `delete --force <id>`; a container the runtime does not know is success.
  [[nodiscard]] Status remove(const std::string& id) const;
  // `update --resources -` with the runtime-spec linux.resources JSON on stdin.
  [[nodiscard]] Status update(const std::string& id, const std::string& resourcesJson) const;

  // `exec --process <file> [--tty --console-socket <sock>] --pid-file <file> <id>`: started, not
  // waited for; the runtime process exits when the command does (its owner kills it on an early
  // return).
  struct ExecArgs {
    std::string id;
    std::string processFile;
    std::string pidFile;
    std::string consoleSocket;  // tty only
    ExecStdio stdio;
  };
  [[nodiscard]] Result<ChildProcess> startExec(const ExecArgs& args) const;
  // Runs the exec to completion with stdout and stderr captured (args.stdio is ignored); after
  // `timeout` the runtime and the process it started (from the pid file) are killed and the
  // result is kDeadlineExceeded.
  [[nodiscard]] Result<SpawnResult> runExec(const ExecArgs& args,
                                            std::optional<std::chrono::milliseconds> timeout) const;

 private:
  SpawnOptions execOptions(const ExecArgs& args) const;
  [[nodiscard]] Status run(std::vector<std::string> args, const std::string& what,
                           std::string stdinData = {}) const;
  std::string name_;
  std::string path_;
  std::vector<std::string> globalArgs_;
};

}  // namespace berth::cri
