#pragma once
// A small HTTP(S) client over libcurl for registries and API servers: one request at a time per
// HttpClient (a curl easy handle, reused so connections and TLS sessions are kept), the body
// either collected or streamed to a callback, response headers by lower-cased name. libcurl's
// errors become Errors: a connection failure is kUnavailable, a timeout kDeadlineExceeded, a TLS
// verification failure kUnauthenticated with curl's reason.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace berth {

struct TlsOptions {
  std::string caFile;    // PEM bundle to verify the server with; empty: system CAs
  std::string certFile;  // client certificate (PEM), optional
  std::string keyFile;   // its key
  bool insecureSkipVerify = false;
};

struct HttpResponse;

// Why a request got no HTTP response.
enum class TransportFailure {
  kNone,         // it got one (or a body callback failed)
  kUnreachable,  // refused, reset, unresolvable, unreachable, closed mid-transfer
  kTimeout,      // no connection in time, or the server went quiet
  kTls,          // the TLS handshake or the certificate check failed
  kOther,        // a malformed URL, an unsupported protocol, a local failure
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::optional<std::pair<std::string, std::string>> basicAuth;  // user, password
  bool followRedirects = true;
  long connectTimeoutSeconds = 15;
  // Abort when fewer than 1 byte/s arrive for this long (a server that went quiet).
  long lowSpeedTimeSeconds = 30;
  // Streaming: called for each body chunk of a 2xx response; returning an error aborts the
  // transfer with that error. Unset: the body is collected in HttpResponse::body.
  std::function<Status(std::string_view)> onData;
  // Streaming: called once, before the first body chunk of a 2xx response, with its status and
  // headers (a ranged GET learns whether it got 206 or the whole body).
  std::function<Status(const HttpResponse&)> onResponse;
};

struct HttpResponse {
  long status = 0;
  std::multimap<std::string, std::string> headers;  // lower-cased names, final response only
  std::string body;                                 // collected (or an error body when streaming)
  std::string effectiveUrl;                         // after redirects

  // The first value of a header, or empty.
  std::string header(std::string_view lowerName) const;
};

// Shared with the API client's transfer engine (kubeapi/http_engine): adds one response header
// line as lower-cased name -> value; a status line starts a new response and clears the map.
void addResponseHeaderLine(std::string_view line, std::multimap<std::string, std::string>& headers);
// A libcurl CURLcode as a canonical code (connection failures kUnavailable, timeouts
// kDeadlineExceeded, a TLS failure kFailedPrecondition: not an authentication failure).
Code codeForCurlCode(int curlCode);

class HttpClient {
 public:
  explicit HttpClient(TlsOptions tls = {});
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  // Any HTTP status is a response; only transport failures are errors.
  [[nodiscard]] Result<HttpResponse> send(const HttpRequest& request);
  // What the last send() failed on below HTTP (callers that retry differently act on it).
  TransportFailure lastFailure() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth
