#pragma once
// The WebSocket an HTTP/1.1 connection upgrades to, on beast::websocket: the opening handshake
// (after negotiateWebSocket's checks), pings answered and the close handshake done by Beast,
// protocol errors closed with their RFC 6455 code (1002, 1007, 1009). WebSocketHandle is the
// blocking WebSocket the handler gets; WebSocketSession does the I/O on the connection's strand.
#include <atomic>
#include <memory>
#include <mutex>

#include <boost/beast/websocket/stream.hpp>

#include "common/http/asio.h"
#include "common/http/pending_op.h"
#include "common/http/prefixed_stream.h"
#include "common/http/server.h"

namespace berth::http {

template <class S>
class Http1Connection;

// The I/O side, implemented by WebSocketSession. Calls from any thread; completions on the
// connection's I/O thread.
class MessageChannel {
 public:
  virtual ~MessageChannel() = default;
  // The next message; nullopt once the peer closed.
  virtual void readMessage(std::function<void(Result<std::optional<WebSocket::Message>>)> done) = 0;
  // `data` stays valid until `done`.
  virtual void writeMessage(std::string_view data, bool binary,
                            std::function<void(Status)> done) = 0;
  virtual void closeMessages(std::uint16_t code, std::string reason) = 0;
};

class WebSocketHandle final : public WebSocket {
 public:
  WebSocketHandle(std::weak_ptr<MessageChannel> channel, std::string subprotocol)
      : channel_(std::move(channel)), subprotocol_(std::move(subprotocol)) {}
  ~WebSocketHandle() override { close(1000, {}); }

  [[nodiscard]] Result<std::optional<Message>> read(
      std::optional<std::chrono::milliseconds> timeout) override;
  [[nodiscard]] Status write(std::string_view data, bool binary) override;
  void close(std::uint16_t code, std::string_view reason) override;
  const std::string& subprotocol() const override { return subprotocol_; }

 private:
  using ReadResult = Result<std::optional<Message>>;
  std::weak_ptr<MessageChannel> channel_;
  std::string subprotocol_;
  std::mutex readMu_;
  std::optional<ReadResult> end_;  // the peer's close or an error, returned from then on
  std::shared_ptr<PendingOp<ReadResult>> pending_ = PendingOp<ReadResult>::create();
  std::mutex writeMu_;
  std::atomic<bool> closed_{false};
};

template <class S>
class WebSocketSession final : public MessageChannel,
                               public std::enable_shared_from_this<WebSocketSession<S>> {
 public:
  // On the connection's strand. The connection owns the session (it borrows the socket).
  static std::shared_ptr<WebSocketSession> create(std::shared_ptr<Http1Connection<S>> connection,
                                                  std::string leftover);
  // Completes the handshake with `protocol` and `extra` fields; on the strand.
  void accept(const bhttp::request<bhttp::string_body>& request, std::string protocol,
              Headers extra, std::function<void(Status)> done);

  void readMessage(std::function<void(Result<std::optional<WebSocket::Message>>)> done) override;
  void writeMessage(std::string_view data, bool binary, std::function<void(Status)> done) override;
  void closeMessages(std::uint16_t code, std::string reason) override;

 private:
  WebSocketSession(std::shared_ptr<Http1Connection<S>> connection, std::string leftover);
  // Runs `work` on the strand with the connection alive, if it still is.
  template <class F>
  void onStrand(F work);

  std::weak_ptr<Http1Connection<S>> connection_;
  beast::websocket::stream<PrefixedStream<S>> ws_;
  beast::flat_buffer readBuffer_;
  bool closing_ = false;
  bool closedCleanly_ = false;  // our close frame was answered: a read after it sees the end
};

}  // namespace berth::http
