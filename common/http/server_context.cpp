#include "common/http/server_context.h"

namespace berth::http {

std::uint64_t ConnectionRegistry::add(std::shared_ptr<Connection> connection) {
  std::lock_guard lock(mu_);
  if (!adding_ || open_.size() >= max_) return 0;
  std::uint64_t id = nextId_++;
  open_.emplace(id, std::move(connection));
  return id;
}

void ConnectionRegistry::replace(std::uint64_t id, std::shared_ptr<Connection> connection) {
  std::lock_guard lock(mu_);
  auto it = open_.find(id);
  if (it != open_.end()) it->second = std::move(connection);
}

void ConnectionRegistry::remove(std::uint64_t id) {
  std::shared_ptr<Connection> last;  // released outside the lock
  std::lock_guard lock(mu_);
  auto it = open_.find(id);
  if (it == open_.end()) return;
  last = std::move(it->second);
  open_.erase(it);
  if (open_.empty()) emptied_.notify_all();
}

void ConnectionRegistry::stopAdding() {
  std::lock_guard lock(mu_);
  adding_ = false;
}

std::vector<std::shared_ptr<Connection>> ConnectionRegistry::snapshot() {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Connection>> out;
  out.reserve(open_.size());
  for (auto& [id, c] : open_)
    out.push_back(c);
  return out;
}

std::size_t ConnectionRegistry::size() {
  std::lock_guard lock(mu_);
  return open_.size();
}

bool ConnectionRegistry::waitEmpty(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return emptied_.wait_until(lock, deadline, [&] { return open_.empty(); });
}

bool ServerContext::acquireUpgrade() {
  std::size_t n = upgraded.load();
  do {
    if (n >= options.maxUpgradedConnections) return false;
  } while (!upgraded.compare_exchange_weak(n, n + 1));
  return true;
}

}  // namespace berth::http
