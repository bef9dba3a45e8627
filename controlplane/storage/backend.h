#pragma once
// The key-value store under berth-server, in etcd v3's model (one global revision counter, a
// create and a mod revision per key, compare-and-swap on the mod revision, watch from a revision,
// compaction), so that the embedded SQLite backend and the etcd backend are interchangeable and
// pass one test suite. Keys are "/registry/<resource>[.<group>]/<namespace>/<name>"; values are
// the objects' JSON without metadata.resourceVersion (the mod revision is the resourceVersion).
//
// Error codes: kAlreadyExists (create of an existing key), kNotFound, kOutOfRange (a revision that
// is compacted: the apiserver's 410 Gone / "Expired"), kUnavailable (backend unreachable),
// kDataLoss (a corrupt store).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace berth::controlplane::storage {

struct KeyValue {
  std::string key;
  std::string value;
  std::int64_t createRevision = 0;
  std::int64_t modRevision = 0;
};

struct Event {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  // kPut: the new value, modRevision = the event's revision (createRevision == modRevision for a
  // create). kDelete: the key with its last value, modRevision = the revision of the delete.
  KeyValue kv;
  // The value before this event (kPut of an existing key, kDelete); nullopt for a create.
  std::optional<KeyValue> prev;
};

struct RangeResult {
  std::vector<KeyValue> kvs;  // in key order
  std::int64_t revision = 0;  // the store revision the range was read at
  bool more = false;          // a limit cut the range short
};

// The outcome of a compare-and-swap.
struct TxnResult {
  bool succeeded = false;
  // succeeded: the written key (the new mod revision; for a delete, the last value with the
  // delete's revision). Failed precondition: the key as it is now, nullopt when it is absent.
  std::optional<KeyValue> kv;
};

// A running watch; destroying it cancels it (no call to its sink starts after the destructor).
class WatchHandle {
 public:
  virtual ~WatchHandle() = default;
  // Asks for an onProgress call (etcd's WatchProgressRequest). Added to the interface: a watcher
  // whose prefix saw no recent write cannot otherwise learn that it is current, and the watch
  // cache needs that for waitForFresh (the apiserver's consistent reads from cache do the same).
  virtual void requestProgress() {}
};

struct WatchCallbacks {
  // Events in revision order, each revision once, all events of one transaction in one call.
  std::function<void(std::span<const Event>)> onEvents;
  // The watch ended: kOutOfRange when its start was compacted, kUnavailable on backend loss.
  std::function<void(const Error&)> onError;
  // Every event of this watch with a revision <= the argument was delivered (etcd's progress
  // notification). Comes after requestProgress(), in order with onEvents; may come unasked.
  std::function<void(std::int64_t)> onProgress;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // The newest revision (0 for an empty SQLite store; a new etcd cluster starts at 1).
  [[nodiscard]] virtual Result<std::int64_t> currentRevision() = 0;
  // The oldest revision a range or a watch may still start from.
  [[nodiscard]] virtual Result<std::int64_t> compactedRevision() = 0;

  // Keys in [start, end) as of `revision` (0: the newest), at most `limit` (0: no limit).
  // `end` empty: just `start`; `end` "\0": every key >= start (etcd's convention).
  // kOutOfRange if `revision` is older than compaction allows, kInvalidArgument if it is newer
  // than the store.
  [[nodiscard]] virtual Result<RangeResult> range(std::string_view start, std::string_view end,
                                                  std::int64_t revision, std::int64_t limit) = 0;
  [[nodiscard]] Result<std::optional<KeyValue>> get(std::string_view key);
  // Counts the keys with this prefix now (for the apiserver's remainingItemCount and metrics).
  [[nodiscard]] virtual Result<std::int64_t> count(std::string_view prefix) = 0;

  // Writes a new key; kAlreadyExists if it exists. Returns the written key.
  [[nodiscard]] virtual Result<KeyValue> create(std::string_view key, std::string_view value) = 0;
  // Writes iff the key exists with this mod revision.
  [[nodiscard]] virtual Result<TxnResult> update(std::string_view key, std::string_view value,
                                                 std::int64_t expectedModRevision) = 0;
  // Deletes iff the key exists with this mod revision (0: any revision).
  [[nodiscard]] virtual Result<TxnResult> remove(std::string_view key,
                                                 std::int64_t expectedModRevision) = 0;

  // Events of keys under `prefix` with a revision > `afterRevision`, first the stored ones, then
  // live ones as they are committed. Acknowledged writes are never missed or reordered.
  // kOutOfRange from the call when afterRevision < compactedRevision(); a compaction that races
  // with the start may instead end the watch through onError.
  [[nodiscard]] virtual Result<std::unique_ptr<WatchHandle>> watch(std::string_view prefix,
                                                                   std::int64_t afterRevision,
                                                                   WatchCallbacks callbacks) = 0;

  // Drops the history older than `revision` (the newest value of every live key stays); ranges
  // at `revision` and watches after it still work. A revision at or below compactedRevision() is
  // a no-op success (several servers may compact); one above currentRevision() kInvalidArgument.
  [[nodiscard]] virtual Status compact(std::int64_t revision) = 0;

  // The size of the store on disk, for /metrics and the benchmark.
  [[nodiscard]] virtual Result<std::int64_t> sizeBytes() = 0;
};

// "/registry/pods/" -> "/registry/pods0": the end of a prefix range.
std::string prefixEnd(std::string_view prefix);
// Whether `key` lies in the range [start, end) as range() reads it.
bool inRange(std::string_view key, std::string_view start, std::string_view end);

}  // namespace berth::controlplane::storage
