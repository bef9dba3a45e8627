#include "shim/sandbox/pod_namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <vector>

#include "common/child_process.h"
#include "common/file_util.h"
#include "common/scope_guard.h"

namespace berth::shim {
namespace {

struct Kind {
  const char* name;
  int flag;
};
constexpr std::array<Kind, 3> kKinds = {
    {{"net", CLONE_NEWNET}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}}};

std::filesystem::path pinPath(const PodNamespaceOptions& o, const char* kind) {
  return o.pinRoot / kind / o.podId;
}

bool wanted(const PodNamespaceOptions& o, int flag) {
  if (flag == CLONE_NEWNET) return !o.hostNetwork;
  if (flag == CLONE_NEWIPC) return !o.hostIpc;
  return !o.hostUts;
}

Status unpin(const std::filesystem::path& pin) {
  if (::umount2(pin.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return failErrno(fmt::format("unmount {}", pin.string()));
  if (::unlink(pin.c_str()) < 0 && errno != ENOENT)
    return failErrno(fmt::format("remove {}", pin.string()));
  return {};
}

// In a child forked without exec: closes every fd but `keepA` and `keepB`. It would otherwise
// hold copies of every pipe berth-cri's other threads have open (another pod's release pipe, a
// CNI plugin's stdin), and pods created in parallel would wait on each other's children for an
// EOF that never comes. Async-signal-safe (close_range is one system call).
void closeAllBut(int keepA, int keepB) {
  int lo = std::min(keepA, keepB), hi = std::max(keepA, keepB);
  if (lo > 0) ::close_range(0, static_cast<unsigned>(lo - 1), 0);
  if (hi > lo + 1) ::close_range(static_cast<unsigned>(lo + 1), static_cast<unsigned>(hi - 1), 0);
  ::close_range(static_cast<unsigned>(hi + 1), ~0U, 0);
}

// Forks a child that unshares `flags` (and sets the hostname), waits while the parent bind-mounts
// its namespaces, then exits. Only async-signal-safe calls in the child: berth-cri has threads.
Status pinNamespaces(const PodNamespaceOptions& o, int flags,
                     const std::vector<std::filesystem::path>& pins,
                     const std::vector<const char*>& kinds) {
  auto [readyR, readyW] = BERTH_TRY(makePipe());
  auto [releaseR, releaseW] = BERTH_TRY(makePipe());
  const std::string& hostname = o.hostname;
  pid_t pid = ::fork();
  if (pid < 0) return failErrno("fork");
  if (pid == 0) {
    closeAllBut(readyW.get(), releaseR.get());  // releaseW too, or the read never sees EOF
    char status = 0;
    if (::unshare(flags) < 0)
      status = static_cast<char>(errno);
    else if ((flags & CLONE_NEWUTS) && !hostname.empty() &&
             ::sethostname(hostname.data(), hostname.size()) < 0)
      status = static_cast<char>(errno);
    (void)!::write(readyW.get(), &status, 1);
    char c;
    (void)!::read(releaseR.get(), &c, 1);  // EOF: the parent has pinned them
    ::_exit(0);
  }
  ChildProcess child(pid);
  readyW.reset();
  releaseR.reset();
  char status = 1;
  if (::read(readyR.get(), &status, 1) != 1) return fail(Code::kInternal, "namespace child died");
  if (status != 0) return failErrno(status, "unshare pod namespaces");
  for (std::size_t i = 0; i < pins.size(); ++i) {
    std::string source = fmt::format("/proc/{}/ns/{}", pid, kinds[i]);
    if (::mount(source.c_str(), pins[i].c_str(), nullptr, MS_BIND, nullptr) < 0)
      return failErrno(fmt::format("pin {} on {}", source, pins[i].string()));
  }
  releaseW.reset();
  (void)child.wait();
  return {};
}

// berth-pod-init as PID 1 of a new PID namespace, detached (setsid) so that it outlives
// berth-cri; returns its host pid.
Result<pid_t> startPidInit(const PodNamespaceOptions& o) {
  // report: the init's host pid from the intermediate. exec: close-on-exec, so EOF once the init
  // has exec'd, or its errno when exec failed.
  auto [reportR, reportW] = BERTH_TRY(makePipe());
  auto [execR, execW] = BERTH_TRY(makePipe());
  std::string path = o.podInitPath.string();
  std::string arg0 = "berth-pod-init";
  char* argv[] = {arg0.data(), nullptr};
  pid_t pid = ::fork();
  if (pid < 0) return failErrno("fork");
  if (pid == 0) {
    // The intermediate: a new session, then the PID namespace's first child is its init.
    closeAllBut(reportW.get(), execW.get());
    ::setsid();
    pid_t init = -1;
    if (::unshare(CLONE_NEWPID) == 0) init = ::fork();
    if (init == 0) {
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      int devnull = ::open("/dev/null", O_RDWR);
      for (int fd = 0; fd < 3; ++fd)
        ::dup2(devnull, fd);
      ::execv(path.c_str(), argv);
      int err = errno;
      (void)!::write(execW.get(), &err, sizeof err);
      ::_exit(127);
    }
    (void)!::write(reportW.get(), &init, sizeof init);
    ::_exit(init > 0 ? 0 : 1);
  }
  ChildProcess intermediate(pid);
  reportW.reset();
  execW.reset();
  pid_t init = -1;
  ssize_t n = ::read(reportR.get(), &init, sizeof init);
  (void)intermediate.wait();
  if (n != sizeof init || init <= 0)
    return failErrno("start berth-pod-init in a new PID namespace");
  int err = 0;
  if (::read(execR.get(), &err, sizeof err) == sizeof err)
    return failErrno(err, fmt::format("run {}", path));
  return init;
}

}  // namespace

Result<PodNamespaces> createPodNamespaces(const PodNamespaceOptions& o) {
  if (o.podId.empty() || o.podId.find('/') != std::string::npos || o.podId == "." ||
      o.podId == "..")
    return fail(Code::kInvalidArgument, "pod sandbox id \"{}\" is not a file name", o.podId);
  PodNamespaces result;
  std::vector<std::filesystem::path> pins;
  std::vector<const char*> kinds;
  int flags = 0;
  auto rollback = defer([&] {
    for (const auto& p : pins)
      (void)unpin(p);
    if (result.pidInit > 0) {
      ::kill(result.pidInit, SIGKILL);
    }
  });
  for (const Kind& k : kKinds) {
    if (!wanted(o, k.flag)) continue;
    auto pin = pinPath(o, k.name);
    BERTH_TRY(makeDirs(pin.parent_path(), 0711));
    UniqueFd f(::open(pin.c_str(), O_CREAT | O_EXCL | O_RDONLY | O_CLOEXEC, 0));
    if (!f) {
      Error e = errnoError(errno, fmt::format("create {}", pin.string()));
      if (e.sysErrno() == EEXIST)
        return fail(Code::kAlreadyExists, "pod {}: {} namespace is already pinned at {}", o.podId,
                    k.name, pin.string());
      return std::unexpected(std::move(e));
    }
    pins.push_back(pin);
    kinds.push_back(k.name);
    flags |= k.flag;
  }
  if (flags != 0) BERTH_TRY(pinNamespaces(o, flags, pins, kinds));
  if (o.sharedPid) result.pidInit = BERTH_TRY(startPidInit(o));
  for (std::size_t i = 0; i < pins.size(); ++i) {
    std::string_view kind = kinds[i];
    (kind == "net" ? result.net : kind == "ipc" ? result.ipc : result.uts) = pins[i];
  }
  rollback.cancel();
  return result;
}

Status removePodNamespaces(const PodNamespaceOptions& o, pid_t pidInit) {
  if (pidInit > 0) {
    // Only if the pid still is a berth-pod-init (a pid can be reused).
    auto comm = readFile(fmt::format("/proc/{}/comm", pidInit));
    if (comm && *comm == "berth-pod-init\n") ::kill(pidInit, SIGKILL);
  }
  for (const Kind& k : kKinds)
    BERTH_TRY(unpin(pinPath(o, k.name)));
  return {};
}

}  // namespace berth::shim
