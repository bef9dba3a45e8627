#include "common/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "common/file_util.h"
#include "common/unique_fd.h"

extern char** environ;

namespace berth {

namespace {

std::vector<char*> cStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v)
    out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// posix_spawn with the options' redirections; `stdinFd`, `outFd`, `errFd` (or -1) become the
// child's stdin, stdout and stderr.
Result<ChildProcess> spawnWith(const SpawnOptions& o, int stdinFd, int outFd, int errFd) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (stdinFd >= 0) posix_spawn_file_actions_adddup2(&fa, stdinFd, STDIN_FILENO);
  if (outFd >= 0) posix_spawn_file_actions_adddup2(&fa, outFd, STDOUT_FILENO);
  if (errFd >= 0) posix_spawn_file_actions_adddup2(&fa, errFd, STDERR_FILENO);
  int firstUnpassed = STDERR_FILENO + 1;
  for (auto [ours, theirs] : o.extraFds) {
    posix_spawn_file_actions_adddup2(&fa, ours, theirs);
    firstUnpassed = std::max(firstUnpassed, theirs + 1);
  }
  // Only what the options pass reaches the program: a descriptor opened without O_CLOEXEC (Asio
  // opens its listening sockets so) would otherwise live on in every daemon and container
  // monitor started from here, holding a port after its owner exits.
  posix_spawn_file_actions_addclosefrom_np(&fa, firstUnpassed);
  if (o.cwd) posix_spawn_file_actions_addchdir_np(&fa, o.cwd->c_str());
  if (o.outputFile) {
    int flags = O_WRONLY | O_CREAT | O_APPEND;
    if (outFd < 0)
      posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, o.outputFile->c_str(), flags, 0644);
    if (errFd < 0)
      posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, o.outputFile->c_str(), flags, 0644);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);

  const std::vector<std::string> args = o.args.empty() ? std::vector<std::string>{o.path} : o.args;
  auto argv = cStrings(args);  // points into `args`, which outlives the spawn
  std::vector<char*> envp;
  if (o.env) envp = cStrings(*o.env);
  pid_t pid = -1;
  bool search = o.path.find('/') == std::string::npos;
  int rc = search ? ::posix_spawnp(&pid, o.path.c_str(), &fa, &attr, argv.data(),
                                   o.env ? envp.data() : environ)
                  : ::posix_spawn(&pid, o.path.c_str(), &fa, &attr, argv.data(),
                                  o.env ? envp.data() : environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return failErrno(rc, fmt::format("exec {}", o.path));
  return ChildProcess(pid);
}

}  // namespace

Result<ChildProcess> startProgram(const SpawnOptions& o) {
  if (o.captureStdout || o.captureStderr || !o.stdinData.empty() || o.timeout) {
    return fail(Code::kInvalidArgument,
                "startProgram: capture, stdin data and timeout need runProgram");
  }
  UniqueFd devNull;
  if (o.stdinFd < 0) {
    devNull.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!devNull) return failErrno("open /dev/null");
  }
  return spawnWith(o, o.stdinFd >= 0 ? o.stdinFd : devNull.get(), o.stdoutFd, o.stderrFd);
}

Result<SpawnResult> runProgram(const SpawnOptions& o) {
  auto [inR, inW] = BERTH_TRY(makePipe());
  UniqueFd outR, outW, errR, errW;
  if (o.captureStdout) std::tie(outR, outW) = BERTH_TRY(makePipe());
  if (o.captureStderr) std::tie(errR, errW) = BERTH_TRY(makePipe());
  ChildProcess child = BERTH_TRY(spawnWith(o, inR.get(), o.captureStdout ? outW.get() : -1,
                                           o.captureStderr ? errW.get() : -1));
  pid_t pid = child.pid();
  inR.reset();
  outW.reset();
  errW.reset();

  // A program that does not read its stdin must not block us: ignore EPIPE on the write.
  struct sigaction ign {
  }, old{};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &old);
  [[maybe_unused]] auto wr = writeAll(inW.get(), o.stdinData);
  ::sigaction(SIGPIPE, &old, nullptr);
  inW.reset();

  SpawnResult result;
  auto deadline = o.timeout ? std::chrono::steady_clock::now() + *o.timeout
                            : std::chrono::steady_clock::time_point::max();
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return failErrno("pidfd_open");
  UniqueFd pidOwner(pidfd);
  bool exited = false;
  auto drain = [](UniqueFd& fd, std::string& into) {
    char buf[8192];
    ssize_t r = ::read(fd.get(), buf, sizeof buf);
    if (r > 0)
      into.append(buf, static_cast<size_t>(r));
    else if (r == 0 || errno != EINTR)
      fd.reset();
  };
  while (!exited || outR || errR) {
    // poll(2) skips negative fds: a finished source drops out of the set.
    pollfd fds[3] = {{exited ? -1 : pidfd, POLLIN, 0},
                     {outR ? outR.get() : -1, POLLIN, 0},
                     {errR ? errR.get() : -1, POLLIN, 0}};
    int wait = -1;
    if (o.timeout) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      wait = static_cast<int>(std::max<long>(0, left.count()));
    }
    int n = ::poll(fds, 3, wait);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failErrno("poll");
    }
    if (n == 0) {
      if (o.onTimeout) {
        o.onTimeout();
        (void)child.waitFor(o.timeoutGrace);
      }
      // ~ChildProcess kills and reaps it if it is still there.
      return fail(Code::kDeadlineExceeded, "{} did not exit within {}ms", o.path,
                  o.timeout->count());
    }
    if (fds[1].revents) drain(outR, result.stdoutData);
    if (fds[2].revents) drain(errR, result.stderrData);
    if (fds[0].revents) exited = true;
  }
  result.status = BERTH_TRY(child.wait());
  return result;
}

}  // namespace berth
