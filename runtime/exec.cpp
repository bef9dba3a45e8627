// Lifecycle::exec: a new process in a running container (runc exec).
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "common/unix_socket.h"
#include "ocispec/spec_json.h"
#include "runtime/capabilities.h"
#include "runtime/console.h"
#include "runtime/foreground.h"
#include "runtime/launcher.h"
#include "runtime/lifecycle.h"
#include "runtime/plan_builder.h"
#include "runtime/seccomp.h"

namespace berth::runtime {

namespace {

Result<std::pair<uint32_t, std::optional<uint32_t>>> parseUser(const std::string& user) {
  auto colon = user.find(':');
  auto num = [&](const std::string& s) -> Result<uint32_t> {
    try {
      size_t used = 0;
      unsigned long v = std::stoul(s, &used);
      if (used == s.size() && v <= UINT32_MAX) return static_cast<uint32_t>(v);
    } catch (...) {
    }
    return fail(Code::kInvalidArgument, "user: \"{}\" is not a numeric uid[:gid]", user);
  };
  uint32_t uid = BERTH_TRY(num(user.substr(0, colon)));
  std::optional<uint32_t> gid;
  if (colon != std::string::npos) gid = BERTH_TRY(num(user.substr(colon + 1)));
  return std::pair{uid, gid};
}

// runc exec starts from the container's own process and applies the flags on top.
Result<ocispec::Process> processFromFlags(const ocispec::Spec& spec, const ExecOptions& o) {
  ocispec::Process p = spec.process ? *spec.process : ocispec::Process{};
  p.args = o.args;
  p.terminal = o.tty;
  p.consoleSize.reset();
  for (const auto& e : o.env)
    p.env.push_back(e);
  if (!o.cwd.empty()) p.cwd = o.cwd;
  if (!o.user.empty()) {
    auto [uid, gid] = BERTH_TRY(parseUser(o.user));
    p.user.uid = uid;
    p.user.gid = gid.value_or(0);
  }
  for (uint32_t g : o.additionalGids)
    p.user.additionalGids.push_back(g);
  if (!o.caps.empty()) {
    if (!p.capabilities) p.capabilities.emplace();
    for (const auto& c : o.caps) {
      if (capabilityFromName(c) < 0)
        return fail(Code::kInvalidArgument, "cap: unknown capability \"{}\"", c);
      for (auto* set :
           {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted,
            &p.capabilities->inheritable, &p.capabilities->ambient})
        set->push_back(c);
    }
  }
  if (o.noNewPrivs) p.noNewPrivileges = true;
  return p;
}

}  // namespace

Result<int> Lifecycle::exec(const ExecOptions& o) {
  auto [record, status] = BERTH_TRY(lookup(o.id));
  if (status == ContainerStatus::kStopped)
    return fail(Code::kFailedPrecondition, "cannot exec in a stopped container");
  if (status == ContainerStatus::kPaused && !o.ignorePaused)
    return fail(Code::kFailedPrecondition, "cannot exec in a paused container");
  auto spec = BERTH_TRY(savedSpec(o.id));
  ocispec::Process process = o.process ? *o.process : BERTH_TRY(processFromFlags(spec, o));
  if (o.process && o.tty) process.terminal = true;
  if (process.terminal && o.detach && o.consoleSocket.empty())
    return fail(Code::kInvalidArgument,
                "cannot allocate tty if runc will detach without setting console socket");
  if (!process.terminal && !o.consoleSocket.empty())
    return fail(Code::kInvalidArgument,
                "cannot use console socket if runc will not detach or allocate tty");

  std::vector<NamespacePlan::Join> joins;
  for (const auto& type : record.namespaces) {
    int flag = namespaceFlag(type);
    if (!flag) continue;
    joins.push_back({flag, fmt::format("/proc/{}/ns/{}", record.pid, namespaceProcName(type))});
  }
  for (int fd = 3; fd < 3 + o.preserveFds; ++fd)
    if (::fcntl(fd, F_GETFD) < 0)
      return failErrno(fmt::format("preserve-fds: fd {} is not open", fd));
  InitPlan plan = BERTH_TRY(buildExecPlan(process, joins, o.preserveFds));
  // Without a mount namespace to join, the process is chrooted where the container's init is.
  UniqueFd containerRoot;
  if (std::find(record.namespaces.begin(), record.namespaces.end(), "mount") ==
      record.namespaces.end()) {
    std::string root = fmt::format("/proc/{}/root", record.pid);
    containerRoot.reset(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!containerRoot) return failErrno(fmt::format("open the container's root {}", root));
    plan.execRootFd = containerRoot.get();
  }
  // runc: an exec'd process gets the container's filter (the process object has none of its own).
  if (spec.linux && spec.linux->seccomp)
    plan.seccomp = BERTH_TRY(compileSeccomp(*spec.linux->seccomp));

  UniqueFd consoleSock, ownConsolePeer;
  if (process.terminal && o.consoleSocket.empty()) {
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
      return failErrno("socketpair");
    ownConsolePeer.reset(sp[0]);
    consoleSock.reset(sp[1]);
  } else if (process.terminal) {
    consoleSock = BERTH_TRY(connectConsoleSocket(o.consoleSocket));
  }
  plan.consoleSocketFd = consoleSock.get();

  CgroupManager cg =
      CgroupManager::fromPaths(record.cgroupUnified, record.cgroupPaths, record.systemdCgroup);
  if (!o.cgroups.empty()) cg = BERTH_TRY(cg.subCgroups(o.cgroups));
  LaunchRequest req;
  req.plan = &plan;
  req.cgroup = record.cgroupPaths.empty() ? nullptr : &cg;
  if (plan.seccomp.hasListener())
    req.seccompListener = [&](pid_t pid, int fd) {
      ocispec::State s = ociState(record, ContainerStatus::kRunning);
      return sendSeccompListener(plan.seccomp.listenerPath,
                                 containerProcessState(s, pid, plan.seccomp.listenerMetadata), fd);
    };
  if (!o.detach) blockForwardedSignals();
  ChildProcess child = BERTH_TRY(launch(req));
  if (!o.pidFile.empty()) BERTH_TRY(writePidFile(o.pidFile, child.pid()));
  if (o.detach) {
    (void)child.release();
    return 0;
  }
  UniqueFd master;
  if (ownConsolePeer) master = BERTH_TRY(receiveFd(ownConsolePeer.get()));
  auto st = BERTH_TRY(superviseForeground(child, master ? master.get() : -1));
  return st.code;
}

}  // namespace berth::runtime
