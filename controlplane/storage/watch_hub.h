#pragma once
// Watches for a backend that commits in this process (SQLite). The writer publishes each
// committed batch once; one dispatcher thread hands it to every watcher whose range it touches,
// after that watcher's catch-up from stored history. No polling and no storage read per event:
// only a watch that starts in the past reads the store, once.
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "controlplane/storage/backend.h"

namespace berth::controlplane::storage {

class WatchHub {
 public:
  // The stored events of keys in [start, end) with after < revision <= upTo, oldest first, all
  // from one snapshot; kOutOfRange when `after` is older than the compaction.
  using HistoryReader = std::function<Result<std::vector<Event>>(
      std::string_view start, std::string_view end, std::int64_t after, std::int64_t upTo)>;

  WatchHub(std::int64_t revision, HistoryReader history);
  // Stops the dispatcher: no callback runs after it returns. Handles may outlive the hub.
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // The writer, in commit order, once the batch is durable: every event up to `revision`.
  void publish(std::vector<Event> events, std::int64_t revision);
  // The newest published revision.
  std::int64_t revision() const;

  [[nodiscard]] Result<std::unique_ptr<WatchHandle>> watch(std::string_view prefix,
                                                           std::int64_t afterRevision,
                                                           WatchCallbacks callbacks);

 private:
  struct Core;
  std::shared_ptr<Core> core_;
};

}  // namespace berth::controlplane::storage
