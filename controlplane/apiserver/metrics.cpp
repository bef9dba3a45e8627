#include "controlplane/apiserver/metrics.h"

#include <fmt/format.h>

namespace berth::controlplane::apiserver {
namespace {

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// The verb label as kube-apiserver cleans it.
std::string cleanVerb(const RequestInfo& info) {
  const std::string& v = info.verb;
  if (v == "list") return "LIST";
  if (v == "watch") return "WATCH";
  if (v == "get") return "GET";
  if (v == "create") return "POST";
  if (v == "update") return "PUT";
  if (v == "patch") return "PATCH";
  if (v == "delete" || v == "deletecollection") return "DELETE";
  if (v == "proxy") return "CONNECT";
  std::string upper = v;
  for (char& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

std::string scopeOf(const RequestInfo& info) {
  if (!info.name.empty()) return "resource";
  return info.namespace_.empty() ? "cluster" : "namespace";
}

std::string labels(const std::tuple<std::string, std::string, std::string, std::string, std::string,
                                    std::string>& k) {
  const auto& [verb, group, version, resource, subresource, scope] = k;
  return fmt::format(
      R"(verb="{}",group="{}",version="{}",resource="{}",subresource="{}",scope="{}",component="apiserver")",
      verb, group, version, resource, subresource, scope);
}

class TimedBackend final : public storage::Backend {
 public:
  TimedBackend(std::unique_ptr<storage::Backend> inner, Metrics& metrics)
      : inner_(std::move(inner)), metrics_(metrics) {}

  template <class F>
  std::invoke_result_t<F> timed(const char* operation, F&& f) {
    auto start = std::chrono::steady_clock::now();
    auto result = f();
    metrics_.storage(operation, std::chrono::steady_clock::now() - start);
    return result;
  }

  Result<std::int64_t> currentRevision() override { return inner_->currentRevision(); }
  Result<std::int64_t> compactedRevision() override { return inner_->compactedRevision(); }
  Result<storage::RangeResult> range(std::string_view start, std::string_view end,
                                     std::int64_t revision, std::int64_t limit) override {
    return timed("list", [&] { return inner_->range(start, end, revision, limit); });
  }
  Result<std::int64_t> count(std::string_view prefix) override { return inner_->count(prefix); }
  Result<storage::KeyValue> create(std::string_view key, std::string_view value) override {
    return timed("create", [&] { return inner_->create(key, value); });
  }
  Result<storage::TxnResult> update(std::string_view key, std::string_view value,
                                    std::int64_t expected) override {
    return timed("update", [&] { return inner_->update(key, value, expected); });
  }
  Result<storage::TxnResult> remove(std::string_view key, std::int64_t expected) override {
    return timed("delete", [&] { return inner_->remove(key, expected); });
  }
  Result<std::unique_ptr<storage::WatchHandle>> watch(std::string_view prefix,
                                                      std::int64_t afterRevision,
                                                      storage::WatchCallbacks callbacks) override {
    return inner_->watch(prefix, afterRevision, std::move(callbacks));
  }
  Status compact(std::int64_t revision) override {
    return timed("compact", [&] { return inner_->compact(revision); });
  }
  Result<std::int64_t> sizeBytes() override { return inner_->sizeBytes(); }

 private:
  std::unique_ptr<storage::Backend> inner_;
  Metrics& metrics_;
};

class ObservedWriter final : public http::ResponseWriter {
 public:
  ObservedWriter(std::shared_ptr<http::ResponseWriter> inner, std::function<void(int)> done)
      : inner_(std::move(inner)), state_(std::make_shared<State>()) {
    state_->done = std::move(done);
  }

  void respond(http::Response response) override {
    int status = response.status;
    inner_->respond(std::move(response));
    state_->report(status);
  }
  bool start(int status, http::Headers headers) override {
    state_->status = status;
    return inner_->start(status, std::move(headers));
  }
  bool write(std::string data) override { return inner_->write(std::move(data)); }
  void finish() override {
    inner_->finish();
    state_->report(state_->status);
  }
  void onClose(std::function<void()> callback) override {
    // The inner writer may call back after this wrapper is gone: the state is shared.
    inner_->onClose([state = state_, callback = std::move(callback)] {
      callback();
      state->report(state->status);
    });
  }
  bool closed() const override { return inner_->closed(); }
  Result<std::unique_ptr<http::Stream>> upgrade(http::Response switching) override {
    state_->report(101);
    return inner_->upgrade(std::move(switching));
  }
  Result<std::unique_ptr<http::WebSocket>> acceptWebSocket(std::span<const std::string> protocols,
                                                           bool allowNone,
                                                           http::Headers extra) override {
    state_->report(101);
    return inner_->acceptWebSocket(protocols, allowNone, std::move(extra));
  }

 private:
  struct State {
    std::function<void(int)> done;
    std::atomic<int> status{0};
    std::atomic<bool> reported{false};
    void report(int code) {
      if (!reported.exchange(true)) done(code);
    }
  };

  std::shared_ptr<http::ResponseWriter> inner_;
  std::shared_ptr<State> state_;
};

}  // namespace

void Histogram::observe(double value) {
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (value <= kBuckets[i]) ++counts_[i];
  }
  ++count_;
  sum_ += value;
}

void Histogram::write(std::string& out, const std::string& name, const std::string& l) const {
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, l, kBuckets[i], counts_[i]);
  }
  out += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name, l, count_);
  out += fmt::format("{}_sum{{{}}} {}\n", name, l, sum_);
  out += fmt::format("{}_count{{{}}} {}\n", name, l, count_);
}

void Metrics::request(const RequestInfo& info, int code, std::chrono::steady_clock::duration took) {
  Key key{cleanVerb(info), info.apiGroup,    info.apiVersion,
          info.resource,   info.subresource, info.isResourceRequest ? scopeOf(info) : ""};
  std::lock_guard lock(mu_);
  ++requests_[{key, code}];
  // Watches are long-running: their duration says nothing about latency (upstream skips them).
  if (info.verb != "watch") durations_[key].observe(seconds(took));
}

void Metrics::storage(const char* operation, std::chrono::steady_clock::duration took) {
  std::lock_guard lock(mu_);
  storage_[operation].observe(seconds(took));
}

std::string Metrics::render(const std::map<std::string, std::int64_t>& objectsByResource,
                            std::int64_t storageBytes) const {
  std::string out;
  std::lock_guard lock(mu_);
  out += "# HELP apiserver_request_total Requests by verb, resource and HTTP code.\n";
  out += "# TYPE apiserver_request_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += fmt::format("apiserver_request_total{{{},code=\"{}\"}} {}\n", labels(key.first),
                       key.second, n);
  }
  out += "# HELP apiserver_request_duration_seconds Latency of requests, watches excluded.\n";
  out += "# TYPE apiserver_request_duration_seconds histogram\n";
  for (const auto& [key, h] : durations_) {
    h.write(out, "apiserver_request_duration_seconds", labels(key));
  }
  out += "# HELP apiserver_longrunning_requests Open watches.\n";
  out += "# TYPE apiserver_longrunning_requests gauge\n";
  out += fmt::format("apiserver_longrunning_requests{{verb=\"WATCH\"}} {}\n", watches_.load());
  out += "# HELP apiserver_storage_objects Objects stored, by resource.\n";
  out += "# TYPE apiserver_storage_objects gauge\n";
  for (const auto& [resource, n] : objectsByResource) {
    out += fmt::format("apiserver_storage_objects{{resource=\"{}\"}} {}\n", resource, n);
  }
  out += "# HELP apiserver_storage_size_bytes Size of the store on disk.\n";
  out += "# TYPE apiserver_storage_size_bytes gauge\n";
  out += fmt::format("apiserver_storage_size_bytes {}\n", storageBytes);
  out += "# HELP etcd_request_duration_seconds Latency of storage operations.\n";
  out += "# TYPE etcd_request_duration_seconds histogram\n";
  for (const auto& [operation, h] : storage_) {
    h.write(out, "etcd_request_duration_seconds", fmt::format("operation=\"{}\"", operation));
  }
  return out;
}

std::unique_ptr<storage::Backend> timedBackend(std::unique_ptr<storage::Backend> backend,
                                               Metrics& metrics) {
  return std::make_unique<TimedBackend>(std::move(backend), metrics);
}

std::shared_ptr<http::ResponseWriter> observedWriter(std::shared_ptr<http::ResponseWriter> writer,
                                                     std::function<void(int)> done) {
  return std::make_shared<ObservedWriter>(std::move(writer), std::move(done));
}

}  // namespace berth::controlplane::apiserver
