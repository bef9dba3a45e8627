#pragma once
// The one owner of a child process: SIGKILLs and reaps it in the destructor unless it was waited
// for or released.

#include <sys/types.h>

#include <chrono>
#include <optional>

#include "common/result.h"

namespace berth {

// How a process ended, as wait(2) reports it.
struct ExitStatus {
  int code = 0;    // exit code, or 128+signal when signalled (the shell convention runc follows)
  int signal = 0;  // terminating signal, or 0
  static ExitStatus fromWaitStatus(int status);
  bool success() const { return code == 0 && signal == 0; }
};

class ChildProcess {
 public:
  ChildProcess() = default;
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ChildProcess(ChildProcess&& o) noexcept : pid_(o.release()) {}
  ChildProcess& operator=(ChildProcess&& o) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { killAndReap(); }

  pid_t pid() const { return pid_; }
  bool valid() const { return pid_ > 0; }
  // Stops owning the process (it lives on, someone else reaps it).
  [[nodiscard]] pid_t release() { return std::exchange(pid_, -1); }

  // Blocks until the child exits.
  [[nodiscard]] Result<ExitStatus> wait();
  // Waits up to `timeout`; nullopt when it is still running.
  [[nodiscard]] Result<std::optional<ExitStatus>> waitFor(std::chrono::milliseconds timeout);
  void killAndReap();

 private:
  pid_t pid_ = -1;
};

}  // namespace berth
