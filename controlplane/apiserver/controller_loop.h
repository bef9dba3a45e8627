#pragma once
// A control loop inside berth-server (as k3s runs kube-controller-manager's loops in-process):
// the names of one resource's objects marked dirty by the watch cache, every name again at each
// resync, and sync(name) on one thread. sync is idempotent, so a duplicate or missed event is
// harmless; one that returns false (not done: waiting on something) runs again after `retry`.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "controlplane/storage/watch_cache.h"

namespace berth::controlplane::apiserver {

class ControllerLoop {
 public:
  using Sync = std::function<bool(const std::string& name)>;

  // `prefix`: the resource's key prefix ("/registry/namespaces/"); the name is what follows it.
  ControllerLoop(storage::WatchCache& cache, std::string prefix, Sync sync,
                 std::chrono::milliseconds resync, std::chrono::milliseconds retry);
  ~ControllerLoop();  // stops the watch, then joins the thread

  [[nodiscard]] Status start();
  void enqueue(const std::string& name);

 private:
  void run();

  storage::WatchCache& cache_;
  std::string prefix_;
  Sync sync_;
  std::chrono::milliseconds resync_;
  std::chrono::milliseconds retry_;
  std::unique_ptr<storage::WatchHandle> watch_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> dirty_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::controlplane::apiserver
