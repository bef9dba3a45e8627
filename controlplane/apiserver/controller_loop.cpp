#include "controlplane/apiserver/controller_loop.h"

namespace berth::controlplane::apiserver {

ControllerLoop::ControllerLoop(storage::WatchCache& cache, std::string prefix, Sync sync,
                               std::chrono::milliseconds resync, std::chrono::milliseconds retry)
    : cache_(cache),
      prefix_(std::move(prefix)),
      sync_(std::move(sync)),
      resync_(resync),
      retry_(retry) {}

ControllerLoop::~ControllerLoop() {
  watch_.reset();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status ControllerLoop::start() {
  storage::WatchCache::WatchOptions options;
  options.keyPrefix = prefix_;
  auto handle = cache_.watch(std::move(options), [this](const storage::WatchEvent& e) {
    if (e.type != storage::WatchEvent::Type::kBookmark && e.key.size() > prefix_.size()) {
      enqueue(e.key.substr(prefix_.size()));
    }
    return true;
  });
  if (!handle) return std::unexpected(handle.error().context("watch " + prefix_));
  watch_ = std::move(*handle);
  thread_ = std::thread([this] { run(); });
  return {};
}

void ControllerLoop::enqueue(const std::string& name) {
  {
    std::lock_guard lock(mu_);
    dirty_.insert(name);
  }
  cv_.notify_all();
}

void ControllerLoop::run() {
  using Clock = std::chrono::steady_clock;
  auto nextResync = Clock::now() + resync_;
  std::set<std::string> retry;
  auto nextRetry = Clock::time_point::max();
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto now = Clock::now();
    if (now >= nextResync) {
      for (const auto& item : cache_.list(prefix_).items) {
        dirty_.insert(item.key.substr(prefix_.size()));
      }
      nextResync = now + resync_;
    }
    if (now >= nextRetry) {
      dirty_.insert(retry.begin(), retry.end());
      retry.clear();
      nextRetry = Clock::time_point::max();
    }
    if (dirty_.empty()) {
      cv_.wait_until(lock, std::min(nextResync, nextRetry));
      continue;
    }
    std::set<std::string> work;
    work.swap(dirty_);
    lock.unlock();
    for (const std::string& name : work) {
      if (!sync_(name)) retry.insert(name);
    }
    lock.lock();
    if (!retry.empty() && nextRetry == Clock::time_point::max()) {
      nextRetry = Clock::now() + retry_;
    }
  }
}

}  // namespace berth::controlplane::apiserver
