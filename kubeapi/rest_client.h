#pragma once
// The API client (client-go's rest.RESTClient): requests against one API server through one
// HttpEngine (a shared HTTP/2 connection pool), with the client-side token bucket (qps/burst),
// retries, authentication from the RestConfig, and errors as ApiErrors.
//
// Retries (client-go's): a 429, or a 5xx with Retry-After, is retried for any verb after the
// server's Retry-After (else an exponential backoff); a 5xx without it and a transport failure
// only for GET/HEAD, which can't have changed anything. At most `maxRetries` times.
//
// Typed verbs per resource are in resource_client.h: client->resource(gvr).inNamespace(ns).
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kubeapi/api_error.h"
#include "kubeapi/backoff.h"
#include "kubeapi/clock.h"
#include "kubeapi/http_engine.h"
#include "kubeapi/rest_config.h"
#include "kubeapi/token_bucket.h"
#include "kubeapi/watch.h"

namespace berth::kubeapi {

class ResourceClient;
struct GroupVersionResource;

struct ApiRequest {
  std::string verb = "GET";                                // HTTP method
  std::string path;                                        // "/api/v1/namespaces/default/pods"
  std::vector<std::pair<std::string, std::string>> query;  // encoded by the client
  std::string body;
  std::string contentType = "application/json";
  RequestTarget target;  // what the error names
};

struct RetryPolicy {
  int maxRetries = 10;  // client-go's default
  BackoffPolicy backoff{.initial = std::chrono::milliseconds(100),
                        .factor = 2.0,
                        .jitter = 0.1,
                        .cap = std::chrono::seconds(10),
                        .resetAfter = std::chrono::minutes(1)};
};

class RestClient : public std::enable_shared_from_this<RestClient> {
 public:
  [[nodiscard]] static Result<std::shared_ptr<RestClient>> create(
      RestConfig config, RetryPolicy retry = {}, Clock& clock = RealClock::instance());
  // The current context of a kubeconfig file (or `context`).
  [[nodiscard]] static Result<std::shared_ptr<RestClient>> fromKubeconfig(
      const std::filesystem::path& path, std::string_view context = {});

  // One request with rate limiting and retries; a non-2xx answer is an ApiError.
  [[nodiscard]] ApiResult<EngineResponse> send(const ApiRequest& request);
  // send() with the body parsed as JSON.
  [[nodiscard]] ApiResult<nlohmann::json> sendJson(const ApiRequest& request);
  // Starts a watch (the request's query should hold watch=true); a non-2xx answer is an
  // ApiError here, before any event.
  [[nodiscard]] ApiResult<std::unique_ptr<Watcher>> watch(const ApiRequest& request);

  // A typed view of one resource (all namespaces until inNamespace()).
  ResourceClient resource(const GroupVersionResource& gvr, bool namespaced = true);

  // Presents this certificate and key (PEM) from the next request on, as client-go's transport
  // does with the kubelet's rotated client certificate. Requests already running keep their
  // connections.
  void setClientCertificate(std::string certPem, std::string keyPem);

  const RestConfig& config() const { return config_; }
  // The server's URL for a path and query, as sent.
  std::string url(const ApiRequest& request) const;

 private:
  RestClient(RestConfig config, RetryPolicy retry, Clock& clock);
  EngineRequest engineRequest(const ApiRequest& request);
  std::string authorization();

  RestConfig config_;
  RetryPolicy retry_;
  Clock& clock_;
  TokenBucket limiter_;
  std::shared_ptr<HttpEngine> engine_;
  std::mutex tokenMu_;
  std::string token_;
  Clock::TimePoint tokenRead_{};
};

// Percent-encodes a query value or path segment (RFC 3986 unreserved characters stay).
std::string urlEncode(std::string_view s, bool pathSegment = false);

}  // namespace berth::kubeapi
