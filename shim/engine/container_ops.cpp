// Engine: the container lifecycle RPCs (see engine.h).
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>

#include <csignal>
#include <cstring>

#include <google/protobuf/util/json_util.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/scope_guard.h"
#include "images/container_mounts.h"
#include "images/content_store.h"
#include "images/image_config.h"
#include "images/image_store.h"
#include "ocispec/spec_json.h"
#include "shim/engine/engine.h"
#include "shim/engine/monitor_launcher.h"
#include "shim/stats/cgroup_stats.h"

namespace berth::cri {

namespace {

// How long StopContainer waits for the exit after SIGKILL before it reports a failure.
constexpr std::chrono::seconds kKillWait(30);

// containerd's makeContainerName.
std::string containerName(const v1::ContainerMetadata& c, const v1::PodSandboxMetadata& p) {
  return fmt::format("{}_{}_{}_{}_{}", c.name(), p.name(), p.namespace_(), p.uid(), c.attempt());
}

// "SIGTERM", "TERM" or "15" → the number; 0 when unknown.
int parseSignal(const std::string& name) {
  if (name.empty()) return SIGTERM;
  if (std::isdigit(static_cast<unsigned char>(name[0]))) return std::atoi(name.c_str());
  std::string n = name.rfind("SIG", 0) == 0 ? name.substr(3) : name;
  for (int s = 1; s < NSIG; ++s) {
    const char* abbrev = sigabbrev_np(s);
    if (abbrev && n == abbrev) return s;
  }
  return 0;
}

ImageConfig toSpecImageConfig(const ocispec::ImageConfig& c) {
  ImageConfig out;
  if (!c.config) return out;
  const auto& e = *c.config;
  out.entrypoint = e.Entrypoint;
  out.cmd = e.Cmd;
  out.env = e.Env;
  out.workingDir = e.WorkingDir.value_or("");
  out.user = e.User.value_or("");
  for (const auto& [v, _] : e.Volumes)
    out.volumes.push_back(v);
  out.stopSignal = e.StopSignal.value_or("");
  return out;
}

}  // namespace

void Engine::refreshExit(Container& c) const {
  if (c.exit || c.rec.phase == ContainerPhase::kCreating) return;
  auto r = shim::readExitRecord(exitFile(c.rec.id));
  if (!r) return;
  c.exit = *r;
  // As containerd reports it: any OOM kill in the container's cgroup, read while the cgroup
  // still exists (it goes with `runtime delete`).
  if (r->exitCode != 0) {
    auto cgroup = stats::containerCgroup(c.rec.cgroupsPath, c.rec.id, config_.cgroupDriver);
    auto oom = cgroup ? stats::oomKilled(*cgroup) : Result<bool>(false);
    c.oomKilled = oom && *oom;
  }
}

v1::ContainerState Engine::stateOf(Container& c) const {
  refreshExit(c);
  if (c.exit) return v1::CONTAINER_EXITED;
  switch (c.rec.phase) {
    case ContainerPhase::kCreated:
      return v1::CONTAINER_CREATED;
    case ContainerPhase::kRunning:
      return v1::CONTAINER_RUNNING;
    case ContainerPhase::kCreating:
      break;
  }
  return v1::CONTAINER_UNKNOWN;
}

Result<std::string> Engine::createContainer(const std::string& podId,
                                            const v1::ContainerConfig& config,
                                            const v1::PodSandboxConfig& sandboxConfig) {
  if (!config.has_metadata() || config.metadata().name().empty()) {
    return fail(Code::kInvalidArgument, "config.metadata.name: required");
  }
  if (config.image().image().empty()) {
    return fail(Code::kInvalidArgument, "config.image.image: required");
  }
  auto pod = BERTH_TRY(findPod(podId));
  std::lock_guard podOp(pod->op);
  PodRecord podRec;
  {
    std::lock_guard lock(mu_);
    podRec = pod->rec;
  }
  if (podRec.phase != Phase::kReady) {
    return fail(Code::kFailedPrecondition, "pod sandbox {} is not ready", podRec.id);
  }
  auto c = std::make_shared<Container>();
  ContainerRecord& rec = c->rec;
  rec.id = newId();
  rec.podId = podRec.id;
  rec.name = containerName(config.metadata(), podRec.config.metadata());
  rec.config = config;
  rec.imageRef = config.image().image();
  rec.runtimeHandler = podRec.runtimeHandler;
  rec.createdAtNs = nowNs();
  BERTH_TRY(reserveName(rec.name, rec.id, "container"));
  std::lock_guard op(c->op);
  auto release = defer([&] { releaseName(rec.name); });
  BERTH_TRY_CTX(saveContainer(rec), "save container record");
  auto rollback = defer([&] {
    dropRecordIfUndone("container", rec.id, tearDownContainer(rec),
                       containerRecordPath(rec.id).parent_path());
  });
  const v1::PodSandboxConfig& sandbox =
      sandboxConfig.has_metadata() ? sandboxConfig : podRec.config;
  BERTH_TRY_CTX(
      setUpContainer(rec, podRec, sandbox),
      fmt::format("create container {} in pod sandbox {}", config.metadata().name(), podRec.id));
  rec.phase = ContainerPhase::kCreated;
  BERTH_TRY_CTX(saveContainer(rec), "save container record");
  rollback.cancel();
  release.cancel();
  {
    std::lock_guard lock(mu_);
    containers_[rec.id] = c;
  }
  watchExit(rec.id);
  publish(*c, v1::CONTAINER_CREATED_EVENT);
  return rec.id;
}

Status Engine::setUpContainer(ContainerRecord& rec, const PodRecord& pod,
                              const v1::PodSandboxConfig& sandbox) {
  // The image.
  auto images = BERTH_TRY(images::ImageStore::open(config_.imageRoot));
  auto found = images.resolve(rec.imageRef);
  if (!found) {
    if (found.error().code() == Code::kNotFound) {
      return fail(Code::kNotFound, "image \"{}\" not found", rec.imageRef);
    }
    return std::unexpected(found.error());
  }
  const images::ImageRecord& image = found->front();
  rec.imageId = image.id;
  rec.imageName = image.name;
  auto content = BERTH_TRY(images::ContentStore::open(config_.imageRoot));
  auto imageConfig = BERTH_TRY(images::loadImageConfig(content, image));

  // Its filesystem.
  auto mounts = BERTH_TRY(images::ContainerMounts::open(config_.imageRoot));
  auto mounted = BERTH_TRY(mounts.mount(rec.id, image.chainIds));

  // The spec.
  std::filesystem::path stateDir = containerStateDir(rec.id);
  BERTH_TRY(makeDirs(stateDir, 0700));
  ContainerSpecInput in;
  in.containerId = rec.id;
  in.config = &rec.config;
  in.sandboxConfig = &sandbox;
  in.image = toSpecImageConfig(imageConfig);
  in.imageName = image.name;
  in.rootfs = mounted.merged;
  in.containerDir = containerRecordPath(rec.id).parent_path();
  in.pod.sandboxId = pod.id;
  in.pod.netnsPath = pod.netns;
  in.pod.ipcnsPath = pod.ipcns;
  in.pod.utsnsPath = pod.utsns;
  if (pod.pidInit > 0) in.pod.pidnsPath = fmt::format("/proc/{}/ns/pid", pod.pidInit);
  const auto& nsOpts = rec.config.linux().security_context().namespace_options();
  if (nsOpts.pid() == v1::TARGET) {
    auto target = BERTH_TRY_CTX(findContainer(nsOpts.target_id()), "namespace_options.target_id");
    std::lock_guard lock(mu_);
    in.pod.targetPidnsPath = fmt::format("/proc/{}/ns/pid", target->rec.pid);
  }
  std::filesystem::path podDir = podStateDir(pod.id);
  in.pod.hostnamePath = (podDir / "hostname").string();
  in.pod.hostsPath = (podDir / "hosts").string();
  in.pod.resolvConfPath = (podDir / "resolv.conf").string();
  in.pod.shmPath = sandbox.linux().security_context().namespace_options().ipc() == v1::NODE
                       ? "/dev/shm"
                       : (podDir / "shm").string();
  in.host = options_.host;
  auto built = BERTH_TRY(buildContainerSpec(in));
  if (built.spec.process && built.spec.process->apparmorProfile == in.host.appArmorDefaultProfile)
    BERTH_TRY(appArmorDefault_.ensureLoaded());
  for (const auto& dir : built.hostDirsToCreate)
    BERTH_TRY(makeDirs(dir, 0755));
  if (built.spec.linux && built.spec.linux->cgroupsPath) {
    rec.cgroupsPath = *built.spec.linux->cgroupsPath;
  }
  rec.stopSignal = in.image.stopSignal;
  BERTH_TRY(writeFileAtomic(stateDir / "config.json", ocispec::toJson(built.spec).dump(), 0600));

  // Its log.
  if (!sandbox.log_directory().empty() && !rec.config.log_path().empty()) {
    std::filesystem::path log =
        std::filesystem::path(sandbox.log_directory()) / rec.config.log_path();
    BERTH_TRY(makeDirs(log.parent_path(), 0755));
    rec.logPath = log.string();
  }

  // The monitor creates it.
  auto runtime = BERTH_TRY(runtimeFor(rec.runtimeHandler));
  MonitorLaunch l;
  l.monitorPath = options_.monitorPath;
  l.id = rec.id;
  l.bundle = stateDir;
  l.runtimePath = runtime.path();
  l.runtimeArgs = runtime.globalArgs();
  l.logPath = rec.logPath.empty() ? "/dev/null" : rec.logPath;
  l.exitFile = exitFile(rec.id);
  l.socketDir = stateDir;
  l.monitorLog = stateDir / "monitor.log";
  l.terminal = rec.config.tty();
  l.stdin = rec.config.stdin();
  l.stdinOnce = rec.config.stdin_once();
  rec.pid = BERTH_TRY(launchMonitor(l));
  return {};
}

Status Engine::tearDownContainer(const ContainerRecord& rec) {
  if (auto runtime = runtimeFor(rec.runtimeHandler)) {
    BERTH_TRY(runtime->remove(rec.id));
  }
  auto mounts = BERTH_TRY(images::ContainerMounts::open(config_.imageRoot));
  BERTH_TRY(mounts.remove(rec.id));
  return removeAll(containerStateDir(rec.id));
}

Status Engine::startContainer(const std::string& id) {
  auto c = BERTH_TRY(findContainer(id));
  std::lock_guard op(c->op);
  {
    std::lock_guard lock(mu_);
    auto state = stateOf(*c);
    if (state != v1::CONTAINER_CREATED) {
      return fail(Code::kFailedPrecondition, "container {} is in {} state, not CREATED", c->rec.id,
                  v1::ContainerState_Name(state));
    }
  }
  auto runtime = BERTH_TRY(runtimeFor(c->rec.runtimeHandler));
  BERTH_TRY(runtime.start(c->rec.id));
  ContainerRecord rec;
  {
    std::lock_guard lock(mu_);
    c->rec.phase = ContainerPhase::kRunning;
    c->rec.startedAtNs = nowNs();
    rec = c->rec;
  }
  BERTH_TRY_CTX(saveContainer(rec), "save container record");
  publish(*c, v1::CONTAINER_STARTED_EVENT);
  return {};
}

Result<shim::ExitRecord> Engine::waitExit(Container& c, std::chrono::milliseconds timeout) const {
  // inotify on the state dir: the monitor renames exit.json into place.
  UniqueFd in(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!in) return failErrno("inotify_init1");
  std::filesystem::path file = exitFile(c.rec.id);
  if (::inotify_add_watch(in.get(), file.parent_path().c_str(), IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
    return failErrno(fmt::format("watch {}", file.parent_path().string()));
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto r = shim::readExitRecord(file)) return *r;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return fail(Code::kDeadlineExceeded, "container {} did not exit within {}ms", c.rec.id,
                  timeout.count());
    }
    pollfd p{in.get(), POLLIN, 0};
    // Also wake up now and then: a monitor that died can't rename anything.
    ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    char buf[4096];
    while (::read(in.get(), buf, sizeof buf) > 0) {
    }
  }
}

Status Engine::stopLocked(Container& c, std::int64_t timeoutSeconds) {
  {
    std::lock_guard lock(mu_);
    auto state = stateOf(c);
    if (state == v1::CONTAINER_EXITED || state == v1::CONTAINER_UNKNOWN) return {};
  }
  auto runtime = BERTH_TRY(runtimeFor(c.rec.runtimeHandler));
  bool exited = false;
  if (timeoutSeconds > 0) {
    int sig = parseSignal(c.rec.stopSignal);
    if (sig == 0) sig = SIGTERM;
    BERTH_TRY(runtime.kill(c.rec.id, sig));
    exited = waitExit(c, std::chrono::seconds(timeoutSeconds)).has_value();
  }
  if (!exited) {
    BERTH_TRY(runtime.kill(c.rec.id, SIGKILL, /*all=*/false));
    BERTH_TRY(waitExit(c, kKillWait));
  }
  // The exit watcher may have reported it already; noteExit says who does.
  if (noteExit(c)) publish(c, v1::CONTAINER_STOPPED_EVENT);
  return {};
}

bool Engine::noteExit(Container& c) {
  std::lock_guard lock(mu_);
  refreshExit(c);
  if (!c.exit || c.exitReported) return false;
  c.exitReported = true;
  return true;
}

Status Engine::stopContainer(const std::string& id, std::int64_t timeoutSeconds) {
  auto c = BERTH_TRY(findContainer(id));
  std::lock_guard op(c->op);
  return stopLocked(*c, timeoutSeconds);
}

Status Engine::removeContainer(const std::string& id) {
  auto found = findContainer(id);
  if (!found) {
    if (found.error().code() == Code::kNotFound) return {};  // CRI: idempotent
    return std::unexpected(found.error());
  }
  auto c = *found;
  std::lock_guard op(c->op);
  BERTH_TRY(stopLocked(*c, 0));
  BERTH_TRY(tearDownContainer(c->rec));
  BERTH_TRY(removeAll(containerRecordPath(c->rec.id).parent_path()));
  publish(*c, v1::CONTAINER_DELETED_EVENT);
  stats_->forget(c->rec.id);
  std::lock_guard lock(mu_);
  names_.erase(c->rec.name);
  containers_.erase(c->rec.id);
  return {};
}

Status Engine::updateContainerResources(const std::string& id,
                                        const v1::LinuxContainerResources& resources) {
  auto c = BERTH_TRY(findContainer(id));
  std::lock_guard op(c->op);
  auto res = BERTH_TRY(resourcesFromCri(resources, options_.host));
  v1::ContainerState state;
  ContainerRecord rec;
  {
    std::lock_guard lock(mu_);
    state = stateOf(*c);
    rec = c->rec;
  }
  // An exited container only has its record updated, as containerd does.
  if (state == v1::CONTAINER_RUNNING || state == v1::CONTAINER_CREATED) {
    auto runtime = BERTH_TRY(runtimeFor(rec.runtimeHandler));
    BERTH_TRY(runtime.update(rec.id, ocispec::toJson(res).dump()));
  }
  *rec.config.mutable_linux()->mutable_resources() = resources;
  BERTH_TRY_CTX(saveContainer(rec), "save container record");
  std::lock_guard lock(mu_);
  c->rec = std::move(rec);
  return {};
}

void Engine::fillContainerStatus(Container& c, v1::ContainerStatus* out) const {
  const ContainerRecord& rec = c.rec;
  out->set_id(rec.id);
  *out->mutable_metadata() = rec.config.metadata();
  out->set_state(stateOf(c));
  out->set_created_at(rec.createdAtNs);
  out->set_started_at(rec.startedAtNs);
  out->mutable_image()->set_image(rec.imageName.empty() ? rec.imageRef : rec.imageName);
  out->set_image_ref(rec.imageId);
  out->set_image_id(rec.imageId);
  if (c.exit) {
    out->set_finished_at(c.exit->exitedAtNs);
    out->set_exit_code(c.exit->exitCode);
    out->set_reason(c.oomKilled ? "OOMKilled" : c.exit->exitCode == 0 ? "Completed" : "Error");
  }
  *out->mutable_labels() = rec.config.labels();
  *out->mutable_annotations() = rec.config.annotations();
  *out->mutable_mounts() = rec.config.mounts();
  out->set_log_path(rec.logPath);
  if (rec.config.linux().has_resources()) {
    *out->mutable_resources()->mutable_linux() = rec.config.linux().resources();
  }
}

Status Engine::containerStatus(const std::string& id, bool verbose,
                               v1::ContainerStatusResponse* out) {
  auto c = BERTH_TRY(findContainer(id));
  std::lock_guard lock(mu_);
  fillContainerStatus(*c, out->mutable_status());
  if (verbose) {
    nlohmann::json info = {{"sandboxID", c->rec.podId},
                           {"pid", c->rec.pid},
                           {"runtimeHandler", c->rec.runtimeHandler},
                           {"cgroupsPath", c->rec.cgroupsPath},
                           {"bundle", containerStateDir(c->rec.id).string()}};
    if (auto spec = readFile(containerStateDir(c->rec.id) / "config.json")) {
      info["runtimeSpec"] = nlohmann::json::parse(*spec, nullptr, false);
    }
    (*out->mutable_info())["info"] = info.dump();
  }
  return {};
}

void Engine::listContainers(const v1::ContainerFilter* filter, v1::ListContainersResponse* out) {
  std::lock_guard lock(mu_);
  for (const auto& [id, c] : containers_) {
    const ContainerRecord& rec = c->rec;
    if (rec.phase == ContainerPhase::kCreating) continue;
    auto state = stateOf(*c);
    if (filter) {
      if (!filter->id().empty() && id.compare(0, filter->id().size(), filter->id()) != 0) continue;
      if (!filter->pod_sandbox_id().empty() &&
          rec.podId.compare(0, filter->pod_sandbox_id().size(), filter->pod_sandbox_id()) != 0) {
        continue;
      }
      if (filter->has_state() && filter->state().state() != state) continue;
      if (!labelsMatch(rec.config.labels(), filter->label_selector())) continue;
    }
    auto* item = out->add_containers();
    item->set_id(id);
    item->set_pod_sandbox_id(rec.podId);
    *item->mutable_metadata() = rec.config.metadata();
    item->mutable_image()->set_image(rec.imageName.empty() ? rec.imageRef : rec.imageName);
    item->set_image_ref(rec.imageId);
    item->set_image_id(rec.imageId);
    item->set_state(state);
    item->set_created_at(rec.createdAtNs);
    *item->mutable_labels() = rec.config.labels();
    *item->mutable_annotations() = rec.config.annotations();
  }
}

}  // namespace berth::cri
