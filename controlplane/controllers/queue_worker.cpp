#include "controlplane/controllers/queue_worker.h"

#include "controlplane/controllers/controller_log.h"

namespace berth::controlplane::controllers {

QueueWorker::QueueWorker(std::string name, Sync sync)
    : name_(std::move(name)), sync_(std::move(sync)) {}

QueueWorker::~QueueWorker() {
  stop();
}

void QueueWorker::start(int workers) {
  for (int i = 0; i < std::max(workers, 1); ++i)
    threads_.emplace_back([this] { work(); });
}

void QueueWorker::stop() {
  queue_.shutDown();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void QueueWorker::work() {
  while (auto key = queue_.get()) {
    Status status = sync_(*key);
    if (status) {
      queue_.forget(*key);
    } else {
      controllerLog()->warn("{}: syncing {}: {}", name_, *key, status.error().message());
      queue_.addRateLimited(*key);
    }
    queue_.done(*key);
  }
}

std::string QueueWorker::keyOf(const nlohmann::json& obj) {
  const auto& meta = obj.value("metadata", nlohmann::json::object());
  std::string ns = meta.value("namespace", "");
  std::string name = meta.value("name", "");
  return ns.empty() ? name : ns + "/" + name;
}

std::pair<std::string, std::string> QueueWorker::splitKey(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

}  // namespace berth::controlplane::controllers
