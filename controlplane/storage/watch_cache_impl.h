#pragma once
// The WatchCache behind its interface. One dispatch thread owns every change: it applies the
// backend's events to the objects and the event window, then hands them to the watchers, so a
// watcher sees its catch-up and then the live events in revision order. Readers (list, get,
// watch registration) take the state lock shared; the dispatch thread takes it exclusively only
// to apply a batch, and calls sinks without it.
#include <memory>

#include "controlplane/storage/watch_cache.h"

namespace berth::controlplane::storage {

class WatchCacheImpl final : public WatchCache {
 public:
  [[nodiscard]] static Result<std::unique_ptr<WatchCache>> start(Backend& backend,
                                                                 WatchCacheOptions options);
  // Stops the dispatch thread, then the backend watch: no sink runs after it returns. Handles
  // may outlive the cache (they do nothing then).
  ~WatchCacheImpl() override;

  std::int64_t revision() const override;
  Status waitForRevision(std::int64_t revision, std::chrono::milliseconds timeout) const override;
  Status waitForFresh(std::chrono::milliseconds timeout) const override;
  Snapshot list(std::string_view keyPrefix, const Filter& filter = {}) const override;
  std::optional<CachedObject> get(std::string_view key) const override;
  Result<std::unique_ptr<WatchHandle>> watch(WatchOptions options, Sink sink) override;

  struct Core;

 private:
  explicit WatchCacheImpl(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  std::shared_ptr<Core> core_;
};

}  // namespace berth::controlplane::storage
