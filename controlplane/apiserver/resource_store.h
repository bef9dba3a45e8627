#pragma once
// The generic registry store of one resource (k8s.io/apiserver registry/generic/registry/store.go):
// create, get, list, watch, update (with guaranteed-update retries), delete (preconditions,
// graceful deletion, finalizers) over the storage Backend, reading through the WatchCache. What
// differs per resource is its Strategy; what differs per request (admission, patching) comes in
// as callbacks, so this class knows neither HTTP nor authentication.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controlplane/apiserver/api_error.h"
#include "controlplane/apiserver/list_options.h"
#include "controlplane/apiserver/strategy.h"
#include "controlplane/schema/served.h"
#include "controlplane/storage/backend.h"
#include "controlplane/storage/watch_cache.h"

namespace berth::controlplane::apiserver {

// Seams for what the store reads from the world: the time and new UIDs.
struct StoreEnv {
  std::function<std::chrono::system_clock::time_point()> now;
  std::function<std::string()> newUid;
  std::function<std::string()> randomSuffix;  // generateName's 5 characters
  // How often a watch that allows bookmarks gets one (the apiserver: about every minute).
  std::chrono::milliseconds bookmarkInterval{60'000};
};

// Admission at the points the apiserver runs it: `mutate` after the store prepared the object and
// before validation; `validate` after validation, before the write. Either may refuse.
struct WriteHooks {
  std::function<std::optional<ApiError>(Json& object, const Json* old)> mutate;
  std::function<std::optional<ApiError>(const Json& object, const Json* old)> validate;
};

struct WriteOptions {
  bool dryRun = false;
  // An update of an absent object creates it, whatever the strategy says (server-side apply).
  bool createIfMissing = false;
  WriteHooks hooks;
};

struct DeleteOptions {
  std::optional<std::int64_t> gracePeriodSeconds;
  std::optional<std::string> preconditionUid;
  std::optional<std::string> preconditionResourceVersion;
  std::string propagationPolicy;  // "", Orphan, Background, Foreground
  bool dryRun = false;
  // Admission for the delete (NodeRestriction); gets the object as stored.
  std::function<std::optional<ApiError>(const Json& object)> admit;
};

// The result of a delete: the object, still there with a deletionTimestamp (graceful or waiting
// for finalizers), or gone.
struct DeleteResult {
  Json object;
  bool deleted = false;
};

// A function from the stored object (null when absent) to the object to write; the PUT body or
// a patch applied to the current object. Errors end the update.
using UpdateFn = std::function<ApiResult<Json>(const Json* current)>;

struct ListResult {
  std::vector<storage::ObjectPtr> items;
  std::int64_t revision = 0;
  std::string continueToken;
  std::optional<std::int64_t> remainingItemCount;
};

class ResourceStore {
 public:
  ResourceStore(schema::ServedResource served, const Strategy& strategy, storage::Backend& backend,
                storage::WatchCache& cache, StoreEnv env);

  const schema::ServedResource& served() const { return served_; }
  const Strategy& strategy() const { return strategy_; }
  GroupResource groupResource() const { return {served_.group, served_.resource}; }

  [[nodiscard]] ApiResult<storage::ObjectPtr> get(const std::string& ns,
                                                  const std::string& name) const;
  [[nodiscard]] ApiResult<ListResult> list(const std::string& ns, const ListOptions& options) const;
  // Watch events of this resource in `ns` ("" all) matching the selectors; the sink runs on the
  // cache's dispatch thread.
  [[nodiscard]] ApiResult<std::unique_ptr<storage::WatchHandle>> watch(
      const std::string& ns, const ListOptions& options, storage::WatchCache::Sink sink) const;

  [[nodiscard]] ApiResult<Json> create(const std::string& ns, Json object,
                                       const WriteOptions& options);
  // PUT and PATCH of the object or its /status: `subresource` "" or "status".
  [[nodiscard]] ApiResult<Json> update(const std::string& ns, const std::string& name,
                                       const std::string& subresource, const UpdateFn& updated,
                                       const WriteOptions& options);
  [[nodiscard]] ApiResult<DeleteResult> remove(const std::string& ns, const std::string& name,
                                               const DeleteOptions& options);

  // How many objects are stored (from the cache), for /metrics.
  std::int64_t count() const;
  // The object's selectable fields (metadata.name, metadata.namespace and the strategy's).
  FieldSet fieldsOf(const Json& object) const;
  std::string keyOf(const std::string& ns, const std::string& name) const;

 private:
  // How long a read waits for the watch cache to catch up with storage before it gives up.
  static constexpr std::chrono::seconds kFreshTimeout{3};

  [[nodiscard]] ApiResult<Json> createLocked(const std::string& ns, Json object,
                                             const WriteOptions& options);
  // Prepares and validates `object` as an update of `current`; returns it ready to store.
  [[nodiscard]] ApiResult<Json> prepareUpdate(const std::string& ns, const std::string& name,
                                              const std::string& subresource, Json object,
                                              const Json& current,
                                              const WriteOptions& options) const;
  [[nodiscard]] ApiResult<Json> readCurrent(const std::string& key,
                                            std::int64_t* modRevision) const;
  [[nodiscard]] ApiResult<DeleteResult> deleteNow(const std::string& key, const Json& object,
                                                  std::int64_t modRevision, bool dryRun);
  std::string nowTimestamp() const;

  schema::ServedResource served_;
  const Strategy& strategy_;
  storage::Backend& backend_;
  storage::WatchCache& cache_;
  StoreEnv env_;
  std::chrono::milliseconds bookmarkInterval_;
};

}  // namespace berth::controlplane::apiserver
