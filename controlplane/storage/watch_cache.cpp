#include "controlplane/storage/watch_cache.h"

#include "controlplane/storage/watch_cache_impl.h"

namespace berth::controlplane::storage {

const std::string& StoredObject::serialized() const {
  // replace, not throw: an object built in memory may hold invalid UTF-8 that parse never let in.
  std::call_once(once_, [this] {
    text_ = object_.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  });
  return text_;
}

Result<nlohmann::json> decodeObject(const KeyValue& kv) {
  auto object = nlohmann::json::parse(kv.value, nullptr, false);
  if (object.is_discarded() || !object.is_object()) {
    return fail(Code::kDataLoss, "decode {}: the stored value is not a JSON object", kv.key);
  }
  auto metadata = object.find("metadata");
  if (metadata != object.end() && !metadata->is_object()) {
    return fail(Code::kDataLoss, "decode {}: metadata is not an object", kv.key);
  }
  object["metadata"]["resourceVersion"] = std::to_string(kv.modRevision);
  return object;
}

Result<std::unique_ptr<WatchCache>> WatchCache::start(Backend& backend, WatchCacheOptions options) {
  return WatchCacheImpl::start(backend, std::move(options));
}

}  // namespace berth::controlplane::storage
