#pragma once
// The child daemons of `berth up` (berth-cri, berth-kubelet, berth-proxy): started in order, each
// restarted with backoff when it exits on its own (as k3s restarts its containerd), and stopped in
// reverse order with SIGTERM, then SIGKILL after a grace period. Containers outlive their CRI
// daemon (each sits under its berth-monitor), so stopping the tree never stops a workload.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/child_process.h"
#include "common/spawn.h"

namespace berth::cmd {

class Supervisor {
 public:
  Supervisor() = default;
  ~Supervisor();  // stopAll()

  // Starts `name` now; the supervisor owns it from here on.
  [[nodiscard]] Status start(const std::string& name, SpawnOptions options);
  // Exited and not yet restarted (for readiness waits to fail fast with the log's name).
  bool running(const std::string& name) const;
  pid_t pid(const std::string& name) const;
  // Stops every child, last started first. Idempotent.
  void stopAll(std::chrono::milliseconds grace = std::chrono::seconds(10));

 private:
  struct Child {
    std::string name;
    SpawnOptions options;
    ChildProcess process;
    int restarts = 0;
    std::chrono::steady_clock::time_point restartAt{};
  };
  void watch();
  static void stopOne(Child& child, std::chrono::milliseconds grace);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Child> children_;
  bool stopping_ = false;
  std::thread watcher_;
};

}  // namespace berth::cmd
