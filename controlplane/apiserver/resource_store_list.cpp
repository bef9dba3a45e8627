// ResourceStore's reads of many objects: list (from the watch cache, or from the backend at an
// exact revision for continued pages and resourceVersionMatch=Exact) and watch.
#include <charconv>

#include <fmt/format.h>

#include "controlplane/apiserver/resource_store.h"
#include "controlplane/storage/keys.h"

namespace berth::controlplane::apiserver {
namespace {

const Json& labelsOf(const Json& object) {
  static const Json kNone = Json::object();
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return kNone;
  auto l = meta->find("labels");
  return l != meta->end() && l->is_object() ? *l : kNone;
}

ApiError tooLargeResourceVersion(std::int64_t wanted, std::int64_t current) {
  ApiError e = kubeapi::timeoutStatus(
      fmt::format("Too large resource version: {}, current: {}", wanted, current), 1);
  e.details.causes.push_back({"ResourceVersionTooLarge", "Too large resource version", ""});
  return e;
}

ApiResult<std::int64_t> parseRevision(const std::string& version) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(version.data(), version.data() + version.size(), value);
  if (ec != std::errc() || end != version.data() + version.size() || value < 0) {
    return apiFail(kubeapi::badRequestStatus(fmt::format("invalid resource version: {}", version)));
  }
  return value;
}

}  // namespace

// Whether an object passes the request's selectors.
static bool matches(const ResourceStore& store, const ListOptions& options, const Json& object) {
  if (options.labelSelector && !options.labelSelector->matches(labelsOf(object))) return false;
  if (options.fieldSelector && !options.fieldSelector->matches(store.fieldsOf(object))) {
    return false;
  }
  return true;
}

ApiResult<ListResult> ResourceStore::list(const std::string& ns, const ListOptions& options) const {
  const std::string resourcePrefix = storage::resourcePrefix(served_.group, served_.resource);
  const std::string prefix =
      storage::namespacePrefix(served_.group, served_.resource, served_.namespaced ? ns : "");
  auto filter = [&](const Json& object) { return matches(*this, options, object); };
  bool selective = options.labelSelector || options.fieldSelector;

  // Where to start and at which revision: a continue token pins both.
  std::string start = prefix;
  std::int64_t exactRevision = 0;
  if (!options.continueToken.empty()) {
    if (!options.resourceVersion.empty() && options.resourceVersion != "0") {
      return apiFail(kubeapi::badRequestStatus(
          "specifying resource version is not allowed when using continue"));
    }
    ContinueToken token = BERTH_TRY(decodeContinue(options.continueToken));
    start = resourcePrefix + token.startKey;
    if (start < prefix || start.compare(0, prefix.size(), prefix) != 0) {
      return apiFail(kubeapi::badRequestStatus("continue key is not valid: not in this list"));
    }
    exactRevision = token.revision;
  } else if (options.resourceVersionMatch == "Exact" ||
             (options.limit > 0 && !options.resourceVersion.empty() &&
              options.resourceVersion != "0" && options.resourceVersionMatch.empty())) {
    exactRevision = BERTH_TRY(parseRevision(options.resourceVersion));
  } else if (options.resourceVersion.empty()) {
    if (auto fresh = cache_.waitForFresh(kFreshTimeout); !fresh) {
      return apiFail(apiErrorFrom(fresh.error(), groupResource(), ""));
    }
  } else if (options.resourceVersion != "0") {
    std::int64_t wanted = BERTH_TRY(parseRevision(options.resourceVersion));
    if (!cache_.waitForRevision(wanted, kFreshTimeout)) {
      return apiFail(tooLargeResourceVersion(wanted, cache_.revision()));
    }
  }

  ListResult result;
  std::vector<storage::CachedObject> page;
  bool more = false;
  if (exactRevision == 0 || exactRevision == cache_.revision()) {
    // The cache holds that revision: no storage read.
    storage::WatchCache::Snapshot snapshot = cache_.list(prefix, filter);
    if (exactRevision != 0 && snapshot.revision != exactRevision) {
      return list(ns, options);  // the cache moved on meanwhile; read the backend instead
    }
    result.revision = snapshot.revision;
    auto first = std::lower_bound(
        snapshot.items.begin(), snapshot.items.end(), start,
        [](const storage::CachedObject& o, const std::string& key) { return o.key < key; });
    std::size_t available = static_cast<std::size_t>(snapshot.items.end() - first);
    std::size_t take =
        options.limit > 0 ? std::min<std::size_t>(available, options.limit) : available;
    page.assign(std::make_move_iterator(first), std::make_move_iterator(first + take));
    more = take < available;
    if (more && !selective) result.remainingItemCount = available - take;
  } else {
    // An older revision: read the backend at it, filtering as we go.
    std::string end = storage::prefixEnd(prefix);
    result.revision = exactRevision;
    while (options.limit == 0 || static_cast<std::int64_t>(page.size()) < options.limit) {
      std::int64_t want = options.limit > 0 ? options.limit - page.size() + 1 : 0;
      auto range = backend_.range(start, end, exactRevision, want);
      if (!range) {
        if (range.error().code() == Code::kOutOfRange && !options.continueToken.empty()) {
          return apiFail(kubeapi::resourceExpiredStatus(
              "The provided continue parameter is too old to display a consistent list result. "
              "You can start a new list without the continue parameter, or use the continue "
              "token in this response to retrieve the remainder of the results. Continuing with "
              "the provided token results in an inconsistent list - objects that were created, "
              "modified, or deleted between the time the first chunk was returned and now may "
              "show up in the list."));
        }
        return apiFail(apiErrorFrom(range.error(), groupResource(), ""));
      }
      for (storage::KeyValue& kv : range->kvs) {
        auto decoded = storage::decodeObject(kv);
        if (!decoded) continue;  // logged by the decoder; never fatal for a list
        start = kv.key + '\0';
        if (!filter(*decoded)) continue;
        if (options.limit > 0 && static_cast<std::int64_t>(page.size()) == options.limit) {
          more = true;
          break;
        }
        page.push_back(
            {kv.key, std::make_shared<storage::StoredObject>(std::move(*decoded)), kv.modRevision});
      }
      if (more || !range->more) break;
    }
  }
  if (more && !page.empty()) {
    result.continueToken =
        encodeContinue({result.revision, page.back().key.substr(resourcePrefix.size()) + '\0'});
  }
  result.items.reserve(page.size());
  for (storage::CachedObject& o : page)
    result.items.push_back(std::move(o.object));
  return result;
}

std::int64_t ResourceStore::count() const {
  return static_cast<std::int64_t>(
      cache_.list(storage::resourcePrefix(served_.group, served_.resource)).items.size());
}

ApiResult<std::unique_ptr<storage::WatchHandle>> ResourceStore::watch(
    const std::string& ns, const ListOptions& options, storage::WatchCache::Sink sink) const {
  storage::WatchCache::WatchOptions watchOptions;
  watchOptions.keyPrefix =
      storage::namespacePrefix(served_.group, served_.resource, served_.namespaced ? ns : "");
  if (options.labelSelector || options.fieldSelector) {
    watchOptions.filter = [this, options](const Json& object) {
      return matches(*this, options, object);
    };
  }
  if (options.sendInitialEvents.value_or(false)) {
    if (options.resourceVersionMatch != "NotOlderThan" || !options.allowWatchBookmarks) {
      return apiFail(kubeapi::invalidStatus(
          {"meta.k8s.io", "ListOptions"}, "",
          {FieldError::forbidden(kubeapi::FieldPath("sendInitialEvents"),
                                 "sendInitialEvents is forbidden for watch unless the "
                                 "WatchList feature gate is enabled and resourceVersionMatch is "
                                 "NotOlderThan and allowWatchBookmarks is true")}));
    }
    watchOptions.sendInitialEvents = true;
  }
  if (!options.resourceVersion.empty() && options.resourceVersion != "0") {
    std::int64_t after = BERTH_TRY(parseRevision(options.resourceVersion));
    if (options.sendInitialEvents.value_or(false)) {
      if (!cache_.waitForRevision(after, kFreshTimeout)) {
        return apiFail(tooLargeResourceVersion(after, cache_.revision()));
      }
    } else {
      watchOptions.afterRevision = after;
    }
  }
  if (options.allowWatchBookmarks) watchOptions.bookmarkInterval = bookmarkInterval_;
  auto handle = cache_.watch(std::move(watchOptions), std::move(sink));
  if (!handle) {
    if (handle.error().code() == Code::kOutOfRange) {
      return apiFail(kubeapi::resourceExpiredStatus(handle.error().message()));
    }
    return apiFail(apiErrorFrom(handle.error(), groupResource(), ""));
  }
  return std::move(*handle);
}

}  // namespace berth::controlplane::apiserver
