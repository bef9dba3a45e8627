#include "shim/streaming/streaming_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>

#include "common/file_util.h"
#include "shim/streaming/http_request.h"
#include "shim/streaming/port_forward.h"
#include "shim/streaming/websocket.h"

namespace berth::shim {
namespace {

// 8 random bytes, base64url without padding (the kubelet's token shape).
Result<std::string> newToken() {
  unsigned char raw[8];
  if (::getrandom(raw, sizeof raw, 0) != static_cast<ssize_t>(sizeof raw))
    return failErrno("getrandom");
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : raw) {
    acc = acc << 8 | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

Result<UniqueFd> listenTcp(std::string_view address, std::string& baseUrl) {
  std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos)
    return fail(Code::kInvalidArgument, "stream server address \"{}\": want host:port", address);
  std::string host(address.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = -1;
  auto portText = address.substr(colon + 1);
  auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc() || end != portText.data() + portText.size() || port < 0 || port > 65535)
    return fail(Code::kInvalidArgument, "stream server address \"{}\": bad port", address);
  sockaddr_storage ss{};
  socklen_t len;
  bool v6 = host.find(':') != std::string::npos;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET6, host.c_str(), &a->sin6_addr) != 1)
      return fail(Code::kInvalidArgument, "stream server address \"{}\": bad IPv6 host", address);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1)
      return fail(Code::kInvalidArgument, "stream server address \"{}\": bad IPv4 host", address);
    len = sizeof *a;
  }
  UniqueFd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return failErrno("socket");
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0)
    return failErrno(fmt::format("bind stream server to {}", address));
  if (::listen(fd.get(), 128) < 0) return failErrno("listen");
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) < 0)
    return failErrno("getsockname");
  int bound = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                       : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  baseUrl =
      v6 ? fmt::format("http://[{}]:{}", host, bound) : fmt::format("http://{}:{}", host, bound);
  return fd;
}

}  // namespace

Result<std::unique_ptr<StreamingServer>> StreamingServer::start(std::string_view address,
                                                                StreamingRuntime& runtime) {
  // Writes to a pipe or socket whose reader left must fail with EPIPE, not kill berth-cri.
  ::signal(SIGPIPE, SIG_IGN);
  std::string baseUrl;
  UniqueFd listener = BERTH_TRY(listenTcp(address, baseUrl));
  std::unique_ptr<StreamingServer> s(
      new StreamingServer(std::move(listener), runtime, std::move(baseUrl)));
  s->wake_.reset(::eventfd(0, EFD_CLOEXEC));
  if (!s->wake_) return failErrno("eventfd");
  s->acceptThread_ = std::thread([raw = s.get()] { raw->acceptLoop(); });
  return s;
}

StreamingServer::StreamingServer(UniqueFd listener, StreamingRuntime& runtime, std::string baseUrl)
    : listener_(std::move(listener)), runtime_(runtime), baseUrl_(std::move(baseUrl)) {}

StreamingServer::~StreamingServer() {
  stopping_ = true;
  if (wake_) {
    std::uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);
  }
  if (acceptThread_.joinable()) acceptThread_.join();
  std::vector<std::unique_ptr<Session>> sessions;
  {
    std::lock_guard lock(mu_);
    sessions.swap(sessions_);
    for (auto& s : sessions)
      if (!s->done) ::shutdown(s->fd, SHUT_RDWR);
  }
  for (auto& s : sessions)
    s->thread.join();
}

Result<std::string> StreamingServer::insert(Request request, std::string_view kind) {
  std::string token = BERTH_TRY(newToken());
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  std::erase_if(cache_, [&](const auto& entry) { return entry.second.expires <= now; });
  if (cache_.size() >= kMaxInFlight)
    return fail(Code::kResourceExhausted, "maximum number of in-flight requests exceeded");
  cache_[token] = Cached{std::move(request), now + kTokenTtl};
  return fmt::format("{}/{}/{}", baseUrl_, kind, token);
}

namespace {

// CRI: the stream choice of an Exec or Attach request.
Status validateStreams(const std::string& containerId, bool tty, bool in, bool out, bool err) {
  if (containerId.empty()) return fail(Code::kInvalidArgument, "missing required container_id");
  if (tty && err) return fail(Code::kInvalidArgument, "tty and stderr cannot both be true");
  if (!in && !out && !err)
    return fail(Code::kInvalidArgument, "one of stdin, stdout, or stderr must be set");
  return {};
}

}  // namespace

Result<std::string> StreamingServer::execUrl(ExecRequest r) {
  BERTH_TRY(validateStreams(r.containerId, r.tty, r.stdin, r.stdout, r.stderr));
  if (r.cmd.empty()) return fail(Code::kInvalidArgument, "missing required cmd");
  return insert(std::move(r), "exec");
}

Result<std::string> StreamingServer::attachUrl(AttachRequest r) {
  BERTH_TRY(validateStreams(r.containerId, r.tty, r.stdin, r.stdout, r.stderr));
  return insert(std::move(r), "attach");
}

Result<std::string> StreamingServer::portForwardUrl(PortForwardRequest request) {
  if (request.podSandboxId.empty())
    return fail(Code::kInvalidArgument, "missing required pod_sandbox_id");
  return insert(std::move(request), "portforward");
}

std::optional<StreamingServer::Request> StreamingServer::consume(const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = cache_.find(token);
  if (it == cache_.end()) return std::nullopt;
  Cached c = std::move(it->second);
  cache_.erase(it);
  if (c.expires <= std::chrono::steady_clock::now()) return std::nullopt;
  return std::move(c.request);
}

void StreamingServer::reapFinished() {
  std::vector<std::unique_ptr<Session>> finished;
  {
    std::lock_guard lock(mu_);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if ((*it)->done) {
        finished.push_back(std::move(*it));
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& s : finished)
    s->thread.join();
}

void StreamingServer::acceptLoop() {
  while (!stopping_) {
    pollfd p[2] = {{listener_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) continue;
    if (p[1].revents) break;
    UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) continue;
    reapFinished();
    auto session = std::make_unique<Session>();
    Session* raw = session.get();
    raw->fd = conn.get();
    std::lock_guard lock(mu_);
    raw->thread =
        std::thread([this, raw, c = std::make_shared<UniqueFd>(std::move(conn))]() mutable {
          serve(std::move(*c), raw);
          raw->done = true;
        });
    sessions_.push_back(std::move(session));
  }
}

void StreamingServer::serve(UniqueFd conn, Session*) {
  std::string pending;
  auto request = readHttpRequest(conn.get(), pending);
  if (!request) {
    (void)writeAll(conn.get(), httpResponse(400, "Bad Request", {}, request.error().message()));
    return;
  }
  // /<kind>/<token>
  std::string_view path = request->path;
  std::size_t slash = path.find('/', 1);
  std::string kind(path.substr(1, slash == std::string_view::npos ? 0 : slash - 1));
  std::string token(slash == std::string_view::npos ? "" : path.substr(slash + 1));
  if ((kind != "exec" && kind != "attach" && kind != "portforward") || token.empty()) {
    (void)writeAll(conn.get(), httpResponse(404, "Not Found", {}, "404 page not found\n"));
    return;
  }
  if (request->method != "GET" && request->method != "POST") {
    (void)writeAll(conn.get(), httpResponse(405, "Method Not Allowed", {}, ""));
    return;
  }
  auto cached = consume(token);
  bool kindMatches =
      cached && std::visit(
                    [&](const auto& r) {
                      using T = std::decay_t<decltype(r)>;
                      return kind == (std::is_same_v<T, ExecRequest>     ? "exec"
                                      : std::is_same_v<T, AttachRequest> ? "attach"
                                                                         : "portforward");
                    },
                    *cached);
  if (!kindMatches) {
    (void)writeAll(conn.get(), httpResponse(404, "Not Found", {}, "404 page not found\n"));
    return;
  }
  // The same URLs serve SPDY and WebSocket clients: the Upgrade header tells them apart.
  bool webSocket = ws::isWebSocketRequest(*request);
  if (auto* pf = std::get_if<PortForwardRequest>(&*cached)) {
    auto forward = [this, pf](std::int32_t port, UniqueFd stream) {
      return runtime_.portForward(pf->podSandboxId, port, std::move(stream));
    };
    auto offered = request->headerValues("sec-websocket-protocol");
    if (webSocket && std::find(offered.begin(), offered.end(), kPortForwardTunnel) != offered.end())
      (void)servePortForwardTunnel(std::move(conn), *request, std::move(pending), pf->podSandboxId,
                                   forward);
    else if (webSocket)
      (void)servePortForwardWebSocket(std::move(conn), *request, std::move(pending),
                                      pf->podSandboxId, forward);
    else
      (void)servePortForward(std::move(conn), *request, std::move(pending), pf->podSandboxId,
                             forward);
    return;
  }
  RemoteCommandOptions options;
  CommandRunner run;
  if (auto* exec = std::get_if<ExecRequest>(&*cached)) {
    options = {exec->stdin, exec->stdout, exec->stderr, exec->tty};
    run = [this, exec](CommandStreams& s) { return runtime_.exec(*exec, s); };
  } else {
    auto* attach = std::get_if<AttachRequest>(&*cached);
    options = {attach->stdin, attach->stdout, attach->stderr, attach->tty};
    run = [this, attach](CommandStreams& s) { return runtime_.attach(*attach, s); };
  }
  if (webSocket)
    (void)serveRemoteCommandWebSocket(std::move(conn), *request, std::move(pending), options, run);
  else
    (void)serveRemoteCommand(std::move(conn), *request, std::move(pending), options, run);
}

}  // namespace berth::shim
