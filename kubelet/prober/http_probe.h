#pragma once
// httpGet for probes and lifecycle hooks (pkg/probe/http): the request built from an
// HTTPGetAction (NewRequestForHTTPGetAction) and one GET over libcurl with the prober's transport
// settings — no certificate verification, no proxy, no compression, no keep-alive, redirects
// followed only to the same host (RedirectChecker(false)), at most 10 KiB of body read.
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubelet/prober/probe_types.h"

namespace berth::kubelet::prober {

inline constexpr std::size_t kMaxResponseBody = 10 * 1024;  // maxRespBodyLength upstream

// A port of a probe or hook (an IntOrString): a number, a number as a string, or the name of
// one of the container's ports (ResolveContainerPort). Errors name the port.
[[nodiscard]] Result<int> resolveContainerPort(const nlohmann::json& port,
                                               const nlohmann::json& container);

struct HttpGetRequest {
  std::string url;  // scheme://host:port/path
  // In order, names as given. User-Agent and Accept: */* are added unless the action set them;
  // an Accept set to "" is dropped. A Host header becomes the request's Host.
  std::vector<std::pair<std::string, std::string>> headers;
};

// The request for an HTTPGetAction: scheme HTTP unless HTTPS, host the action's or `podIp`, the
// port resolved against `container`, `purpose` "probe" or "lifecycle" for the User-Agent.
[[nodiscard]] Result<HttpGetRequest> newHttpGetRequest(const nlohmann::json& httpGet,
                                                       const nlohmann::json& container,
                                                       const std::string& podIp,
                                                       std::string_view purpose);

struct HttpGetResponse {
  long status = 0;
  std::string body;        // at most kMaxResponseBody
  bool truncated = false;  // the body was longer
};

// Why a GET got no response.
enum class HttpGetFailure { kNone, kTransport, kPlainHttpFromHttpsServer };

// One GET with redirects to the same host followed (at most 10 hops). `timeout` covers the whole
// exchange (0: none). Only a transport failure is an error ("Get \"<url>\": <why>"); `failure`
// says which kind, so a hook can retry HTTPS as HTTP.
[[nodiscard]] Result<HttpGetResponse> httpGet(const HttpGetRequest& request,
                                              std::chrono::milliseconds timeout,
                                              HttpGetFailure* failure = nullptr);

// DoHTTPProbe: 200 <= status < 400 succeeds (a 3xx, an unfollowed redirect, is a Warning); any
// other status or a transport failure fails.
ProbeOutcome httpProbe(const HttpGetRequest& request, std::chrono::milliseconds timeout);

}  // namespace berth::kubelet::prober
