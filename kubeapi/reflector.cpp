#include "kubeapi/reflector.h"

#include <spdlog/spdlog.h>

#include "kubeapi/object_meta.h"
#include "kubeapi/status_errors.h"

namespace berth::kubeapi {
namespace {

// A failure to reach the server at all (client-go checks for "connection refused").
bool unreachable(const ApiError& e) {
  return e.httpStatus() == 0 && e.code() == Code::kUnavailable;
}

std::string stringAt(const nlohmann::json& j, const char* a, const char* b) {
  if (!j.is_object()) return {};
  auto x = j.find(a);
  if (x == j.end() || !x->is_object()) return {};
  auto y = x->find(b);
  return y != x->end() && y->is_string() ? y->get<std::string>() : std::string();
}

}  // namespace

Reflector::Reflector(ListerWatcher& lw, ReflectorStore& store, ReflectorOptions options,
                     Clock& clock)
    : lw_(lw), store_(store), options_(options), clock_(clock), backoff_(options.backoff, clock) {}

std::string Reflector::lastSyncResourceVersion() const {
  std::lock_guard lock(mu_);
  return lastRV_;
}

ReflectorStats Reflector::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Reflector::stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  if (current_) current_->stop();
  stopCv_.notify_all();
}

bool Reflector::backoff() {
  auto wait = backoff_.next();
  std::unique_lock lock(mu_);
  ++stats_.backoffs;
  return !stopCv_.wait_for(lock, wait, [&] { return stopped_; });
}

void Reflector::setResourceVersion(const nlohmann::json& obj) {
  std::string rv = stringAt(obj, "metadata", "resourceVersion");
  if (rv.empty()) return;
  std::lock_guard lock(mu_);
  lastRV_ = std::move(rv);
}

Status Reflector::list() {
  ListOptions options;
  {
    std::lock_guard lock(mu_);
    // client-go's relistResourceVersion.
    options.resourceVersion = lastRVUnavailable_ ? "" : (lastRV_.empty() ? "0" : lastRV_);
  }
  options.limit = options_.pageSize;
  std::vector<nlohmann::json> items;
  std::string listRV, kind, apiVersion;
  while (true) {
    auto page = lw_.list(options);
    if (!page) {
      const auto& e = page.error();
      if (e.isResourceExpired() && !options.continueToken.empty()) {
        // The paged snapshot expired: one full list instead (client-go's pager).
        items.clear();
        listRV.clear();
        options.continueToken.clear();
        options.limit.reset();
        continue;
      }
      if (e.isResourceExpired() && !options.resourceVersion.empty()) {
        // Our version is too old for the server: a consistent list from scratch.
        std::lock_guard lock(mu_);
        lastRVUnavailable_ = true;
        ++stats_.expired;
        options.resourceVersion.clear();
        continue;
      }
      return std::unexpected(e.toError().context("list"));
    }
    if (listRV.empty()) {
      listRV = stringAt(*page, "metadata", "resourceVersion");
      kind = kindOf(*page);
      apiVersion = apiVersionOf(*page);
      if (kind.ends_with("List")) kind.resize(kind.size() - 4);
    }
    if (auto it = page->find("items"); it != page->end() && it->is_array()) {
      for (auto& item : *it) {
        // List items come without their type; consumers want it (the dynamic client sets it).
        if (!item.is_object()) continue;  // not an object: nothing a store could key
        if (!item.contains("kind") && !kind.empty()) item["kind"] = kind;
        if (!item.contains("apiVersion") && !apiVersion.empty()) item["apiVersion"] = apiVersion;
        items.push_back(std::move(item));
      }
    }
    std::string next = stringAt(*page, "metadata", "continue");
    if (next.empty()) break;
    options.continueToken = next;
    options.resourceVersion.clear();  // a continue token carries the version
  }
  store_.replace(std::move(items), listRV);
  {
    std::lock_guard lock(mu_);
    lastRV_ = listRV;
    lastRVUnavailable_ = false;
    ++stats_.lists;
  }
  synced_ = true;
  return {};
}

Reflector::WatchEnd Reflector::handleWatch(Watcher& w, std::optional<ApiError>& error) {
  auto start = clock_.now();
  int events = 0;
  while (true) {
    auto n = w.next(options_.pollInterval);
    {
      std::lock_guard lock(mu_);
      if (stopped_) return WatchEnd::kStop;
    }
    if (n.kind == WatchNext::Kind::kTimeout) continue;
    if (n.kind == WatchNext::Kind::kClosed) {
      if (n.error && n.error->isResourceExpired()) return WatchEnd::kRelist;
      if (n.error) {
        error = n.error;
        return WatchEnd::kRewatchAfterBackoff;  // a dropped connection: resume where we were
      }
      // The server's timeout ended it. One that ended at once without an event points at a
      // problem: don't spin.
      if (events == 0 && clock_.now() - start < std::chrono::seconds(1))
        return WatchEnd::kRewatchAfterBackoff;
      return WatchEnd::kRewatch;
    }
    auto& ev = n.event;
    switch (ev.type) {
      case WatchEvent::Type::kError: {
        auto status = ApiStatus::fromJson(ev.object);
        ApiError e =
            ApiError::fromStatus(status ? *status : internalErrorStatus("bad watch error"));
        if (e.isResourceExpired()) return WatchEnd::kRelist;
        error = e;
        if (e.isTooManyRequests()) return WatchEnd::kRewatchAfterBackoff;
        return WatchEnd::kRelist;
      }
      case WatchEvent::Type::kBookmark:
        setResourceVersion(ev.object);
        break;
      case WatchEvent::Type::kAdded:
        ++events;
        setResourceVersion(ev.object);
        store_.added(std::move(ev.object));
        break;
      case WatchEvent::Type::kModified:
        ++events;
        setResourceVersion(ev.object);
        store_.modified(std::move(ev.object));
        break;
      case WatchEvent::Type::kDeleted:
        ++events;
        setResourceVersion(ev.object);
        store_.deleted(std::move(ev.object));
        break;
    }
  }
}

Status Reflector::listAndWatch() {
  BERTH_TRY(list());
  while (true) {
    ListOptions options;
    {
      std::lock_guard lock(mu_);
      if (stopped_) return {};
      options.resourceVersion = lastRV_;
    }
    options.allowWatchBookmarks = true;
    auto min = options_.minWatchTimeout.count();
    options.timeoutSeconds = std::uniform_int_distribution<std::int64_t>(min, 2 * min)(rng_);
    auto w = lw_.watch(options);
    if (!w) {
      const auto& e = w.error();
      if (e.isResourceExpired()) {
        std::lock_guard lock(mu_);
        lastRVUnavailable_ = true;
        ++stats_.expired;
        return {};
      }
      if (unreachable(e) || e.isTooManyRequests()) {
        if (!backoff()) return {};
        continue;
      }
      return std::unexpected(e.toError().context("watch"));
    }
    {
      std::lock_guard lock(mu_);
      ++stats_.watches;
      if (stopped_) return {};
      current_ = w->get();
    }
    std::optional<ApiError> error;
    WatchEnd end = handleWatch(**w, error);
    {
      std::lock_guard lock(mu_);
      current_ = nullptr;
    }
    switch (end) {
      case WatchEnd::kStop:
        return {};
      case WatchEnd::kRelist:
        if (error) return std::unexpected(error->toError().context("watch"));
        {
          std::lock_guard lock(mu_);
          lastRVUnavailable_ = true;
          ++stats_.expired;
        }
        return {};
      case WatchEnd::kRewatchAfterBackoff:
        if (error) spdlog::debug("watch ended: {}", error->message());
        if (!backoff()) return {};
        break;
      case WatchEnd::kRewatch:
        break;
    }
  }
}

void Reflector::run() {
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopped_) return;
    }
    auto st = listAndWatch();
    bool relistNow;
    {
      std::lock_guard lock(mu_);
      if (stopped_) return;
      relistNow = st.has_value() && lastRVUnavailable_;
    }
    if (!st) spdlog::warn("reflector: {}", st.error().message());
    if (!relistNow && !backoff()) return;
  }
}

}  // namespace berth::kubeapi
