#pragma once
// The apiserver's watch cache (its "cacher"): one watch on the backend feeds an in-memory copy of
// every object and a window of recent events. Lists and gets are served from memory; watches are
// fanned out to any number of clients from the window and then live, with no storage read per
// watcher. Each object is serialized at most once (StoredObject::serialized), however many
// watchers and lists send it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controlplane/storage/backend.h"

namespace berth::controlplane::storage {

// A decoded object, immutable once shared.
class StoredObject {
 public:
  explicit StoredObject(nlohmann::json object) : object_(std::move(object)) {}
  const nlohmann::json& json() const { return object_; }
  // object_.dump(), computed once (thread-safe).
  const std::string& serialized() const;

 private:
  nlohmann::json object_;
  mutable std::once_flag once_;
  mutable std::string text_;
};
using ObjectPtr = std::shared_ptr<const StoredObject>;

struct CachedObject {
  std::string key;
  ObjectPtr object;
  std::int64_t revision = 0;  // its mod revision
};

struct WatchEvent {
  // kError (added to the first draft of this interface): the watch ended and the sink is not
  // called again; `error` says why (kUnavailable: the cache lost its backend watch and re-listed,
  // so events may be missing; the apiserver closes such watches and clients resume, getting 410
  // if their revision is now outside the window). Without it a watcher could not tell "quiet"
  // from "dead".
  enum class Type { kAdded, kModified, kDeleted, kBookmark, kError };
  Type type = Type::kAdded;
  std::string key;   // empty for a bookmark
  ObjectPtr object;  // kDeleted: the last state with the delete's resourceVersion; null: bookmark
  std::int64_t revision = 0;
  // A bookmark that ends the initial events of a sendInitialEvents watch (the apiserver marks it
  // with the annotation "k8s.io/initial-events-end": "true").
  bool initialEventsEnd = false;
  std::optional<Error> error;  // kError only
};

struct WatchCacheOptions {
  std::string prefix = "/registry/";  // what the cache holds
  std::size_t eventWindow = 100'000;  // events kept for watches that resume from a revision
  // Turns a stored value into the object clients see (parse, metadata.resourceVersion = the mod
  // revision). A value that does not decode is logged and skipped, never fatal. Unset:
  // decodeObject. The cache itself restamps metadata.resourceVersion of a copy for a DELETED
  // event (the last state at the delete's revision), as the apiserver's cacher does.
  std::function<Result<nlohmann::json>(const KeyValue&)> decode;
};

// The default decode: the value parsed as a JSON object with metadata.resourceVersion set to
// the decimal mod revision. kDataLoss naming the key when the value is not a JSON object.
[[nodiscard]] Result<nlohmann::json> decodeObject(const KeyValue& kv);

class WatchCache {
 public:
  using Filter = std::function<bool(const nlohmann::json&)>;  // empty: everything

  struct Snapshot {
    std::vector<CachedObject> items;  // in key order
    std::int64_t revision = 0;        // the cache's revision when it was taken
  };

  struct WatchOptions {
    // "/registry/pods/" (all namespaces), "/registry/pods/ns1/": a prefix (ends with '/');
    // "/registry/pods/ns1/web": that key only (not "web-2"). list() reads keyPrefix the same way.
    std::string keyPrefix;
    // Events after this revision. 0: first an ADDED for every current object that passes the
    // filter (the apiserver's resourceVersion "0"/"" watch), then live events.
    std::int64_t afterRevision = 0;
    // With afterRevision 0: after the initial ADDED events, a bookmark with initialEventsEnd.
    bool sendInitialEvents = false;
    Filter filter;
    // A bookmark with the cache's revision at about this interval when nothing else was sent
    // (allowWatchBookmarks); zero: none.
    std::chrono::milliseconds bookmarkInterval{0};
  };

  // The sink runs on the cache's dispatch thread and must not block (queue and return). Returning
  // false ends the watch. An object that stops passing the filter arrives as kDeleted, one that
  // starts passing as kAdded, as the apiserver's cacher does.
  using Sink = std::function<bool(const WatchEvent&)>;

  // Lists the backend under options.prefix and watches it from that revision.
  [[nodiscard]] static Result<std::unique_ptr<WatchCache>> start(Backend& backend,
                                                                 WatchCacheOptions options);
  virtual ~WatchCache() = default;

  virtual std::int64_t revision() const = 0;
  // Waits until the cache applied `revision`; kDeadlineExceeded after `timeout` (the apiserver
  // answers that with 504 "Too large resource version").
  [[nodiscard]] virtual Status waitForRevision(std::int64_t revision,
                                               std::chrono::milliseconds timeout) const = 0;
  // waitForRevision(backend.currentRevision()): a consistent read.
  [[nodiscard]] virtual Status waitForFresh(std::chrono::milliseconds timeout) const = 0;

  virtual Snapshot list(std::string_view keyPrefix, const Filter& filter = {}) const = 0;
  virtual std::optional<CachedObject> get(std::string_view key) const = 0;

  // kOutOfRange (410 Gone, "too old resource version") when afterRevision is older than the
  // event window.
  [[nodiscard]] virtual Result<std::unique_ptr<WatchHandle>> watch(WatchOptions options,
                                                                   Sink sink) = 0;
};

}  // namespace berth::controlplane::storage
