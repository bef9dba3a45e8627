// The remote command protocols over WebSocket, as the kubelet's streaming server speaks them
// (pkg/kubelet/cri/streaming/remotecommand/websocket.go on k8s.io/apiserver's wsstream): every
// message carries its channel (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize); v5 adds the
// CLOSE signal [255, channel] that half-closes stdin; v4 and v5 report a metav1.Status on the
// error channel, the older protocols a failure as text; the base64 variants use text messages.
#include <thread>

#include "shim/streaming/remote_command.h"
#include "shim/streaming/websocket_connection.h"

namespace berth::shim {
namespace {

// "": a client that offers no subprotocol gets channel.k8s.io, as from wsstream.
constexpr std::string_view kRemoteCommandV4Base64 = "v4.base64.channel.k8s.io";
constexpr std::string_view kRemoteCommandV1Base64 = "base64.channel.k8s.io";
constexpr std::array<std::string_view, 6> kRemoteCommandWebSocketProtocols = {
    kRemoteCommandV5, kRemoteCommandV4,       kRemoteCommandV4Base64,
    kRemoteCommandV1, kRemoteCommandV1Base64, ""};
constexpr std::uint8_t kCloseSignal = 255;

}  // namespace

Status serveRemoteCommandWebSocket(UniqueFd socket, const HttpRequest& request, std::string pending,
                                   const RemoteCommandOptions& options, const CommandRunner& run) {
  std::string protocol =
      BERTH_TRY(ws::acceptUpgrade(socket.get(), request, kRemoteCommandWebSocketProtocols));
  bool base64 = ws::isBase64Protocol(protocol);
  bool v5 = protocol == kRemoteCommandV5;
  bool statusJson = v5 || protocol.starts_with("v4.");
  // The kubelet keeps a resize channel for every WebSocket protocol.
  auto session = CommandSession::create(options, /*resizable=*/true);
  WebSocketConnection conn(std::move(socket), std::move(pending));
  if (!session) {
    conn.close(ws::kCloseInternalError, session.error().message(), std::chrono::milliseconds(0));
    return std::unexpected(session.error());
  }
  auto sendOn = [&](CommandChannel c, std::string_view data) {
    return !!conn.send(ws::encodeChannel(base64, static_cast<std::uint8_t>(c), data));
  };
  // wsstream: an empty message on the lowest channel we write tells the client the streams are
  // ready.
  for (auto c : {CommandChannel::kStdout, CommandChannel::kStderr, CommandChannel::kError}) {
    if (session.value()->wants(c)) {
      (void)sendOn(c, {});
      break;
    }
  }

  std::thread reader([&] {
    (void)conn.serve([&](ws::Message& m) {
      auto message = ws::decodeChannel(base64, m.payload);
      if (!message) return;
      if (v5 && message->channel == kCloseSignal) {
        if (message->data.size() == 1)
          (*session)->endInput(static_cast<CommandChannel>(message->data[0]));
        return;
      }
      if (message->channel < kCommandChannels)
        (*session)->input(static_cast<CommandChannel>(message->channel), message->data);
    });
    (*session)->clientGone();
  });
  std::string report = (*session)->run(
      run,
      [&](CommandChannel c, std::string_view data, bool) {
        // A channel's end has no message of its own: the connection's close ends them all.
        return data.empty() || sendOn(c, data);
      },
      statusJson);
  if (!report.empty()) (void)sendOn(CommandChannel::kError, report);
  conn.close(ws::kCloseNormal, {}, kRemoteCommandCloseGrace);
  reader.join();
  return {};
}

}  // namespace berth::shim
