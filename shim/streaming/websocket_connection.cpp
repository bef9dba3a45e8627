#include "shim/streaming/websocket_connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "common/file_util.h"
#include "shim/streaming/socket_read.h"

namespace berth::shim {
WebSocketConnection::WebSocketConnection(UniqueFd socket, std::string pending,
                                         std::size_t maxMessage)
    : socket_(std::move(socket)),
      pending_(std::move(pending)),
      reader_(maxMessage, /*peerMasks=*/true) {}

Status WebSocketConnection::send(ws::Opcode opcode, std::string_view payload) {
  std::lock_guard lock(writeMu_);
  if (closeSent_) return fail(Code::kFailedPrecondition, "websocket: connection is closing");
  return writeAll(socket_.get(), ws::frame(opcode, payload));
}

Status WebSocketConnection::sendClose(std::uint16_t code, std::string_view reason) {
  std::lock_guard lock(writeMu_);
  if (closeSent_) return {};
  closeSent_ = true;
  return writeAll(socket_.get(), ws::frame(ws::Opcode::kClose, ws::closePayload(code, reason)));
}

void WebSocketConnection::close(std::uint16_t code, std::string_view reason,
                                std::chrono::milliseconds grace) {
  (void)sendClose(code, reason);
  std::int64_t expected = 0;
  closeDeadlineMs_.compare_exchange_strong(expected, steadyMs() + grace.count());
}

Status WebSocketConnection::serve(const std::function<void(ws::Message&)>& onMessage) {
  reader_.feed(pending_);
  pending_.clear();
  char buf[64 * 1024];
  while (true) {
    while (true) {
      auto next = reader_.next();
      if (!next) {
        (void)sendClose(next.error().code, next.error().reason);
        ::shutdown(socket_.get(), SHUT_WR);
        return fail(Code::kInvalidArgument, "websocket: {} (closed with {})", next.error().reason,
                    next.error().code);
      }
      if (!*next) break;
      ws::Message& m = **next;
      switch (m.opcode) {
        case ws::Opcode::kPing:
          (void)send(ws::Opcode::kPong, m.payload);
          break;
        case ws::Opcode::kPong:
          break;
        case ws::Opcode::kClose: {
          // The peer's close: answer it with its code unless we closed first, then we are done.
          std::uint16_t code = ws::closeCode(m.payload);
          (void)sendClose(code == ws::kCloseNoStatus ? std::uint16_t{ws::kCloseNormal} : code, {});
          ::shutdown(socket_.get(), SHUT_WR);
          return {};
        }
        default:
          if (onMessage) onMessage(m);
          break;
      }
    }
    auto n = BERTH_TRY(readSocketStep(socket_.get(), buf, sizeof buf, closeDeadlineMs_));
    if (!n) continue;
    if (*n == 0) return {};
    reader_.feed(std::string_view(buf, *n));
  }
}

}  // namespace berth::shim
