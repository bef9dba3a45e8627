#include "kubelet/file_pod_source.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "common/file_util.h"
#include "kubeapi/object_meta.h"
#include "kubelet/kubelet_log.h"
#include "kubelet/static_pod.h"

namespace berth::kubelet {
namespace {

constexpr auto kSettle = std::chrono::milliseconds(100);
constexpr auto kWatchRetry = std::chrono::seconds(1);

constexpr std::uint32_t kWatchMask = IN_CREATE | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE |
                                     IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF |
                                     IN_MOVE_SELF;

}  // namespace

void FilePodSource::start() {
  inotify_ = UniqueFd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify_) {
    kubeletLog()->warn("inotify [path={}]: {}; reading every {} ms only", options_.path.string(),
                       std::strerror(errno), options_.checkFrequency.count());
  }
  // Watch, then read: a file written in between is not missed.
  ensureWatch();
  rescan();
  stopFd_ = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  thread_ = std::thread([this] { watchLoop(); });
}

void FilePodSource::stop() {
  if (!thread_.joinable()) return;
  const std::uint64_t one = 1;
  (void)!::write(stopFd_.get(), &one, sizeof one);
  thread_.join();
}

void FilePodSource::ensureWatch() {
  if (!inotify_ || watch_ >= 0) return;
  watch_ = ::inotify_add_watch(inotify_.get(), options_.path.c_str(), kWatchMask);
}

FilePodSource::Wake FilePodSource::waitUntil(std::chrono::steady_clock::time_point deadline,
                                             bool events) {
  pollfd fds[2] = {
      {.fd = stopFd_.get(), .events = POLLIN, .revents = 0},
      {.fd = inotify_ && events ? inotify_.get() : -1, .events = POLLIN, .revents = 0}};
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  int n = ::poll(fds, 2, static_cast<int>(std::max<std::int64_t>(0, left.count())));
  if (n > 0 && (fds[0].revents & POLLIN)) return Wake::kStop;
  if (n > 0 && (fds[1].revents & POLLIN)) return Wake::kEvent;
  return Wake::kTimeout;
}

void FilePodSource::drainEvents() {
  if (!inotify_) return;
  alignas(inotify_event) char buf[4096];
  ssize_t len;
  while ((len = ::read(inotify_.get(), buf, sizeof buf)) > 0) {
    for (char* at = buf; at < buf + len;) {
      auto* ev = reinterpret_cast<inotify_event*>(at);
      if (ev->mask & IN_IGNORED) watch_ = -1;  // the path went away: watch it again later
      at += sizeof(inotify_event) + ev->len;
    }
  }
}

void FilePodSource::watchLoop() {
  using Clock = std::chrono::steady_clock;
  auto nextRead = Clock::now() + options_.checkFrequency;
  while (true) {
    ensureWatch();
    auto deadline = nextRead;
    // A path that could not be watched yet (it does not exist) is tried again sooner.
    if (inotify_ && watch_ < 0) deadline = std::min(deadline, Clock::now() + kWatchRetry);
    Wake wake = waitUntil(deadline, true);
    // Events come in bursts (an editor's write, rename, chmod): read once they settle.
    if (wake == Wake::kEvent) wake = waitUntil(Clock::now() + kSettle, false);
    if (wake == Wake::kStop) return;
    drainEvents();
    rescan();
    if (Clock::now() >= nextRead) nextRead = Clock::now() + options_.checkFrequency;
  }
}

std::vector<std::filesystem::path> FilePodSource::manifestFiles() const {
  std::error_code ec;
  const auto status = std::filesystem::status(options_.path, ec);
  if (ec || !std::filesystem::exists(status)) return {};
  if (std::filesystem::is_regular_file(status)) return {options_.path};
  std::vector<std::filesystem::path> files;
  for (auto it = std::filesystem::directory_iterator(options_.path, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with(".")) continue;  // upstream globs "[^.]*"
    std::error_code fileEc;
    if (!it->is_regular_file(fileEc)) continue;  // not recursing, as upstream
    files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void FilePodSource::rescan() {
  std::map<std::filesystem::path, kubeapi::ObjectPtr> previous;
  {
    std::lock_guard lock(mu_);
    previous = byFile_;
  }
  const std::string seen = rfc3339Nano(std::chrono::system_clock::now());
  std::map<std::filesystem::path, kubeapi::ObjectPtr> next;
  std::map<std::string, std::filesystem::path> fileOfKey;
  for (const auto& file : manifestFiles()) {
    auto old = previous.find(file);
    auto decoded = [&]() -> Result<nlohmann::json> {
      auto data = BERTH_TRY(readFile(file));
      return decodeStaticPod(data, file.string(), options_.nodeName, seen);
    }();
    kubeapi::ObjectPtr pod;
    if (!decoded) {
      std::string message = decoded.error().message();
      if (lastError_[file] != message) {
        kubeletLog()->warn("can't process manifest file [path={}]: {}", file.string(), message);
        lastError_[file] = message;
      }
      if (old == previous.end()) continue;
      pod = old->second;  // keep the last good pod of a file being rewritten
    } else {
      lastError_.erase(file);
      // An unchanged file keeps its pod (and the time it was first seen).
      if (old != previous.end() && kubeapi::uidOf(*old->second) == kubeapi::uidOf(*decoded)) {
        pod = old->second;
      } else {
        pod = std::make_shared<const nlohmann::json>(std::move(*decoded));
      }
    }
    const std::string key = kubeapi::objectKey(*pod);
    if (auto dup = fileOfKey.find(key); dup != fileOfKey.end()) {
      kubeletLog()->warn("manifest files {} and {} both define pod {}; using the latter",
                         dup->second.string(), file.string(), key);
      next.erase(dup->second);
    }
    fileOfKey[key] = file;
    next[file] = std::move(pod);
  }
  for (auto it = lastError_.begin(); it != lastError_.end();)
    it = next.contains(it->first) || std::filesystem::exists(it->first) ? std::next(it)
                                                                        : lastError_.erase(it);

  std::map<std::string, kubeapi::ObjectPtr> before, after;
  for (const auto& [f, p] : previous)
    before[std::string(kubeapi::uidOf(*p))] = p;
  for (const auto& [f, p] : next)
    after[std::string(kubeapi::uidOf(*p))] = p;
  std::vector<kubeapi::ObjectPtr> added, removed;
  for (const auto& [uid, p] : after)
    if (!before.contains(uid)) added.push_back(p);
  for (const auto& [uid, p] : before)
    if (!after.contains(uid)) removed.push_back(p);
  {
    std::lock_guard lock(mu_);
    byFile_ = std::move(next);
  }
  for (const auto& p : added)
    kubeletLog()->info("static pod [pod={} uid={}]", kubeapi::objectKey(*p), kubeapi::uidOf(*p));
  for (const auto& p : removed)
    kubeletLog()->info("static pod gone [pod={} uid={}]", kubeapi::objectKey(*p),
                       kubeapi::uidOf(*p));
  if ((!added.empty() || !removed.empty()) && options_.onChange) options_.onChange(added, removed);
}

kubeapi::ObjectPtr FilePodSource::get(const std::string& uid) const {
  std::lock_guard lock(mu_);
  for (const auto& [file, pod] : byFile_)
    if (kubeapi::uidOf(*pod) == uid) return pod;
  return nullptr;
}

kubeapi::ObjectPtr FilePodSource::getByKey(const std::string& key) const {
  std::lock_guard lock(mu_);
  for (const auto& [file, pod] : byFile_)
    if (kubeapi::objectKey(*pod) == key) return pod;
  return nullptr;
}

std::vector<kubeapi::ObjectPtr> FilePodSource::pods() const {
  std::lock_guard lock(mu_);
  std::vector<kubeapi::ObjectPtr> out;
  for (const auto& [file, pod] : byFile_)
    out.push_back(pod);
  return out;
}

}  // namespace berth::kubelet
