#pragma once
// The kubelet's per-container restart backoff (flowcontrol.Backoff as kuberuntime uses it for
// CrashLoopBackOff and ImagePullBackOff): 10 s doubling to 5 min, keyed by pod and container;
// a container that ran cleanly for twice the cap starts again from 10 s. Times are wall clock,
// as the runtime reports a container's finishedAt.
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace berth::kubelet {

class RestartBackoff {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  using Now = std::function<TimePoint()>;

  explicit RestartBackoff(
      std::chrono::seconds initial = std::chrono::seconds(10),
      std::chrono::seconds cap = std::chrono::seconds(300),
      Now now = [] { return std::chrono::system_clock::now(); });

  // The last failure, at `eventTime`, is still inside the key's current backoff.
  bool inBackoffSince(const std::string& key, TimePoint eventTime) const;
  // The key's last next() is less than its current backoff ago (image pulls).
  bool inBackoffSinceUpdate(const std::string& key) const;
  // The key's current backoff (0 when it has none).
  std::chrono::seconds current(const std::string& key) const;
  // A restart happens now: the next failure waits twice as long (up to the cap).
  void next(const std::string& key, TimePoint eventTime);
  // Forgets keys not updated for twice the cap.
  void gc();

 private:
  struct Entry {
    std::chrono::seconds backoff;
    TimePoint lastUpdate;
  };
  bool expired(const Entry& e, TimePoint eventTime) const {
    return eventTime - e.lastUpdate > 2 * cap_;
  }

  std::chrono::seconds initial_;
  std::chrono::seconds cap_;
  Now now_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace berth::kubelet
