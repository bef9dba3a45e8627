#include "runtime/lifecycle.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>

#include <spdlog/spdlog.h>

#include "common/file_util.h"
#include "common/scope_guard.h"
#include "common/unix_socket.h"
#include "ocispec/spec_json.h"
#include "runtime/cgroup_manager.h"
#include "runtime/console.h"
#include "runtime/hooks.h"
#include "runtime/launcher.h"
#include "runtime/plan_builder.h"
#include "runtime/seccomp.h"
#include "runtime/sync_protocol.h"

namespace berth::runtime {

namespace fs = std::filesystem;

namespace {

std::string idMap(const std::vector<ocispec::IdMapping>& mappings) {
  std::string out;
  for (const auto& m : mappings)
    out += fmt::format("{} {} {}\n", m.containerID, m.hostID, m.size);
  return out;
}

// The host id that a user namespace maps the container's root to (0 without a user namespace).
uint32_t hostIdOfRoot(const ocispec::Spec& spec, bool uid) {
  if (!spec.linux || !spec.findNamespace("user")) return 0;
  for (const auto& m : uid ? spec.linux->uidMappings : spec.linux->gidMappings)
    if (m.containerID == 0) return m.hostID;
  return 0;
}

std::string stateJson(const ContainerRecord& record, ContainerStatus status, pid_t pid = 0) {
  ocispec::State s = ociState(record, status);
  if (pid) s.pid = pid;
  return ocispec::toJson(s).dump();
}

// Waits until the process is gone (pidfd), up to `timeout`.
bool waitGone(pid_t pid, std::chrono::milliseconds timeout) {
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!fd) return errno == ESRCH;
  pollfd p{fd.get(), POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

CgroupManager cgroupOf(const ContainerRecord& r) {
  return CgroupManager::fromPaths(r.cgroupUnified, r.cgroupPaths, r.systemdCgroup);
}

// LISTEN_FDS from a socket-activating parent (systemd's sd_listen_fds protocol) are passed on,
// as runc does; they sit at fds 3.. before the --preserve-fds ones.
int listenFds(std::vector<std::string>& env) {
  const char* fds = ::getenv("LISTEN_FDS");
  const char* pid = ::getenv("LISTEN_PID");
  if (!fds || !pid || std::atoi(pid) != ::getpid()) return 0;
  int n = std::atoi(fds);
  if (n <= 0) return 0;
  env.push_back(fmt::format("LISTEN_FDS={}", n));
  env.push_back("LISTEN_PID=1");
  return n;
}

// A container in the runtime's mount namespace gets its rootfs as a bind under its state
// directory: every mount made for it hangs below that one mount, which delete (or a failed
// create, through ContainerStore::remove) detaches. It takes the rootfs propagation (rslave by
// default), so the container's mounts do not propagate to the host's.
Status bindRootfsUnderState(InitPlan& plan, const ContainerPaths& paths) {
  std::string target = paths.rootfs().string();
  if (::mkdir(target.c_str(), 0700) < 0) return failErrno(fmt::format("create {}", target));
  if (::mount(plan.rootfs.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
    return failErrno(fmt::format("bind rootfs {} on {}", plan.rootfs, target));
  if (::mount(nullptr, target.c_str(), nullptr, plan.rootPropagation, nullptr) < 0)
    return failErrno(fmt::format("linux.rootfsPropagation: set on {}", target));
  plan.rootfs = target;
  return {};
}

// runc: a failed poststart hook tears the container down.
Status runPoststart(const ocispec::Spec& spec, const ContainerRecord& record) {
  if (!spec.hooks || spec.hooks->poststart.empty()) return {};
  auto st =
      runHooks(spec.hooks->poststart, "poststart", stateJson(record, ContainerStatus::kRunning));
  if (!st) ::kill(record.pid, SIGKILL);
  return st;
}

Status checkPreservedFds(int first, int count) {
  for (int fd = first; fd < first + count; ++fd)
    if (::fcntl(fd, F_GETFD) < 0)
      return failErrno(fmt::format("preserve-fds: fd {} (of {}) is not open", fd, count));
  return {};
}

}  // namespace

Status applyResources(CgroupManager& cgroups, const ocispec::Spec& spec) {
  ocispec::Resources none;
  const ocispec::Resources& r = spec.linux && spec.linux->resources ? *spec.linux->resources : none;
  auto writes = BERTH_TRY(cgroups.unified() ? planResourcesV2(r) : planResourcesV1(r));
  auto rules = effectiveDeviceRules(spec);
  if (!cgroups.unified()) {
    auto devices = planDevicesV1(rules);
    writes.insert(writes.end(), devices.begin(), devices.end());
  }
  BERTH_TRY(cgroups.apply(writes));
  if (cgroups.unified()) BERTH_TRY(cgroups.setDeviceRules(rules));
  return {};
}

Status writePidFile(const std::string& path, pid_t pid) {
  fs::path p = fs::absolute(path);
  return withContext(writeFileAtomic(p, std::to_string(pid), 0644), "pid-file");
}

Result<std::pair<ContainerRecord, ContainerStatus>> Lifecycle::lookup(const std::string& id) const {
  auto record = BERTH_TRY(store_.load(id));
  ContainerStatus status = currentStatus(store_, record);
  return std::pair{std::move(record), status};
}

Result<ocispec::Spec> Lifecycle::savedSpec(const std::string& id) const {
  return ocispec::loadSpec(store_.paths(id).config());
}

Result<Created> Lifecycle::create(const CreateOptions& o) {
  BERTH_TRY(validateContainerId(o.id));
  fs::path bundle = fs::absolute(o.bundle.empty() ? fs::current_path() : fs::path(o.bundle));
  bundle = bundle.lexically_normal();
  if (bundle.has_filename() == false) bundle = bundle.parent_path();
  // runc resolves these before moving into the bundle, where relative config paths (root.path,
  // bind sources) and the runtime's hooks are resolved.
  std::string pidFile = o.pidFile.empty() ? "" : fs::absolute(o.pidFile).string();
  std::string consoleSocket = o.consoleSocket.empty() ? "" : fs::absolute(o.consoleSocket).string();
  auto configText = BERTH_TRY(readFile(bundle / "config.json"));
  auto spec = BERTH_TRY_CTX(ocispec::parseSpec(configText), (bundle / "config.json").string());
  if (!spec.process) return fail(Code::kInvalidArgument, "process: required");
  bool terminal = spec.process->terminal;
  if (terminal && consoleSocket.empty() && !o.ownTerminal)
    return fail(Code::kInvalidArgument,
                "cannot allocate tty if runc will detach without setting console socket");
  if (!terminal && !consoleSocket.empty())
    return fail(Code::kInvalidArgument,
                "cannot use console socket if runc will not detach or allocate tty");

  std::vector<std::string> extraEnv;
  int listen = listenFds(extraEnv);
  BERTH_TRY(checkPreservedFds(3 + listen, o.preserveFds));

  if (::chdir(bundle.c_str()) < 0) return failErrno(fmt::format("chdir {}", bundle.string()));
  spdlog::debug("create [id={}] bundle {}", o.id, bundle.string());
  BERTH_TRY(store_.reserve(o.id));
  auto dropState = defer([&] { (void)store_.remove(o.id); });
  ContainerPaths paths = store_.paths(o.id);

  std::string cgroupsPath = spec.linux && spec.linux->cgroupsPath ? *spec.linux->cgroupsPath : "";
  auto cgroups =
      BERTH_TRY(options_.systemdCgroup ? CgroupManager::forSystemdScope(cgroupsPath, o.id)
                                       : CgroupManager::forContainer(cgroupsPath, o.id));
  // A shared or pre-existing cgroup: runc warns, and refuses a frozen one (the init would hang).
  if (auto frozen = cgroups.frozen(); frozen && *frozen)
    return fail(Code::kFailedPrecondition, "container's cgroup unexpectedly frozen");
  if (spec.linux && spec.linux->resources && !spec.linux->resources->unified.empty() &&
      !cgroups.unified())
    return fail(Code::kInvalidArgument,
                "invalid configuration: linux.resources.unified needs a cgroup v2 host (this one "
                "is v1 or hybrid)");
  BERTH_TRY(cgroups.create());
  auto dropCgroup = defer([&] { cgroups.undoCreate(); });
  BERTH_TRY(applyResources(cgroups, spec));
  if (cgroups.preexisting()) {
    if (auto pids = cgroups.pids(); pids && !pids->empty())
      spdlog::warn("container's cgroup is not empty: {} process(es) found", pids->size());
  }

  CreateInputs inputs;
  inputs.bundle = bundle.string();
  inputs.id = o.id;
  inputs.noPivot = o.noPivot;
  inputs.noNewKeyring = o.noNewKeyring;
  inputs.preservedFds = listen + o.preserveFds;
  inputs.extraEnv = extraEnv;
  inputs.cgroups = &cgroups;
  InitPlan plan = BERTH_TRY(buildCreatePlan(spec, inputs));
  std::string rootfs = plan.rootfs;
  if (plan.mountNamespace == InitPlan::MountNamespace::kHost)
    BERTH_TRY(bindRootfsUnderState(plan, paths));

  UniqueFd fifo;
  if (!o.startHere) {
    // 0622 whatever the umask, owned by the container's root: an init that has switched to its
    // user (or lives in a user namespace) must still open it for writing.
    if (::mkfifo(paths.execFifo().c_str(), 0622) < 0 ||
        ::chmod(paths.execFifo().c_str(), 0622) < 0 ||
        ::chown(paths.execFifo().c_str(), hostIdOfRoot(spec, true), hostIdOfRoot(spec, false)) < 0)
      return failErrno("create exec fifo");
    fifo.reset(::open(paths.execFifo().c_str(), O_PATH | O_CLOEXEC));
    if (!fifo) return failErrno("open exec fifo");
    plan.execFifoFd = fifo.get();
  }

  UniqueFd consoleSock, ownConsolePeer;
  if (terminal && o.ownTerminal && consoleSocket.empty()) {
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
      return failErrno("socketpair");
    ownConsolePeer.reset(sp[0]);
    consoleSock.reset(sp[1]);
  } else if (terminal) {
    consoleSock = BERTH_TRY(connectConsoleSocket(consoleSocket));
  }
  plan.consoleSocketFd = consoleSock.get();

  ContainerRecord record;
  record.id = o.id;
  record.bundle = bundle.string();
  record.rootfs = rootfs;
  record.created = rfc3339NanoNow();
  record.annotations = spec.annotations;
  record.cgroupUnified = cgroups.unified();
  record.cgroupPaths = cgroups.paths();
  record.systemdCgroup = options_.systemdCgroup;
  if (spec.linux)
    for (const auto& ns : spec.linux->namespaces)
      record.namespaces.push_back(ns.type);
  BERTH_TRY(writeFileAtomic(paths.config(), configText, 0600, Durability::kVolatile));

  LaunchRequest req;
  req.plan = &plan;
  req.cgroup = &cgroups;
  req.keepSyncSocket = o.startHere;
  if (plan.userns) {
    req.uidMap = idMap(spec.linux->uidMappings);
    req.gidMap = idMap(spec.linux->gidMappings);
  }
  if (!plan.createContainerHooks.empty() || !plan.startContainerHooks.empty())
    req.stateForChild = [&](pid_t pid) {
      return stateJson(record, ContainerStatus::kCreating, pid);
    };
  if (spec.hooks && (!spec.hooks->prestart.empty() || !spec.hooks->createRuntime.empty())) {
    req.runtimeHooks = [&](pid_t pid) -> Status {
      std::string state = stateJson(record, ContainerStatus::kCreating, pid);
      BERTH_TRY(runHooks(spec.hooks->prestart, "prestart", state));
      return runHooks(spec.hooks->createRuntime, "createRuntime", state);
    };
  }
  if (plan.seccomp.hasListener())
    req.seccompListener = [&](pid_t pid, int fd) {
      ocispec::State s = ociState(record, ContainerStatus::kCreating);
      s.pid = pid;
      return sendSeccompListener(plan.seccomp.listenerPath,
                                 containerProcessState(s, pid, plan.seccomp.listenerMetadata), fd);
    };
  ChildProcess init = BERTH_TRY(launch(req));
  record.pid = init.pid();
  auto start = processStartTime(init.pid());
  if (!start) return fail(Code::kInternal, "container init exited during create");
  record.pidStartTime = *start;
  BERTH_TRY(store_.save(record));
  if (!pidFile.empty()) BERTH_TRY(writePidFile(pidFile, init.pid()));

  Created created{
      std::move(record), std::move(init), {}, std::move(spec), std::move(req.syncSocket)};
  if (ownConsolePeer) created.ptyMaster = BERTH_TRY(receiveFd(ownConsolePeer.get()));
  dropCgroup.cancel();
  dropState.cancel();
  return created;
}

Status Lifecycle::start(const std::string& id) {
  auto [record, status] = BERTH_TRY(lookup(id));
  if (status == ContainerStatus::kStopped)
    return fail(Code::kFailedPrecondition, "cannot start a container that has stopped");
  if (status != ContainerStatus::kCreated)
    return fail(Code::kFailedPrecondition, "cannot start an already running container");
  ContainerPaths paths = store_.paths(id);
  // The pidfd first: opening the fifo releases the init, which may exec, exit and be reaped
  // before a later pidfd_open could find it. O_NONBLOCK: opening the read side never waits,
  // and poll below also watches the init, so a dead init is an error instead of a hang.
  UniqueFd pidFd(static_cast<int>(::syscall(SYS_pidfd_open, record.pid, 0)));
  if (!pidFd) return fail(Code::kFailedPrecondition, "container process is already dead");
  UniqueFd fifo(::open(paths.execFifo().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) return failErrno("open exec fifo");
  for (;;) {
    pollfd fds[2] = {{fifo.get(), POLLIN, 0}, {pidFd.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return failErrno("poll exec fifo");
    }
    if (fds[0].revents & POLLIN) break;
    if (fds[1].revents & POLLIN)
      return fail(Code::kFailedPrecondition, "container process is already dead");
    // The init opened the fifo and closed it without writing: it failed.
    if (fds[0].revents & POLLHUP)
      return fail(Code::kFailedPrecondition, "container process is already dead");
  }
  char c;
  if (::read(fifo.get(), &c, 1) != 1)
    return fail(Code::kFailedPrecondition, "container process is already dead");
  // Read to EOF, as runc does: the init's write end is close-on-exec, so EOF comes once the
  // startContainer hooks have run and the process is exec'd (or the init died). runtime-spec:
  // poststart hooks run after the user-specified process is executed.
  for (;;) {
    ssize_t n = ::read(fifo.get(), &c, 1);
    if (n == 0) break;
    if (n > 0 || errno == EINTR) continue;
    if (errno != EAGAIN) return failErrno("read exec fifo");
    pollfd p{fifo.get(), POLLIN, 0};
    if (::poll(&p, 1, -1) < 0 && errno != EINTR) return failErrno("poll exec fifo");
  }
  ::unlink(paths.execFifo().c_str());
  spdlog::debug("start [id={}] released init {}", id, record.pid);
  auto spec = savedSpec(id);
  return spec ? runPoststart(*spec, record) : Status{};
}

Status Lifecycle::startCreated(Created& c) {
  if (!syncSend(c.startSocket.get(), SyncType::kStart, 0))
    return failErrno("release container init");
  spdlog::debug("start [id={}] released init {}", c.record.id, c.record.pid);
  if (!c.spec.hooks || c.spec.hooks->poststart.empty()) {
    c.startSocket.reset();
    return {};
  }
  // EOF once the init is executed (its end is close-on-exec) or dead: runtime-spec wants the
  // poststart hooks after the user-specified process is executed.
  char buf[64];
  for (;;) {
    ssize_t n = ::recv(c.startSocket.get(), buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0 && errno != EINTR) return failErrno("wait for the container process to exec");
  }
  c.startSocket.reset();
  return runPoststart(c.spec, c.record);
}

Status Lifecycle::kill(const std::string& id, int signal, bool all) {
  auto [record, status] = BERTH_TRY(lookup(id));
  if (all) return cgroupOf(record).signalAll(signal);
  if (status == ContainerStatus::kStopped)
    return fail(Code::kFailedPrecondition, "container not running");
  if (::kill(record.pid, signal) < 0) return failErrno(fmt::format("kill pid {}", record.pid));
  return {};
}

Status Lifecycle::pause(const std::string& id, bool pauseIt) {
  auto [record, status] = BERTH_TRY(lookup(id));
  if (pauseIt && status != ContainerStatus::kRunning && status != ContainerStatus::kCreated)
    return fail(Code::kFailedPrecondition, "container not running");
  if (!pauseIt && status != ContainerStatus::kPaused)
    return fail(Code::kFailedPrecondition, "container not paused");
  return cgroupOf(record).setFrozen(pauseIt);
}

Status Lifecycle::destroy(const ContainerRecord& record, const ocispec::Spec* given) {
  CgroupManager cg = cgroupOf(record);
  // Without a pid namespace of its own, children of the init outlive it: kill them.
  (void)cg.signalAll(SIGKILL);
  BERTH_TRY(cg.destroy());
  auto spec = given ? Result<ocispec::Spec>(*given) : savedSpec(record.id);
  if (spec && spec->hooks && !spec->hooks->poststop.empty()) {
    auto st =
        runHooks(spec->hooks->poststop, "poststop", stateJson(record, ContainerStatus::kStopped));
    if (!st) spdlog::warn("{}", st.error().message());
  }
  return store_.remove(record.id);
}

Status Lifecycle::remove(const std::string& id, bool force) {
  auto found = lookup(id);
  if (!found) {
    if (found.error().code() != Code::kNotFound) return std::unexpected(found.error());
    // A create that died before writing state.json leaves only the directory (runc does this too).
    if (validateContainerId(id)) (void)store_.remove(id);
    if (force) return {};
    return std::unexpected(found.error());
  }
  auto& [record, status] = *found;
  switch (status) {
    case ContainerStatus::kStopped:
      return destroy(record);
    case ContainerStatus::kCreated:
      break;
    default:
      if (!force)
        return fail(Code::kFailedPrecondition, "cannot delete container {} that is not stopped: {}",
                    id, statusName(status));
  }
  CgroupManager cg = cgroupOf(record);
  if (status == ContainerStatus::kPaused) (void)cg.setFrozen(false);
  ::kill(record.pid, SIGKILL);
  if (!waitGone(record.pid, std::chrono::seconds(10)))
    return fail(Code::kDeadlineExceeded, "container {} init did not exit after SIGKILL", id);
  return destroy(record);
}

}  // namespace berth::runtime
