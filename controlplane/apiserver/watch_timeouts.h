#pragma once
// Ends watches at their server-side timeout (timeoutSeconds, or min-request-timeout spread by a
// random factor) from one thread, so no watch holds a thread while it waits.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace berth::controlplane::apiserver {

class WatchTimeouts {
 public:
  using Clock = std::chrono::steady_clock;
  WatchTimeouts();
  ~WatchTimeouts();  // runs nothing more; pending callbacks are dropped

  // Calls `expire` once at `deadline`, unless cancel(id) came first. Returns the id.
  std::uint64_t add(Clock::time_point deadline, std::function<void()> expire);
  void cancel(std::uint64_t id);

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<Clock::time_point, std::uint64_t> byDeadline_;
  std::map<std::uint64_t, std::pair<Clock::time_point, std::function<void()>>> pending_;
  std::uint64_t nextId_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::controlplane::apiserver
