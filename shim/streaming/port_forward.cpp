#include "shim/streaming/port_forward.h"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "common/file_util.h"
#include "shim/streaming/spdy_connection.h"

namespace berth::shim {
namespace {

constexpr std::array<std::string_view, 1> kProtocols = {kPortForwardV1};
constexpr std::chrono::milliseconds kCloseGrace{1000};

// One forwarded connection: its two streams and our end of the socketpair.
struct Forward {
  std::uint32_t dataId = 0;
  std::uint32_t errorId = 0;
  std::int32_t port = 0;
  UniqueFd local;  // ours; the runtime gets the peer
  std::thread relay;
  bool started = false;
};

std::optional<std::int32_t> parsePort(std::string_view s) {
  std::int32_t port = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  if (ec != std::errc() || end != s.data() + s.size() || port < 1 || port > 65535)
    return std::nullopt;
  return port;
}

}  // namespace

Status servePortForward(UniqueFd socket, const HttpRequest& request, std::string pending,
                        const std::string& podSandboxId, const PortForwarder& forward) {
  BERTH_TRY(acceptSpdyUpgrade(socket.get(), request, kProtocols));
  SpdyConnection conn(std::move(socket), std::move(pending));
  std::mutex mu;
  std::map<std::string, std::unique_ptr<Forward>> forwards;  // by requestid
  std::map<std::uint32_t, Forward*> byData;

  // Both streams of a request are there: connect the port, relay until one side is done.
  auto start = [&](Forward& f) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
      (void)conn.send(f.errorId, fmt::format("socketpair: {}", std::strerror(errno)), true);
      return;
    }
    f.local.reset(pair[0]);
    UniqueFd remote(pair[1]);
    f.started = true;
    f.relay =
        std::thread([&conn, &f, &podSandboxId, &forward, remote = std::move(remote)]() mutable {
          int local = f.local.get();
          // Pod → client, on its own thread; the client → pod direction is the reader's onData.
          std::thread down([&conn, &f, local] {
            char buf[32 * 1024];
            ssize_t n;
            while ((n = ::read(local, buf, sizeof buf)) > 0)
              if (!conn.send(f.dataId, std::string_view(buf, static_cast<std::size_t>(n)))) break;
            (void)conn.send(f.dataId, {}, /*fin=*/true);
          });
          Status s = forward(f.port, std::move(remote));
          if (!s) {
            (void)conn.send(f.errorId, fmt::format("error forwarding port {} to pod {}: {}", f.port,
                                                   podSandboxId, s.error().message()));
            ::shutdown(local, SHUT_RDWR);
          }
          down.join();
          (void)conn.send(f.errorId, {}, /*fin=*/true);
        });
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
    if (f->dataId != 0 && f->errorId != 0 && !f->started) start(*f);
  };
  h.onData = [&](std::uint32_t streamId, std::string_view data, bool fin) {
    Forward* f;
    {
      std::lock_guard lock(mu);
      auto it = byData.find(streamId);
      if (it == byData.end() || !it->second->started) return;
      f = it->second;
    }
    if (!data.empty()) (void)writeAll(f->local.get(), data);
    if (fin) ::shutdown(f->local.get(), SHUT_WR);
  };
  h.onReset = [&](std::uint32_t streamId) {
    std::lock_guard lock(mu);
    auto it = byData.find(streamId);
    if (it != byData.end() && it->second->started) ::shutdown(it->second->local.get(), SHUT_RDWR);
  };
  Status served = conn.serve(h);
  // The client is gone: end every forward still running, then wait for them.
  {
    std::lock_guard lock(mu);
    for (auto& [id, f] : forwards)
      if (f->started) ::shutdown(f->local.get(), SHUT_RDWR);
  }
  for (auto& [id, f] : forwards)
    if (f->relay.joinable()) f->relay.join();
  conn.closeAfter(kCloseGrace);
  return served;
}

}  // namespace berth::shim
