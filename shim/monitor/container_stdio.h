#pragma once
// The container's stdio as the monitor holds it: pipes for stdout and stderr (and stdin when the
// container takes input), or a pty whose master the runtime sends over a console socket. The
// runtime gets the child ends as its fds 0-2 and its init inherits them.
#include <array>
#include <filesystem>
#include <optional>

#include "common/result.h"
#include "common/unique_fd.h"

namespace berth::shim {

class ContainerStdio {
 public:
  // With terminal, consoleSocket is where the runtime is told to send the pty master.
  [[nodiscard]] static Result<ContainerStdio> create(
      bool terminal, bool withStdin, const std::optional<std::filesystem::path>& consoleSocket);
  ContainerStdio(ContainerStdio&&) = default;
  ContainerStdio& operator=(ContainerStdio&&) = default;
  ~ContainerStdio();

  // fds 0, 1, 2 of the runtime process.
  std::array<int, 3> childFds() const;
  const std::optional<std::filesystem::path>& consoleSocket() const { return consolePath_; }

  // The runtime has exited after creating the container: drops the child ends and, with a
  // terminal, takes the pty master from the console socket (which is then removed).
  [[nodiscard]] Status takeOver();

  // The container's output: the stdout pipe or the pty master, and the stderr pipe (in terminal
  // mode it only carries what the runtime itself wrote to stderr).
  int stdoutFd() const { return terminal_ ? ptyMaster_.get() : out_.get(); }
  int stderrFd() const { return err_.get(); }
  // Where the container's input goes: the stdin pipe, the pty master, or -1.
  int stdinFd() const { return terminal_ ? ptyMaster_.get() : in_.get(); }
  bool terminal() const { return terminal_; }
  void closeStdout();
  void closeStderr() { err_.reset(); }
  // EOF on the container's stdin (a pipe only: a terminal has no such end).
  void closeStdin();

 private:
  ContainerStdio() = default;

  bool terminal_ = false;
  UniqueFd childIn_, childOut_, childErr_;
  UniqueFd in_, out_, err_;
  UniqueFd consoleListener_;
  std::optional<std::filesystem::path> consolePath_;
  UniqueFd ptyMaster_;
};

}  // namespace berth::shim
