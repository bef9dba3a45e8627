#pragma once
// berth-server's /metrics in Prometheus text format, with kube-apiserver's metric names where a
// metric has one: apiserver_request_total and apiserver_request_duration_seconds by verb, group,
// version, resource, subresource, scope and code; apiserver_longrunning_requests (open watches);
// apiserver_storage_objects; etcd_request_duration_seconds by storage operation (the name
// upstream uses whatever the store); apiserver_storage_size_bytes.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "common/http/server.h"
#include "controlplane/apiserver/request_info.h"
#include "controlplane/storage/backend.h"

namespace berth::controlplane::apiserver {

// A Prometheus histogram with fixed buckets.
class Histogram {
 public:
  static constexpr std::array<double, 17> kBuckets = {
      0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 10, 60};
  void observe(double seconds);
  // "<name>_bucket{<labels>,le=...} n" lines, then _sum and _count.
  void write(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::array<std::uint64_t, kBuckets.size()> counts_{};
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

class Metrics {
 public:
  // One finished request.
  void request(const RequestInfo& info, int code, std::chrono::steady_clock::duration took);
  void watchOpened() { ++watches_; }
  void watchClosed() { --watches_; }
  void storage(const char* operation, std::chrono::steady_clock::duration took);

  // The exposition, with gauges read when it is asked for.
  std::string render(const std::map<std::string, std::int64_t>& objectsByResource,
                     std::int64_t storageBytes) const;

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::string, std::string,
                         std::string>;  // verb, group, version, resource, subresource, scope
  mutable std::mutex mu_;
  std::map<std::pair<Key, int>, std::uint64_t> requests_;
  std::map<Key, Histogram> durations_;
  std::map<std::string, Histogram> storage_;
  std::atomic<std::int64_t> watches_{0};
};

// A Backend that times every call into Metrics::storage, around the real one.
std::unique_ptr<storage::Backend> timedBackend(std::unique_ptr<storage::Backend> backend,
                                               Metrics& metrics);

// Wraps a ResponseWriter to learn the status it answers with; `done` is called once, with it,
// when the response is complete (for a watch: when the stream ends).
std::shared_ptr<http::ResponseWriter> observedWriter(std::shared_ptr<http::ResponseWriter> writer,
                                                     std::function<void(int status)> done);

}  // namespace berth::controlplane::apiserver
