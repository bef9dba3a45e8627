#pragma once
// client-go's Reflector: keeps a store in step with the server by listing, then watching from
// the list's resourceVersion.
//   - The first list asks for resourceVersion "0" (the server's cache), later ones for the last
//     seen version; after a 410 Gone/Expired it lists with "" (a consistent read). Lists are
//     paged (pageSize); an expired continue token falls back to one full list.
//   - Watches ask for bookmarks and a server-side timeout between minWatchTimeout and twice
//     that. A watch the server ends, or a dropped connection, is re-opened from the last seen
//     resourceVersion (with backoff when it ended at once or failed to open); an ERROR event
//     or a watch answer of 410 relists; other failures relist after a backoff.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubeapi/backoff.h"
#include "kubeapi/clock.h"
#include "kubeapi/lister_watcher.h"

namespace berth::kubeapi {

// Where the reflector puts what it learns.
class ReflectorStore {
 public:
  virtual ~ReflectorStore() = default;
  // A complete list (every item has kind and apiVersion set).
  virtual void replace(std::vector<nlohmann::json> items, const std::string& resourceVersion) = 0;
  virtual void added(nlohmann::json obj) = 0;
  virtual void modified(nlohmann::json obj) = 0;
  virtual void deleted(nlohmann::json obj) = 0;
};

struct ReflectorOptions {
  std::int64_t pageSize = 500;
  std::chrono::seconds minWatchTimeout{300};
  // client-go's reflector backoff: 800 ms doubling to 30 s with full jitter, reset after 2 min
  // of quiet.
  BackoffPolicy backoff{};
  // How often a blocked watch read checks for stop() (stop() also ends the watch at once).
  std::chrono::milliseconds pollInterval{500};
};

struct ReflectorStats {
  int lists = 0;     // complete lists stored
  int watches = 0;   // watches opened
  int backoffs = 0;  // waits between attempts
  int expired = 0;   // 410s that forced a consistent relist
};

class Reflector {
 public:
  Reflector(ListerWatcher& lw, ReflectorStore& store, ReflectorOptions options = {},
            Clock& clock = RealClock::instance());

  // List-and-watch rounds until stop(), with a backoff after a failed round.
  void run();
  // Ends run() (and listAndWatch()) soon: the current watch is stopped. Any thread.
  void stop();
  // One round: list, then watch until something calls for a relist. The error, if any, is
  // why the round ended (a relist for a 410 is not an error).
  [[nodiscard]] Status listAndWatch();

  std::string lastSyncResourceVersion() const;
  bool hasSynced() const { return synced_; }
  ReflectorStats stats() const;

 private:
  enum class WatchEnd { kRewatch, kRewatchAfterBackoff, kRelist, kStop };
  [[nodiscard]] Status list();
  WatchEnd handleWatch(Watcher& w, std::optional<ApiError>& error);
  void setResourceVersion(const nlohmann::json& obj);
  // Waits out one backoff step; false if stopped meanwhile.
  bool backoff();

  ListerWatcher& lw_;
  ReflectorStore& store_;
  ReflectorOptions options_;
  Clock& clock_;
  Backoff backoff_;
  std::mt19937 rng_{std::random_device{}()};

  mutable std::mutex mu_;
  std::condition_variable stopCv_;
  bool stopped_ = false;
  Watcher* current_ = nullptr;
  std::string lastRV_;
  bool lastRVUnavailable_ = false;
  std::atomic<bool> synced_{false};
  ReflectorStats stats_;
};

}  // namespace berth::kubeapi
