#include "shim/engine/engine.h"

#include <dirent.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstring>

#include <spdlog/spdlog.h>

#include "common/file_util.h"

namespace berth::cri {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  auto log = spdlog::get("cri");
  return log ? log : spdlog::default_logger();
}

// Subdirectory names of `dir` (none when it does not exist).
std::vector<std::string> listDirs(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_directory(ec)) out.push_back(e.path().filename().string());
  }
  return out;
}

// An id or a unique prefix of one (containerd's truncindex): kNotFound for none, kInvalidArgument
// for an ambiguous prefix.
template <class Map>
Result<typename Map::mapped_type> lookup(const Map& map, const std::string& id,
                                         std::string_view what) {
  if (id.empty()) return fail(Code::kInvalidArgument, "{} id is empty", what);
  auto it = map.lower_bound(id);
  if (it == map.end() || it->first.compare(0, id.size(), id) != 0) {
    return fail(Code::kNotFound, "{} \"{}\" not found", what, id);
  }
  if (it->first != id) {
    auto next = std::next(it);
    if (next != map.end() && next->first.compare(0, id.size(), id) == 0) {
      return fail(Code::kInvalidArgument, "{} id prefix \"{}\" is ambiguous", what, id);
    }
  }
  return it->second;
}

}  // namespace

Engine::Engine(const CriConfig& config, EngineOptions options)
    : config_(config),
      options_(std::move(options)),
      stats_(std::make_unique<stats::StatsCollector>(
          std::make_unique<stats::HostCgroupResolver>(config.cgroupDriver))),
      appArmorDefault_(options_.host.appArmorDefaultProfile, options_.host.appArmorProfilesFile,
                       options_.appArmorParser) {}

Engine::~Engine() {
  if (watcher_.joinable()) {
    uint64_t one = 1;
    (void)!::write(stopWatcher_.get(), &one, sizeof one);
    watcher_.join();
  }
  std::lock_guard lock(streamingMu_);
  streaming_.reset();
}

Status Engine::startExitWatcher() {
  inotify_.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!inotify_) return failErrno("inotify_init1");
  stopWatcher_.reset(::eventfd(0, EFD_CLOEXEC));
  if (!stopWatcher_) return failErrno("eventfd");
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, c] : containers_)
      ids.push_back(id);
  }
  for (const auto& id : ids)
    watchExit(id);
  watcher_ = std::thread([this] { exitWatchLoop(); });
  return {};
}

void Engine::watchExit(const std::string& id) {
  if (!inotify_) return;
  int wd = ::inotify_add_watch(inotify_.get(), containerStateDir(id).c_str(), IN_MOVED_TO);
  if (wd < 0) {
    logger()->warn("container {}: watch for its exit: {}", id, std::strerror(errno));
    return;
  }
  std::lock_guard lock(watchMu_);
  watches_[wd] = id;
}

void Engine::exitWatchLoop() {
  alignas(inotify_event) char buf[16384];
  for (;;) {
    pollfd p[2] = {{inotify_.get(), POLLIN, 0}, {stopWatcher_.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0 && errno != EINTR) return;
    if (p[1].revents) return;
    ssize_t n = ::read(inotify_.get(), buf, sizeof buf);
    for (ssize_t at = 0; n > 0 && at < n;) {
      auto* e = reinterpret_cast<inotify_event*>(buf + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
      std::string id;
      {
        std::lock_guard lock(watchMu_);
        auto it = watches_.find(e->wd);
        if (it == watches_.end()) continue;
        id = it->second;
        if (e->mask & IN_IGNORED) watches_.erase(it);  // the dir is gone
      }
      if (!(e->mask & IN_MOVED_TO) || std::string_view(e->name) != "exit.json") continue;
      auto c = findContainer(id);
      if (c && noteExit(**c)) publish(**c, v1::CONTAINER_STOPPED_EVENT);
    }
  }
}

Result<std::unique_ptr<Engine>> Engine::open(const CriConfig& config, EngineOptions options) {
  std::unique_ptr<Engine> e(new Engine(config, std::move(options)));
  for (const auto& dir : {config.root / "pods", config.root / "containers", config.state / "pods",
                          config.state / "containers"}) {
    BERTH_TRY(makeDirs(dir, 0711));
  }
  BERTH_TRY(e->recover());
  BERTH_TRY(e->startExitWatcher());
  return e;
}

std::filesystem::path Engine::podRecordPath(const std::string& id) const {
  return config_.root / "pods" / id / "pod.json";
}
std::filesystem::path Engine::podStateDir(const std::string& id) const {
  return config_.state / "pods" / id;
}
std::filesystem::path Engine::containerRecordPath(const std::string& id) const {
  return config_.root / "containers" / id / "container.json";
}
std::filesystem::path Engine::containerStateDir(const std::string& id) const {
  return config_.state / "containers" / id;
}
std::filesystem::path Engine::exitFile(const std::string& id) const {
  return containerStateDir(id) / "exit.json";
}

Status Engine::reserveName(const std::string& name, const std::string& id, std::string_view what) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = names_.emplace(name, id);
  if (!inserted) {
    return fail(Code::kAlreadyExists, "{} name \"{}\" is reserved for \"{}\"", what, name,
                it->second);
  }
  return {};
}

void Engine::releaseName(const std::string& name) {
  std::lock_guard lock(mu_);
  names_.erase(name);
}

void Engine::dropRecordIfUndone(std::string_view what, const std::string& id, const Status& undone,
                                const std::filesystem::path& recordDir) const {
  if (!undone) {
    logger()->warn("{} {}: roll back: {}", what, id, undone.error().message());
    return;
  }
  (void)removeAll(recordDir);
}

Status Engine::savePod(const PodRecord& rec) const {
  BERTH_TRY(makeDirs(podRecordPath(rec.id).parent_path(), 0700));
  return writeFileAtomic(podRecordPath(rec.id), podRecordToJson(rec), 0600);
}

Status Engine::saveContainer(const ContainerRecord& rec) const {
  BERTH_TRY(makeDirs(containerRecordPath(rec.id).parent_path(), 0700));
  return writeFileAtomic(containerRecordPath(rec.id), containerRecordToJson(rec), 0600);
}

Result<std::shared_ptr<Engine::Pod>> Engine::findPod(const std::string& id) {
  std::lock_guard lock(mu_);
  return lookup(pods_, id, "pod sandbox");
}

Result<std::shared_ptr<Engine::Container>> Engine::findContainer(const std::string& id) {
  std::lock_guard lock(mu_);
  return lookup(containers_, id, "container");
}

Result<OciRuntime> Engine::runtimeFor(const std::string& handler) const {
  const std::string& name = handler.empty() ? config_.defaultRuntimeHandler : handler;
  auto it = config_.runtimeHandlers.find(name);
  if (it == config_.runtimeHandlers.end()) {
    return fail(Code::kInvalidArgument, "runtime handler \"{}\" is not configured", name);
  }
  return OciRuntime(name, it->second, config_.cgroupDriver);
}

std::vector<std::shared_ptr<Engine::Container>> Engine::containersOf(const std::string& podId) {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Container>> out;
  for (const auto& [id, c] : containers_) {
    if (c->rec.podId == podId) out.push_back(c);
  }
  return out;
}

Status Engine::recover() {
  // Containers first: a pod's teardown needs its containers gone.
  for (const auto& id : listDirs(config_.root / "containers")) {
    auto text = readFile(containerRecordPath(id));
    auto rec =
        text ? parseContainerRecord(*text) : Result<ContainerRecord>(std::unexpected(text.error()));
    if (!rec || rec->phase == ContainerPhase::kCreating) {
      if (!rec)
        logger()->warn("container {}: unreadable record ({}): removing", id, rec.error().message());
      ContainerRecord partial;
      partial.id = id;
      if (rec) partial = *rec;
      logger()->info("container {}: rolling back an unfinished CreateContainer", id);
      dropRecordIfUndone("container", id, tearDownContainer(partial),
                         config_.root / "containers" / id);
      continue;
    }
    auto c = std::make_shared<Container>();
    c->rec = std::move(*rec);
    names_[c->rec.name] = id;
    containers_[id] = std::move(c);
  }
  for (const auto& id : listDirs(config_.root / "pods")) {
    auto text = readFile(podRecordPath(id));
    auto rec = text ? parsePodRecord(*text) : Result<PodRecord>(std::unexpected(text.error()));
    if (!rec || rec->phase == Phase::kCreating) {
      PodRecord partial;
      partial.id = id;
      if (rec) partial = *rec;
      logger()->info("pod {}: rolling back an unfinished RunPodSandbox", id);
      dropRecordIfUndone("pod", id, tearDownPod(partial), config_.root / "pods" / id);
      continue;
    }
    auto p = std::make_shared<Pod>();
    p->rec = std::move(*rec);
    names_[p->rec.name] = id;
    pods_[id] = std::move(p);
  }
  logger()->info("recovered {} pods and {} containers", pods_.size(), containers_.size());
  return {};
}

Result<shim::StreamingServer*> Engine::streaming() {
  std::lock_guard lock(streamingMu_);
  if (!streaming_) {
    const auto& s = config_.streamServer;
    bool v6 = s.address.find(':') != std::string::npos;
    std::string address =
        v6 ? fmt::format("[{}]:{}", s.address, s.port) : fmt::format("{}:{}", s.address, s.port);
    streaming_ = BERTH_TRY_CTX(shim::StreamingServer::start(address, *this), "streaming server");
  }
  return streaming_.get();
}

// ---- events ----

void Engine::EventQueue::push(v1::ContainerEventResponse event) {
  {
    std::lock_guard lock(mu_);
    // A subscriber that stopped reading must not grow without bound: drop the oldest.
    if (events_.size() >= 1000) events_.pop_front();
    events_.push_back(std::move(event));
  }
  cv_.notify_one();
}

std::optional<v1::ContainerEventResponse> Engine::EventQueue::pop(
    std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return std::nullopt;
  auto e = std::move(events_.front());
  events_.pop_front();
  return e;
}

std::shared_ptr<Engine::EventQueue> Engine::subscribe() {
  auto q = std::make_shared<EventQueue>();
  std::lock_guard lock(eventsMu_);
  subscribers_.push_back(q);
  return q;
}

void Engine::unsubscribe(const std::shared_ptr<EventQueue>& queue) {
  std::lock_guard lock(eventsMu_);
  std::erase(subscribers_, queue);
}

void Engine::publish(const Container& c, v1::ContainerEventType type) {
  std::lock_guard lock(eventsMu_);
  if (subscribers_.empty()) return;
  v1::ContainerEventResponse e;
  e.set_container_id(c.rec.id);
  e.set_container_event_type(type);
  e.set_created_at(nowNs());
  // The pod's status rides along (the kubelet's evented PLEG reads it).
  {
    std::lock_guard m(mu_);
    auto it = pods_.find(c.rec.podId);
    if (it != pods_.end()) fillPodStatus(it->second->rec, e.mutable_pod_sandbox_status());
  }
  for (const auto& q : subscribers_)
    q->push(e);
}

}  // namespace berth::cri
