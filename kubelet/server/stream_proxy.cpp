#include "kubelet/server/stream_proxy.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "common/file_util.h"
#include "common/unique_fd.h"

namespace berth::kubelet::server {
namespace {

// How long the runtime may take to answer the upgrade request.
constexpr int kHeadTimeoutSeconds = 30;
constexpr std::size_t kMaxHeadBytes = 64 * 1024;
constexpr std::size_t kMaxErrorBodyBytes = 1 << 20;

struct Url {
  std::string host;  // without brackets
  std::string port;
  std::string pathAndQuery;
  std::string hostHeader;
};

Result<Url> parseUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme))
    return fail(Code::kUnimplemented, "streaming URL {:?}: only http is supported", url);
  url.remove_prefix(kScheme.size());
  auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  Url u;
  u.pathAndQuery = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  u.hostHeader = std::string(authority);
  std::string_view hostPart = authority;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return fail(Code::kInvalidArgument, "streaming URL {:?}: bad host", url);
    u.host = std::string(authority.substr(1, close - 1));
    hostPart = authority.substr(close + 1);
    if (hostPart.starts_with(':')) u.port = std::string(hostPart.substr(1));
  } else {
    auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) u.port = std::string(authority.substr(colon + 1));
  }
  if (u.port.empty()) u.port = "80";
  return u;
}

Result<UniqueFd> dial(const Url& u) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &res); rc != 0)
    return fail(Code::kUnavailable, "resolve {}: {}", u.host, ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, ::freeaddrinfo);
  int lastErr = 0;
  for (auto* a = res; a; a = a->ai_next) {
    UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (!fd) continue;
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) return fd;
    lastErr = errno;
  }
  return failErrno(lastErr, fmt::format("connect to streaming server {}:{}", u.host, u.port));
}

void setReadTimeout(int fd, int seconds) {
  timeval tv{.tv_sec = seconds, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// Hop-by-hop for a proxy, or ours to set: everything else of the client's goes through, the
// Connection/Upgrade pair included, since that is the point.
bool dropRequestHeader(std::string_view name) {
  for (std::string_view h : {"Host", "Authorization", "Content-Length", "Transfer-Encoding",
                             "Proxy-Connection", "Proxy-Authorization", "Keep-Alive", "TE"})
    if (http::Headers::nameEquals(name, h)) return true;
  return false;
}

struct Head {
  int status = 0;
  http::Headers headers;
};

Result<Head> parseHead(std::string_view head) {
  auto eol = head.find("\r\n");
  std::string_view statusLine = head.substr(0, eol);
  if (!statusLine.starts_with("HTTP/1.") || statusLine.size() < 12)
    return fail(Code::kInternal, "streaming server: bad status line {:?}", statusLine);
  Head h;
  h.status = std::atoi(std::string(statusLine.substr(9, 3)).c_str());
  for (std::size_t pos = eol + 2; pos < head.size();) {
    auto end = head.find("\r\n", pos);
    if (end == std::string_view::npos || end == pos) break;
    std::string_view line = head.substr(pos, end - pos);
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ')
        value.remove_prefix(1);
      h.headers.add(std::string(line.substr(0, colon)), std::string(value));
    }
    pos = end + 2;
  }
  return h;
}

// Reads the response head; the bytes after it stay in `buffer`.
Result<Head> readHead(int fd, std::string& buffer) {
  char chunk[4096];
  while (true) {
    if (auto end = buffer.find("\r\n\r\n"); end != std::string::npos) {
      auto head = BERTH_TRY(parseHead(std::string_view(buffer).substr(0, end + 2)));
      buffer.erase(0, end + 4);
      return head;
    }
    if (buffer.size() > kMaxHeadBytes)
      return fail(Code::kInternal, "streaming server: response head too large");
    auto n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failErrno("read from streaming server");
    if (n == 0) return fail(Code::kUnavailable, "streaming server closed before answering");
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

// A refusal from the runtime (a bad token, an unknown container) goes to the client as it is.
void relayRefusal(int fd, Head head, std::string body, http::ResponseWriter& writer) {
  std::size_t want = kMaxErrorBodyBytes;
  if (auto cl = head.headers.get("Content-Length"))
    want = std::min<std::size_t>(want, std::strtoull(std::string(*cl).c_str(), nullptr, 10));
  char chunk[4096];
  while (body.size() < want) {
    auto n = ::read(fd, chunk, std::min(sizeof chunk, want - body.size()));
    if (n <= 0) break;
    body.append(chunk, static_cast<std::size_t>(n));
  }
  body.resize(std::min(body.size(), want));
  http::Response r{.status = head.status, .body = std::move(body)};
  for (const auto& [name, value] : head.headers.fields())
    if (!http::Headers::nameEquals(name, "Content-Length") &&
        !http::Headers::nameEquals(name, "Transfer-Encoding") &&
        !http::Headers::nameEquals(name, "Connection"))
      r.headers.add(name, value);
  writer.respond(std::move(r));
}

// Copies both ways; when either direction ends, both connections close (as the
// UpgradeAwareHandler does: the stream protocols end their own streams before that).
void splice(http::Stream& client, int backend) {
  std::thread up([&client, backend] {
    char buf[32 * 1024];
    while (true) {
      auto n = client.read(std::span<char>(buf, sizeof buf));
      if (!n || *n == 0) break;
      if (!writeAll(backend, std::string_view(buf, *n))) break;
    }
    ::shutdown(backend, SHUT_RDWR);
  });
  char buf[32 * 1024];
  while (true) {
    auto n = ::read(backend, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (!client.writeAll(std::string_view(buf, static_cast<std::size_t>(n)))) break;
  }
  client.close();
  up.join();
}

}  // namespace

bool isUpgradeRequest(const http::Request& request) {
  bool connectionUpgrade = false;
  for (const auto& v : request.headers.values("Connection")) {
    std::string lower(v);
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower == "upgrade") connectionUpgrade = true;
  }
  return connectionUpgrade && request.headers.has("Upgrade");
}

Status proxyUpgrade(const http::Request& request, http::ResponseWriter& writer,
                    const std::string& url) {
  auto u = BERTH_TRY(parseUrl(url));
  auto backend = BERTH_TRY(dial(u));
  std::string out =
      fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\n", request.method, u.pathAndQuery, u.hostHeader);
  for (const auto& [name, value] : request.headers.fields())
    if (!dropRequestHeader(name)) out += fmt::format("{}: {}\r\n", name, value);
  out += "\r\n";
  BERTH_TRY_CTX(writeAll(backend.get(), out), "write to streaming server");
  setReadTimeout(backend.get(), kHeadTimeoutSeconds);
  std::string buffer;
  auto head = BERTH_TRY(readHead(backend.get(), buffer));
  if (head.status != 101) {
    relayRefusal(backend.get(), std::move(head), std::move(buffer), writer);
    return {};
  }
  setReadTimeout(backend.get(), 0);  // the stream idles as long as it likes
  auto client = BERTH_TRY(writer.upgrade(http::Response{.status = 101, .headers = head.headers}));
  if (!buffer.empty() && !client->writeAll(buffer)) return {};
  splice(*client, backend.get());
  return {};
}

}  // namespace berth::kubelet::server
