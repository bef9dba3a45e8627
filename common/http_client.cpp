#include "common/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

#include "common/ascii.h"

namespace berth {
namespace {

void globalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  std::optional<Error> callbackError;
  bool started = false;
};

size_t onHeader(char* data, size_t size, size_t count, void* ctx) {
  auto* t = static_cast<Transfer*>(ctx);
  addResponseHeaderLine(std::string_view(data, size * count), t->response->headers);
  return size * count;
}

size_t onBody(char* data, size_t size, size_t count, void* ctx) {
  auto* t = static_cast<Transfer*>(ctx);
  std::string_view chunk(data, size * count);
  // Set from CURLINFO_RESPONSE_CODE before each chunk: it decides whether the body is payload.
  long status = t->response->status;
  if (t->request->onData && status >= 200 && status < 300) {
    if (!t->started && t->request->onResponse) {
      t->started = true;
      if (auto st = t->request->onResponse(*t->response); !st) {
        t->callbackError = std::move(st).error();
        return 0;
      }
    }
    t->started = true;
    auto st = t->request->onData(chunk);
    if (!st) {
      t->callbackError = std::move(st).error();
      return 0;  // aborts with CURLE_WRITE_ERROR
    }
    return chunk.size();
  }
  // Error bodies (and collected bodies) are kept, bounded for error bodies.
  if (t->request->onData && t->response->body.size() > 64 * 1024) return chunk.size();
  t->response->body.append(chunk);
  return chunk.size();
}

TransportFailure failureOf(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return TransportFailure::kUnreachable;
    case CURLE_OPERATION_TIMEDOUT:
      return TransportFailure::kTimeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
      return TransportFailure::kTls;
    default:
      return TransportFailure::kOther;
  }
}

Code codeFor(TransportFailure f, CURLcode rc) {
  switch (f) {
    case TransportFailure::kUnreachable:
      return Code::kUnavailable;
    case TransportFailure::kTimeout:
      return Code::kDeadlineExceeded;
    case TransportFailure::kTls:
      return Code::kFailedPrecondition;
    default:
      return rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL ? Code::kInvalidArgument
                                                                           : Code::kUnavailable;
  }
}

}  // namespace

Code codeForCurlCode(int curlCode) {
  auto rc = static_cast<CURLcode>(curlCode);
  return codeFor(failureOf(rc), rc);
}

void addResponseHeaderLine(std::string_view line,
                           std::multimap<std::string, std::string>& headers) {
  // Each response (after a redirect, or a 100 Continue) starts with a status line: keep only
  // the last response's headers.
  if (line.starts_with("HTTP/")) {
    headers.clear();
    return;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return;
  std::string name = asciiLower(line.substr(0, colon));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  headers.emplace(std::move(name), std::string(value));
}

std::string HttpResponse::header(std::string_view lowerName) const {
  auto it = headers.find(std::string(lowerName));
  return it == headers.end() ? std::string() : it->second;
}

struct HttpClient::Impl {
  CURL* curl = nullptr;
  TlsOptions tls;
  TransportFailure lastFailure = TransportFailure::kNone;
  ~Impl() {
    if (curl) curl_easy_cleanup(curl);
  }
};

HttpClient::HttpClient(TlsOptions tls) : impl_(std::make_unique<Impl>()) {
  globalInit();
  impl_->tls = std::move(tls);
}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

TransportFailure HttpClient::lastFailure() const {
  return impl_->lastFailure;
}

Result<HttpResponse> HttpClient::send(const HttpRequest& request) {
  impl_->lastFailure = TransportFailure::kNone;
  if (!impl_->curl) impl_->curl = curl_easy_init();
  CURL* c = impl_->curl;
  if (!c) return fail(Code::kResourceExhausted, "curl_easy_init failed");
  curl_easy_reset(c);
  HttpResponse response;
  Transfer t{.request = &request, .response = &response};
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, request.connectTimeoutSeconds);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, request.lowSpeedTimeSeconds);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "berth/" BERTH_VERSION);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  if (!impl_->tls.caFile.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, impl_->tls.caFile.c_str());
  if (!impl_->tls.certFile.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, impl_->tls.certFile.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, impl_->tls.keyFile.c_str());
  }
  if (impl_->tls.insecureSkipVerify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (request.basicAuth) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, request.basicAuth->first.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, request.basicAuth->second.c_str());
  }
  if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (!request.body.empty() || request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers)
    headers = curl_slist_append(headers, h.c_str());
  // No "Expect: 100-continue" round trip on uploads.
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  CURLcode rc;
  {
    // The status of the final response (after redirects) is refreshed before each chunk.
    struct Ctx {
      Transfer* t;
      CURL* c;
    } ctx{&t, c};
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
    curl_easy_setopt(
        c, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* p) -> size_t {
          auto* x = static_cast<Ctx*>(p);
          long status = 0;
          curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &status);
          x->t->response->status = status;
          return onBody(data, size, n, x->t);
        });
    rc = curl_easy_perform(c);
  }
  curl_slist_free_all(headers);
  if (t.callbackError) return std::unexpected(std::move(*t.callbackError));
  if (rc != CURLE_OK) {
    std::string reason = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    impl_->lastFailure = failureOf(rc);
    return fail(codeFor(impl_->lastFailure, rc), "{} {}: {}{}", request.method, request.url,
                impl_->lastFailure == TransportFailure::kTls ? "TLS: " : "", reason);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  char* effective = nullptr;
  curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
  if (effective) response.effectiveUrl = effective;
  return response;
}

}  // namespace berth
