#pragma once
// A server-side WebSocket connection over an upgraded socket: one reader (serve(), on its own
// thread) handing data messages to a callback, and thread-safe senders. Pings are answered and
// the close handshake is done here (RFC 6455 5.5, 7).
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"
#include "shim/streaming/websocket.h"

namespace berth::shim {

class WebSocketConnection {
 public:
  // The largest message a client may send: stdin and port-forward data come in small messages
  // (client-go writes what one read returned, 32 KiB at most).
  static constexpr std::size_t kMaxMessage = 1 << 20;

  // `pending` holds bytes already read past the HTTP request head.
  WebSocketConnection(UniqueFd socket, std::string pending, std::size_t maxMessage = kMaxMessage);

  // Reads until the close handshake is done, the peer goes away, or close()'s grace passes.
  // A peer that breaks the protocol gets a close frame with the matching code (1002, 1009) and
  // the error is returned.
  [[nodiscard]] Status serve(const std::function<void(ws::Message&)>& onMessage);

  // Fails once the close frame went out.
  [[nodiscard]] Status send(ws::Opcode opcode, std::string_view payload);
  [[nodiscard]] Status send(const ws::Message& message) {
    return send(message.opcode, message.payload);
  }
  // Sends the close frame (once); serve() then returns when the peer answers or after `grace`.
  void close(std::uint16_t code, std::string_view reason, std::chrono::milliseconds grace);

 private:
  [[nodiscard]] Status sendClose(std::uint16_t code, std::string_view reason);

  UniqueFd socket_;
  std::string pending_;
  ws::MessageReader reader_;
  std::mutex writeMu_;
  bool closeSent_ = false;                        // under writeMu_
  std::atomic<std::int64_t> closeDeadlineMs_{0};  // steady clock ms; 0: not closing
};

}  // namespace berth::shim
