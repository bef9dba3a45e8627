#include "shim/streaming/port_forward.h"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <charconv>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "common/file_util.h"
#include "shim/streaming/spdy_connection.h"
#include "shim/streaming/websocket_connection.h"

namespace berth::shim {
namespace {

constexpr std::array<std::string_view, 1> kPortForwardProtocols = {kPortForwardV1};
// The kubelet's wsstream port-forward: "" (no subprotocol offered) is the binary framing.
constexpr std::array<std::string_view, 3> kWebSocketProtocols = {"v4.channel.k8s.io",
                                                                 "v4.base64.channel.k8s.io", ""};
// kubectl 1.30+ (KEP-4006): SPDY/3.1 inside WebSocket binary messages.
constexpr std::array<std::string_view, 1> kTunnelProtocols = {kPortForwardTunnel};
constexpr std::chrono::milliseconds kPortForwardCloseGrace{1000};

std::optional<std::int32_t> parsePort(std::string_view s) {
  std::int32_t port = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  if (ec != std::errc() || end != s.data() + s.size() || port < 1 || port > 65535)
    return std::nullopt;
  return port;
}

}  // namespace

PortRelay::~PortRelay() {
  abort();
  join();
}

Status PortRelay::start(std::int32_t port, const std::string& podSandboxId,
                        const PortForwarder& forward, Send data, Send error,
                        std::function<void()> done) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
    return failErrno(fmt::format("socketpair for port {}", port));
  local_.reset(pair[0]);
  UniqueFd remote(pair[1]);
  thread_ = std::thread([this, port, &podSandboxId, &forward, data = std::move(data),
                         error = std::move(error), done = std::move(done),
                         remote = std::move(remote)]() mutable {
    int local = local_.get();
    // Pod → client on its own thread; client → pod is the transport's reader calling fromClient.
    std::thread down([&data, local] {
      char buf[32 * 1024];
      ssize_t n;
      while ((n = ::read(local, buf, sizeof buf)) > 0)
        if (!data(std::string_view(buf, static_cast<std::size_t>(n)), false)) break;
      (void)data({}, /*fin=*/true);
    });
    Status s = forward(port, std::move(remote));
    if (!s) {
      (void)error(fmt::format("error forwarding port {} to pod {}: {}", port, podSandboxId,
                              s.error().message()),
                  false);
      ::shutdown(local, SHUT_RDWR);
    }
    down.join();
    (void)error({}, /*fin=*/true);
    if (done) done();
  });
  return {};
}

void PortRelay::fromClient(std::string_view data) {
  if (started() && !data.empty()) (void)writeAll(local_.get(), data);
}

void PortRelay::clientDone() {
  if (started()) ::shutdown(local_.get(), SHUT_WR);
}

void PortRelay::abort() {
  if (started()) ::shutdown(local_.get(), SHUT_RDWR);
}

void PortRelay::join() {
  if (thread_.joinable()) thread_.join();
}

namespace {

// The SPDY session once upgraded, on a socket or inside a WebSocket tunnel.
Status serveSpdyPortForward(SpdyConnection& conn, const std::string& podSandboxId,
                            const PortForwarder& forward) {
  // One forwarded connection: its two streams and its relay.
  struct Forward {
    std::uint32_t dataId = 0;
    std::uint32_t errorId = 0;
    std::int32_t port = 0;
    PortRelay relay;
  };
  std::mutex mu;
  std::map<std::string, std::unique_ptr<Forward>> forwards;  // by requestid
  std::map<std::uint32_t, Forward*> byData;

  // Both streams of a request are there: connect the port, relay until one side is done.
  auto start = [&](Forward& f) {
    auto on = [&conn](std::uint32_t id) {
      return [&conn, id](std::string_view data, bool fin) { return !!conn.send(id, data, fin); };
    };
    Status s = f.relay.start(f.port, podSandboxId, forward, on(f.dataId), on(f.errorId));
    if (!s) (void)conn.send(f.errorId, s.error().message(), /*fin=*/true);
  };

  SpdyConnection::Handlers h;
  h.onStream = [&](const spdy::Frame& fr) {
    auto type = spdy::findHeader(fr.headers, "streamtype");
    auto id = spdy::findHeader(fr.headers, "requestid");
    auto portText = spdy::findHeader(fr.headers, "port");
    auto port = portText ? parsePort(*portText) : std::nullopt;
    if (!type || (*type != "data" && *type != "error") || !id || !port) {
      (void)conn.reset(fr.streamId, spdy::kProtocolError);
      return;
    }
    (void)conn.reply(fr.streamId);
    std::lock_guard lock(mu);
    auto& f = forwards[std::string(*id)];
    if (!f) f = std::make_unique<Forward>();
    f->port = *port;
    if (*type == "data") {
      f->dataId = fr.streamId;
      byData[fr.streamId] = f.get();
    } else {
      f->errorId = fr.streamId;
    }
    if (f->dataId != 0 && f->errorId != 0 && !f->relay.started()) start(*f);
  };
  h.onData = [&](std::uint32_t streamId, std::string_view data, bool fin) {
    Forward* f;
    {
      std::lock_guard lock(mu);
      auto it = byData.find(streamId);
      if (it == byData.end()) return;
      f = it->second;
    }
    f->relay.fromClient(data);
    if (fin) f->relay.clientDone();
  };
  h.onReset = [&](std::uint32_t streamId) {
    std::lock_guard lock(mu);
    auto it = byData.find(streamId);
    if (it != byData.end()) it->second->relay.abort();
  };
  Status served = conn.serve(h);
  // The client is gone: end every forward still running, then wait for them.
  {
    std::lock_guard lock(mu);
    for (auto& [id, f] : forwards)
      f->relay.abort();
  }
  for (auto& [id, f] : forwards)
    f->relay.join();
  conn.closeAfter(kPortForwardCloseGrace);
  return served;
}

}  // namespace

Status servePortForward(UniqueFd socket, const HttpRequest& request, std::string pending,
                        const std::string& podSandboxId, const PortForwarder& forward) {
  BERTH_TRY(acceptSpdyUpgrade(socket.get(), request, kPortForwardProtocols));
  SpdyConnection conn(std::move(socket), std::move(pending));
  return serveSpdyPortForward(conn, podSandboxId, forward);
}

Status servePortForwardTunnel(UniqueFd socket, const HttpRequest& request, std::string pending,
                              const std::string& podSandboxId, const PortForwarder& forward) {
  BERTH_TRY(ws::acceptUpgrade(socket.get(), request, kTunnelProtocols));
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
    return failErrno("socketpair for the SPDY tunnel");
  UniqueFd outer(pair[0]);  // the WebSocket's side
  WebSocketConnection tunnel(std::move(socket), std::move(pending));
  SpdyConnection conn(UniqueFd(pair[1]), {});
  // Binary messages carry the SPDY byte stream, cut anywhere.
  std::thread in([&] {
    (void)tunnel.serve([&](ws::Message& m) {
      if (m.opcode == ws::Opcode::kBinary) (void)writeAll(outer.get(), m.payload);
    });
    ::shutdown(outer.get(), SHUT_WR);  // the SPDY session sees the client leave
  });
  std::thread out([&] {
    char buf[32 * 1024];
    ssize_t n;
    bool connected = true;
    // Drained to the end even when the client is gone, so no SPDY writer blocks.
    while ((n = ::read(outer.get(), buf, sizeof buf)) > 0)
      if (connected)
        connected =
            !!tunnel.send(ws::Opcode::kBinary, std::string_view(buf, static_cast<size_t>(n)));
    tunnel.close(ws::kCloseNormal, {}, kPortForwardCloseGrace);
  });
  Status served = serveSpdyPortForward(conn, podSandboxId, forward);  // ends by half-closing
  out.join();
  in.join();
  return served;
}

Result<std::vector<std::int32_t>> parsePortQuery(const HttpRequest& request) {
  auto values = request.queryValues("port");
  if (values.empty()) return fail(Code::kInvalidArgument, "query parameter \"port\" is required");
  std::vector<std::int32_t> ports;
  for (const auto& value : values) {
    if (value.empty())
      return fail(Code::kInvalidArgument, "query parameter \"port\" cannot be empty");
    std::string_view rest = value;
    while (true) {
      std::size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      if (item == "0") return fail(Code::kInvalidArgument, "port \"{}\" must be > 0", value);
      auto port = parsePort(item);
      if (!port) return fail(Code::kInvalidArgument, "unable to parse \"{}\" as a port", value);
      ports.push_back(*port);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return ports;
}

Status servePortForwardWebSocket(UniqueFd socket, const HttpRequest& request, std::string pending,
                                 const std::string& podSandboxId, const PortForwarder& forward) {
  auto ports = parsePortQuery(request);
  if (!ports) {
    (void)writeAll(socket.get(), httpResponse(400, "Bad Request", {}, ports.error().message()));
    return std::unexpected(ports.error());
  }
  std::string protocol = BERTH_TRY(ws::acceptUpgrade(socket.get(), request, kWebSocketProtocols));
  bool base64 = ws::isBase64Protocol(protocol);
  WebSocketConnection conn(std::move(socket), std::move(pending));
  auto sender = [&conn, base64](std::size_t channel) {
    return [&conn, base64, channel](std::string_view data, bool) {
      // A channel's end has no message: the connection closes once every forward is done.
      return data.empty() ||
             !!conn.send(ws::encodeChannel(base64, static_cast<std::uint8_t>(channel), data));
    };
  };
  std::atomic<std::size_t> running = ports->size();
  auto finished = [&] {
    if (--running == 0) conn.close(ws::kCloseNormal, {}, kPortForwardCloseGrace);
  };
  std::vector<std::unique_ptr<PortRelay>> relays;  // joined before what they use goes
  for (std::size_t i = 0; i < ports->size(); ++i) {
    std::int32_t port = (*ports)[i];
    const char portBytes[2] = {static_cast<char>(port & 0xff), static_cast<char>(port >> 8)};
    (void)sender(2 * i)(std::string_view(portBytes, 2), false);
    (void)sender(2 * i + 1)(std::string_view(portBytes, 2), false);
  }
  for (std::size_t i = 0; i < ports->size(); ++i) {
    auto& relay = relays.emplace_back(std::make_unique<PortRelay>());
    Status s = relay->start((*ports)[i], podSandboxId, forward, sender(2 * i), sender(2 * i + 1),
                            finished);
    if (!s) {
      (void)sender(2 * i + 1)(s.error().message(), true);
      finished();
    }
  }
  Status served = conn.serve([&](ws::Message& m) {
    auto message = ws::decodeChannel(base64, m.payload);
    // Only the data channels (even numbers) carry anything from the client.
    if (message && message->channel % 2 == 0 && message->channel / 2u < relays.size())
      relays[message->channel / 2]->fromClient(message->data);
  });
  for (auto& relay : relays)
    relay->abort();
  relays.clear();  // joins
  return served;
}

}  // namespace berth::shim
