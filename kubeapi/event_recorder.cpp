#include "kubeapi/event_recorder.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kubeapi/json_fields.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/rest_client.h"

namespace berth::kubeapi {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kCacheSize = 4096;
constexpr std::size_t kMaxQueued = 1000;
// EventAggregator: this many distinct messages of one reason within the interval fold.
constexpr std::size_t kMaxSimilar = 10;
constexpr auto kAggregateInterval = std::chrono::minutes(10);
// EventSourceObjectSpamFilter: a burst of 25, then one event every five minutes.
constexpr double kSpamBurst = 25;
constexpr double kSpamPerSecond = 1.0 / 300;
constexpr int kWriteAttempts = 3;

std::string joined(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts)
    out += p;
  return out;
}

std::string objectKey(const Json& ev) {
  const Json& source = jsonField(ev, "source");
  const Json& obj = jsonField(ev, "involvedObject");
  return joined({jsonString(source, "component"), jsonString(source, "host"),
                 jsonString(obj, "kind"), jsonString(obj, "namespace"), jsonString(obj, "name"),
                 jsonString(obj, "uid"), jsonString(obj, "apiVersion")});
}

std::string aggregateKey(const Json& ev) {
  return joined({objectKey(ev), jsonString(ev, "type"), jsonString(ev, "reason"),
                 jsonString(ev, "reportingComponent"), jsonString(ev, "reportingInstance")});
}

// getEventKey: everything that makes two events the same event.
std::string eventKey(const Json& ev) {
  const Json& obj = jsonField(ev, "involvedObject");
  return joined({objectKey(ev), jsonString(obj, "fieldPath"), "\x1f", jsonString(ev, "type"),
                 jsonString(ev, "reason"), "\x1f", jsonString(ev, "message")});
}

std::string eventName(const Json& ref, Time t) {
  return fmt::format("{}.{:x}", jsonString(ref, "name"), t.time_since_epoch().count());
}

}  // namespace

Json objectReference(const Json& object, std::string_view fieldPath) {
  const Json& meta = jsonField(object, "metadata");
  Json ref = {{"kind", jsonString(object, "kind")},
              {"apiVersion", jsonString(object, "apiVersion")},
              {"name", jsonString(meta, "name")},
              {"uid", jsonString(meta, "uid")}};
  if (!jsonString(meta, "namespace").empty()) ref["namespace"] = jsonString(meta, "namespace");
  if (!jsonString(meta, "resourceVersion").empty()) {
    ref["resourceVersion"] = jsonString(meta, "resourceVersion");
  }
  if (!fieldPath.empty()) ref["fieldPath"] = std::string(fieldPath);
  return ref;
}

template <typename V>
V* EventCorrelator::Lru<V>::get(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  items_.splice(items_.begin(), items_, it->second);
  return &it->second->second;
}

template <typename V>
void EventCorrelator::Lru<V>::put(const std::string& key, V value) {
  if (V* existing = get(key)) {
    *existing = std::move(value);
    return;
  }
  items_.emplace_front(key, std::move(value));
  index_[key] = items_.begin();
  if (items_.size() > kCacheSize) {
    index_.erase(items_.back().first);
    items_.pop_back();
  }
}

EventCorrelator::Outcome EventCorrelator::correlate(Json event, Time now) {
  Outcome out;
  // Spam first: a source may say this much about one object, whatever it says.
  const std::string spamKey = objectKey(event);
  Bucket* bucket = spam_.get(spamKey);
  if (bucket == nullptr) {
    spam_.put(spamKey, {kSpamBurst, now});
    bucket = spam_.get(spamKey);
  }
  const double elapsed = std::chrono::duration<double>(now - bucket->refilled).count();
  bucket->tokens = std::min(kSpamBurst, bucket->tokens + elapsed * kSpamPerSecond);
  bucket->refilled = now;
  if (bucket->tokens < 1) {
    out.skip = true;
    return out;
  }
  bucket->tokens -= 1;

  // Similar events (same reason, other messages) fold into one once there are too many.
  std::string key = eventKey(event);
  const std::string aggKey = aggregateKey(event);
  Aggregate* agg = aggregates_.get(aggKey);
  if (agg == nullptr || now - agg->last > kAggregateInterval) {
    aggregates_.put(aggKey, {});
    agg = aggregates_.get(aggKey);
  }
  const std::string message = jsonString(event, "message");
  if (std::find(agg->messages.begin(), agg->messages.end(), message) == agg->messages.end()) {
    agg->messages.push_back(message);
  }
  agg->last = now;
  if (agg->messages.size() >= kMaxSimilar) {
    agg->messages.erase(agg->messages.begin());  // the set never grows past the threshold
    const std::string t = formatTime(now);
    event["metadata"] = {{"name", eventName(event["involvedObject"], now)},
                         {"namespace", event["metadata"]["namespace"]}};
    event["message"] = "(combined from similar events): " + message;
    event["firstTimestamp"] = t;
    event["lastTimestamp"] = t;
    event["count"] = 1;
    key = aggKey;
  }

  // Seen before: count it on the stored event instead of writing another.
  Observation* seen = observations_.get(key);
  if (seen != nullptr && seen->count > 0) {
    event["metadata"]["name"] = seen->name;
    if (!seen->resourceVersion.empty()) {
      event["metadata"]["resourceVersion"] = seen->resourceVersion;
    }
    event["firstTimestamp"] = seen->firstTimestamp;
    event["count"] = seen->count + 1;
    out.patch = true;
    out.patchBody = {{"count", event["count"]},
                     {"lastTimestamp", event["lastTimestamp"]},
                     {"message", event["message"]}};
  }
  observations_.put(key, {.count = event.value("count", std::int64_t{1}),
                          .name = jsonString(event["metadata"], "name"),
                          .resourceVersion = jsonString(event["metadata"], "resourceVersion"),
                          .firstTimestamp = event["firstTimestamp"]});
  out.event = std::move(event);
  return out;
}

void EventCorrelator::observe(const Json& stored) {
  // Both keys the event may be known by; only the one in the cache is updated.
  for (const std::string& key : {eventKey(stored), aggregateKey(stored)}) {
    Observation* seen = observations_.get(key);
    if (seen == nullptr || seen->name != jsonString(jsonField(stored, "metadata"), "name")) {
      continue;
    }
    seen->count = stored.value("count", seen->count);
    seen->resourceVersion = jsonString(jsonField(stored, "metadata"), "resourceVersion");
    seen->firstTimestamp = jsonField(stored, "firstTimestamp");
  }
}

EventRecorder::EventRecorder(std::shared_ptr<RestClient> api, EventSource source)
    : api_(std::move(api)), source_(std::move(source)), thread_([this] { run(); }) {}

EventRecorder::~EventRecorder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void EventRecorder::event(const Json& ref, std::string_view type, std::string_view reason,
                          std::string message) {
  const Time t = now();
  const std::string when = formatTime(t);
  std::string ns = jsonString(ref, "namespace");
  Json ev = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", eventName(ref, t)}, {"namespace", ns.empty() ? "default" : ns}}},
      {"involvedObject", ref},
      {"reason", std::string(reason)},
      {"message", std::move(message)},
      {"source", {{"component", source_.component}, {"host", source_.host}}},
      {"firstTimestamp", when},
      {"lastTimestamp", when},
      {"count", 1},
      {"type", std::string(type)},
      {"reportingComponent", source_.component},
      {"reportingInstance", source_.host}};
  std::lock_guard lock(mu_);
  if (queue_.size() >= kMaxQueued) {
    spdlog::warn("event queue full, dropping event {} {}", jsonString(ref, "name"), reason);
    return;
  }
  queue_.push_back(std::move(ev));
  cv_.notify_all();
}

void EventRecorder::flush() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return (queue_.empty() && !busy_) || stopping_; });
}

void EventRecorder::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Json ev = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    write(std::move(ev));
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

void EventRecorder::write(Json ev) {
  EventCorrelator::Outcome outcome = correlator_.correlate(std::move(ev), now());
  if (outcome.skip) return;
  ResourceClient events = api_->resource({"", "v1", "events"})
                              .inNamespace(jsonString(outcome.event["metadata"], "namespace"));
  auto send = [&]() -> ApiResult<Json> {
    if (!outcome.patch) return events.create(outcome.event);
    auto patched = events.patch(jsonString(outcome.event["metadata"], "name"),
                                PatchType::kStrategicMerge, outcome.patchBody.dump());
    if (patched || !patched.error().isNotFound()) return patched;
    // The event expired from the API (its TTL): write it anew.
    outcome.patch = false;
    outcome.event["metadata"].erase("resourceVersion");
    return events.create(outcome.event);
  };
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    ApiResult<Json> stored = send();
    if (stored) {
      correlator_.observe(*stored);
      return;
    }
    // An event that exists already or is refused will not get better by retrying.
    if (stored.error().isAlreadyExists() || stored.error().isInvalid() ||
        stored.error().isForbidden()) {
      spdlog::warn("event {} refused: {}", jsonString(outcome.event["metadata"], "name"),
                   stored.error().message());
      return;
    }
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, std::chrono::seconds(1) * (attempt + 1), [&] { return stopping_; })) {
      return;
    }
  }
}

}  // namespace berth::kubeapi
