#include "kubeapi/rest_client.h"

#include <charconv>

#include <fmt/format.h>

#include "common/base64.h"
#include "common/file_util.h"
#include "kubeapi/http_watcher.h"
#include "kubeapi/kubeconfig.h"
#include "kubeapi/resource_client.h"

namespace berth::kubeapi {
namespace {

bool idempotent(std::string_view verb) {
  return verb == "GET" || verb == "HEAD";
}

// Retry-After in seconds (the apiserver sends whole seconds), or nullopt.
std::optional<int> retryAfterSeconds(const EngineResponse& r) {
  std::string v = r.header("retry-after");
  int seconds = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || seconds < 0)
    return std::nullopt;
  return seconds;
}

}  // namespace

std::string urlEncode(std::string_view s, bool pathSegment) {
  std::string out;
  for (unsigned char c : s) {
    bool keep = std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
                (pathSegment && (c == ':' || c == '@'));
    if (keep) {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

RestClient::RestClient(RestConfig config, RetryPolicy retry, Clock& clock)
    : config_(std::move(config)),
      retry_(retry),
      clock_(clock),
      limiter_(config_.qps, config_.burst, clock) {}

Result<std::shared_ptr<RestClient>> RestClient::create(RestConfig config, RetryPolicy retry,
                                                       Clock& clock) {
  if (config.host.empty()) return fail(Code::kInvalidArgument, "API server host is empty");
  while (config.host.ends_with('/'))
    config.host.pop_back();
  EngineTls tls{.caFile = config.caFile,
                .caData = config.caData,
                .insecureSkipVerify = config.insecureSkipTlsVerify,
                .certFile = config.certFile,
                .certData = config.certData,
                .keyFile = config.keyFile,
                .keyData = config.keyData,
                .serverName = config.tlsServerName};
  auto engine = BERTH_TRY(HttpEngine::create(std::move(tls)));
  std::shared_ptr<RestClient> client(new RestClient(std::move(config), retry, clock));
  client->engine_ = std::move(engine);
  return client;
}

Result<std::shared_ptr<RestClient>> RestClient::fromKubeconfig(const std::filesystem::path& path,
                                                               std::string_view context) {
  auto kc = BERTH_TRY(Kubeconfig::load(path));
  auto config = BERTH_TRY_CTX(kc.restConfig(context), path.string());
  return create(std::move(config));
}

std::string RestClient::url(const ApiRequest& request) const {
  std::string u = config_.host + request.path;
  for (size_t i = 0; i < request.query.size(); ++i) {
    u += i == 0 ? '?' : '&';
    u += urlEncode(request.query[i].first) + "=" + urlEncode(request.query[i].second);
  }
  return u;
}

std::string RestClient::authorization() {
  if (!config_.bearerTokenFile.empty()) {
    // Projected service account tokens rotate: re-read the file once a minute, as client-go.
    std::lock_guard lock(tokenMu_);
    auto now = clock_.now();
    if (token_.empty() || now - tokenRead_ > std::chrono::minutes(1)) {
      if (auto t = readFile(config_.bearerTokenFile)) {
        std::string_view v = *t;
        while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' '))
          v.remove_suffix(1);
        token_ = v;
        tokenRead_ = now;
      } else if (token_.empty()) {
        token_ = config_.bearerToken;
      }
    }
    if (!token_.empty()) return "Authorization: Bearer " + token_;
  }
  if (!config_.bearerToken.empty()) return "Authorization: Bearer " + config_.bearerToken;
  if (!config_.username.empty() || !config_.password.empty())
    return "Authorization: Basic " + base64Encode(config_.username + ":" + config_.password);
  return {};
}

EngineRequest RestClient::engineRequest(const ApiRequest& request) {
  EngineRequest e;
  e.method = request.verb;
  e.url = url(request);
  e.body = request.body;
  e.headers.push_back("Accept: application/json");
  e.headers.push_back("User-Agent: " + config_.userAgent);
  if (!request.body.empty()) e.headers.push_back("Content-Type: " + request.contentType);
  if (auto auth = authorization(); !auth.empty()) e.headers.push_back(std::move(auth));
  return e;
}

ApiResult<EngineResponse> RestClient::send(const ApiRequest& request) {
  Backoff backoff(retry_.backoff, clock_);
  for (int attempt = 0;; ++attempt) {
    limiter_.wait();
    EngineRequest e = engineRequest(request);
    e.timeout = config_.timeout;
    auto response = engine_->perform(std::move(e));
    bool canRetry = attempt < retry_.maxRetries;
    if (!response) {
      if (canRetry && idempotent(request.verb) && response.error().code() == Code::kUnavailable) {
        backoff.sleep();
        continue;
      }
      return std::unexpected(ApiError::transport(response.error(), request.target));
    }
    long status = response->status;
    if (status >= 200 && status <= 299) return std::move(*response);
    auto retryAfter = retryAfterSeconds(*response);
    bool retriable = status == 429 || (status >= 500 && (retryAfter || idempotent(request.verb)));
    if (canRetry && retriable) {
      if (retryAfter) {
        clock_.sleepFor(std::chrono::seconds(*retryAfter));
      } else {
        backoff.sleep();
      }
      continue;
    }
    return std::unexpected(ApiError::fromResponse(static_cast<int>(status), response->body,
                                                  response->header("content-type"), request.target,
                                                  retryAfter.value_or(0)));
  }
}

ApiResult<nlohmann::json> RestClient::sendJson(const ApiRequest& request) {
  auto response = send(request);
  if (!response) return std::unexpected(std::move(response).error());
  auto j = nlohmann::json::parse(response->body, nullptr, false);
  if (j.is_discarded())
    return std::unexpected(ApiError::transport(
        Error(Code::kDataLoss,
              fmt::format("{} {}: the response is not JSON", request.verb, request.path)),
        request.target));
  // A 2xx answer carrying a failure Status is an error all the same (client-go checks it).
  if (auto st = ApiStatus::fromJson(j); st && st->isFailure())
    return std::unexpected(ApiError::fromStatus(std::move(*st), request.target));
  return j;
}

ApiResult<std::unique_ptr<Watcher>> RestClient::watch(const ApiRequest& request) {
  limiter_.wait();
  auto watcher = HttpWatcher::start(*engine_, engineRequest(request), request.target);
  if (!watcher) return std::unexpected(std::move(watcher).error());
  return std::unique_ptr<Watcher>(std::move(*watcher));
}

void RestClient::setClientCertificate(std::string certPem, std::string keyPem) {
  engine_->setClientCertificate(std::move(certPem), std::move(keyPem));
}

ResourceClient RestClient::resource(const GroupVersionResource& gvr, bool namespaced) {
  return ResourceClient(shared_from_this(), gvr, namespaced);
}

}  // namespace berth::kubeapi
