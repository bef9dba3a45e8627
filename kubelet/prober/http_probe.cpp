#include "kubelet/prober/http_probe.h"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <mutex>

#include <curl/curl.h>
#include <fmt/format.h>

#include "kubeapi/json_fields.h"

namespace berth::kubelet::prober {
namespace {

using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;

constexpr int kMaxRequests = 10;  // Go's http.Client stops after 10 redirects

std::optional<int> parseInt(std::string_view s) {
  int v = 0;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);  // strconv.Atoi takes a sign
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// net/textproto's CanonicalMIMEHeaderKey: "x-forwarded-for" -> "X-Forwarded-For"; a name with a
// character outside a token is kept as it is.
std::string canonicalHeaderName(std::string_view name) {
  std::string out(name);
  for (char c : out) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) ||
          std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos)) {
      return out;
    }
  }
  bool upper = true;
  for (char& c : out) {
    c = upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
              : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    upper = c == '-';
  }
  return out;
}

std::string joinHostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

void globalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

using CurlPtr = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using CurlListPtr = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;
using CurlUrlPtr = std::unique_ptr<CURLU, decltype(&curl_url_cleanup)>;

// The host of a URL as libcurl parses it ("" when it does not parse).
std::string hostOf(const std::string& url) {
  CurlUrlPtr u(curl_url(), curl_url_cleanup);
  char* host = nullptr;
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK ||
      curl_url_get(u.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK) {
    return {};
  }
  std::string out(host);
  curl_free(host);
  return out;
}

struct BodySink {
  std::string body;
  bool truncated = false;
};

size_t writeBody(char* data, size_t size, size_t n, void* userdata) {
  auto* sink = static_cast<BodySink*>(userdata);
  const size_t len = size * n;
  const size_t room = kMaxResponseBody - sink->body.size();
  if (len > room) {
    sink->body.append(data, room);
    sink->truncated = true;
    return 0;  // stop reading: the rest is not wanted (ReadAtMost)
  }
  sink->body.append(data, len);
  return len;
}

// probe.ProbeDialer: a probe's socket lingers 1 s, not the 60 s of TIME_WAIT, so frequent probes
// do not exhaust ephemeral ports.
int setLinger(void*, curl_socket_t fd, curlsocktype) {
  linger l{.l_onoff = 1, .l_linger = 1};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  return CURL_SOCKOPT_OK;
}

struct Hop {
  long status = 0;
  std::string redirectUrl;
  BodySink sink;
};

Result<Hop> getOnce(const std::string& url, curl_slist* headers,
                    std::optional<std::chrono::steady_clock::time_point> deadline,
                    HttpGetFailure& failure) {
  CurlPtr curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return fail(Code::kInternal, "Get \"{}\": curl_easy_init failed", url);
  Hop hop;
  char error[CURL_ERROR_SIZE] = {};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // redirects are checked here, one by one
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);  // probes skip verification (upstream)
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // never through a proxy from the environment
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, writeBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &hop.sink);
  curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, setLinger);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  if (deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        *deadline - std::chrono::steady_clock::now());
    long ms = std::max<long>(1, static_cast<long>(left.count()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms);
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && hop.sink.truncated)) {
    std::string why = error[0] ? error : curl_easy_strerror(rc);
    failure = rc == CURLE_SSL_CONNECT_ERROR && why.find("wrong version number") != std::string::npos
                  ? HttpGetFailure::kPlainHttpFromHttpsServer
                  : HttpGetFailure::kTransport;
    Code code = rc == CURLE_OPERATION_TIMEDOUT ? Code::kDeadlineExceeded : Code::kUnavailable;
    return fail(code, "Get \"{}\": {}", url, why);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &hop.status);
  char* location = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location) {
    hop.redirectUrl = location;
  }
  return hop;
}

bool followable(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

Result<int> resolveContainerPort(const nlohmann::json& port, const nlohmann::json& container) {
  std::optional<int> number;
  if (port.is_number_integer()) {
    number = port.get<int>();
  } else if (port.is_string()) {
    const std::string name = port.get<std::string>();
    for (const auto& p : jsonArray(container, "ports")) {
      if (jsonString(p, "name") == name && jsonField(p, "containerPort").is_number_integer()) {
        number = jsonField(p, "containerPort").get<int>();
        break;
      }
    }
    if (!number) number = parseInt(name);  // a number kept as a string
    if (!number) {
      return fail(Code::kInvalidArgument, "port \"{}\" not found in container \"{}\"", name,
                  jsonString(container, "name"));
    }
  } else {
    return fail(Code::kInvalidArgument, "port: not a number or a name: {}", port.dump());
  }
  if (*number <= 0 || *number >= 65536) {
    return fail(Code::kInvalidArgument, "invalid port number: {}", *number);
  }
  return *number;
}

Result<HttpGetRequest> newHttpGetRequest(const nlohmann::json& httpGet,
                                         const nlohmann::json& container, const std::string& podIp,
                                         std::string_view purpose) {
  std::string scheme = jsonString(httpGet, "scheme", "HTTP");
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  std::string host = jsonString(httpGet, "host");
  if (host.empty()) host = podIp;
  const int port =
      BERTH_TRY_CTX(resolveContainerPort(jsonField(httpGet, "port"), container), "httpGet");
  std::string path = jsonString(httpGet, "path");
  if (!path.empty() && path.front() != '/') path.insert(0, "/");

  HttpGetRequest req;
  req.url = fmt::format("{}://{}{}", scheme, joinHostPort(host, port), path);
  bool userAgent = false;
  std::optional<std::string> accept;
  for (const auto& h : jsonArray(httpGet, "httpHeaders")) {
    std::string name = canonicalHeaderName(jsonString(h, "name"));
    std::string value = jsonString(h, "value");
    if (name == "User-Agent") userAgent = true;
    if (name == "Accept") {
      if (!accept) accept = value;  // http.Header.Get: the first value
    }
    req.headers.emplace_back(std::move(name), std::move(value));
  }
  if (!userAgent) req.headers.emplace_back("User-Agent", kubeUserAgent(purpose));
  if (!accept) {
    req.headers.emplace_back("Accept", "*/*");
  } else if (accept->empty()) {
    // An Accept set to "" removes the header (curl adds "Accept: */*" unless told).
    std::erase_if(req.headers, [](const auto& h) { return h.first == "Accept"; });
    req.headers.emplace_back("Accept", "");
  }
  return req;
}

Result<HttpGetResponse> httpGet(const HttpGetRequest& request, std::chrono::milliseconds timeout,
                                HttpGetFailure* failure) {
  globalInit();
  HttpGetFailure ignored;
  HttpGetFailure& why = failure ? *failure : ignored;
  why = HttpGetFailure::kNone;

  CurlListPtr headers(nullptr, curl_slist_free_all);
  for (const auto& [name, value] : request.headers) {
    // "Name:" removes a header curl would add; "Name;" sends it empty.
    std::string line = value.empty() ? name + (name == "Accept" ? ":" : ";") : name + ": " + value;
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (!next) return fail(Code::kInternal, "Get \"{}\": out of memory", request.url);
    headers.release();
    headers.reset(next);
  }

  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (timeout > std::chrono::milliseconds::zero()) {
    deadline = std::chrono::steady_clock::now() + timeout;
  }
  const std::string originalHost = hostOf(request.url);
  std::string url = request.url;
  for (int requests = 1;; ++requests) {
    Hop hop = BERTH_TRY(getOnce(url, headers.get(), deadline, why));
    if (!followable(hop.status) || hop.redirectUrl.empty() ||
        hostOf(hop.redirectUrl) != originalHost) {
      // Not a redirect, or one to another host: that response is the answer (ErrUseLastResponse).
      return HttpGetResponse{hop.status, std::move(hop.sink.body), hop.sink.truncated};
    }
    if (requests >= kMaxRequests) {
      why = HttpGetFailure::kTransport;
      return fail(Code::kUnavailable, "Get \"{}\": stopped after 10 redirects", hop.redirectUrl);
    }
    url = std::move(hop.redirectUrl);
  }
}

ProbeOutcome httpProbe(const HttpGetRequest& request, std::chrono::milliseconds timeout) {
  auto res = httpGet(request, timeout);
  if (!res) return {HandlerResult::kFailure, res.error().message()};
  if (res->status >= 200 && res->status < 400) {
    if (res->status >= 300) {
      return {HandlerResult::kWarning, "Probe terminated redirects, Response body: " + res->body};
    }
    return {HandlerResult::kSuccess, std::move(res->body)};
  }
  return {HandlerResult::kFailure,
          fmt::format("HTTP probe failed with statuscode: {}", res->status)};
}

}  // namespace berth::kubelet::prober
