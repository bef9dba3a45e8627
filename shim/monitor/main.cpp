// berth-monitor: one per container, started by berth-cri; see monitor.h and monitor_protocol.h.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/command_line.h"
#include "common/file_util.h"
#include "shim/monitor/monitor.h"

namespace {

using berth::shim::Monitor;
using berth::shim::MonitorOptions;

// fds 0-2 always open (on /dev/null if the caller closed them), so that no pipe or socket of ours
// lands on them and is mistaken for stdio.
void fillStdio() {
  for (int fd = 0; fd < 3; ++fd) {
    if (::fcntl(fd, F_GETFD) < 0) {
      int n = ::open("/dev/null", O_RDWR);
      if (n >= 0 && n != fd) {
        ::dup2(n, fd);
        ::close(n);
      }
    }
  }
}

void report(int syncFd, const nlohmann::json& message) {
  if (syncFd < 0) return;
  (void)berth::writeAll(syncFd, message.dump() + "\n");
  ::close(syncFd);
}

}  // namespace

int main(int argc, char** argv) {
  MonitorOptions o;
  int syncFd = -1;
  bool foreground = false;
  std::string bundle, logPath, exitFile, socketDir;
  CLI::App app{
      "berth-monitor: holds one container's stdio, writes its CRI log, serves attach and "
      "records its exit",
      "berth-monitor"};
  app.add_option("--id", o.id, "container id")->required();
  app.add_option("--bundle", bundle, "OCI bundle directory")->required();
  app.add_option("--runtime", o.runtimePath, "OCI runtime (runc command line)")->required();
  app.add_option("--runtime-arg", o.runtimeArgs,
                 "a global runtime flag, before `create` (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--log-path", logPath, "CRI log file")->required();
  app.add_option("--exit-file", exitFile, "where the exit status is recorded")->required();
  app.add_option("--socket-dir", socketDir, "directory for the attach and ctl sockets")->required();
  app.add_flag("--terminal,-t", o.terminal, "allocate a pty");
  app.add_flag("--stdin,-i", o.stdin, "keep the container's stdin open for attach");
  app.add_flag("--stdin-once", o.stdinOnce, "close stdin when the first attach session ends");
  app.add_option("--max-log-line", o.maxLogLine, "longest log line before it is split (bytes)")
      ->check(CLI::PositiveNumber);
  app.add_option("--sync-fd", syncFd,
                 "fd that receives {\"pid\":N} or {\"error\":\"...\"} once the container exists");
  app.add_flag("--foreground", foreground, "do not detach into a new session");
  if (auto exit = berth::parseCommandLine(app, argc, argv)) return *exit;

  fillStdio();
  if (syncFd >= 0 && ::fcntl(syncFd, F_SETFD, FD_CLOEXEC) < 0) {
    std::fprintf(stderr, "berth-monitor: --sync-fd %d: not an open file descriptor\n", syncFd);
    return 1;
  }
  // Absolute paths, then cwd / : the monitor lives as long as the container and pins nothing.
  std::error_code ec;
  o.bundle = std::filesystem::absolute(bundle, ec);
  o.logPath = std::filesystem::absolute(logPath, ec);
  o.exitFile = std::filesystem::absolute(exitFile, ec);
  o.socketDir = std::filesystem::absolute(socketDir, ec);
  if (ec || ::chdir("/") < 0) {
    std::fprintf(stderr, "berth-monitor: resolve paths: %s\n", ec.message().c_str());
    return 1;
  }
  ::umask(0027);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  if (!foreground) {
    // berth-cri waits for this parent and reads the sync fd; the monitor outlives berth-cri.
    pid_t pid = ::fork();
    if (pid < 0) {
      std::perror("berth-monitor: fork");
      return 1;
    }
    if (pid > 0) ::_exit(0);
    ::setsid();
  }

  auto monitor = Monitor::create(o);
  if (!monitor) {
    std::fprintf(stderr, "berth-monitor: %s\n", monitor.error().message().c_str());
    report(syncFd, {{"error", monitor.error().message()}});
    return 1;
  }
  report(syncFd, {{"pid", (*monitor)->containerPid()}});
  auto exited = (*monitor)->run();
  if (!exited) {
    std::fprintf(stderr, "berth-monitor: %s\n", exited.error().message().c_str());
    return 1;
  }
  return 0;
}
