#include "common/http/websocket_session.h"

#include "common/http/http1_connection.h"

namespace berth::http {
namespace websocket = beast::websocket;

Result<std::optional<WebSocket::Message>> WebSocketHandle::read(
    std::optional<std::chrono::milliseconds> timeout) {
  std::lock_guard lock(readMu_);
  if (end_) return *end_;
  auto got = pending_->await(
      [this](PendingOp<ReadResult>::Complete complete) {
        auto channel = channel_.lock();
        // After our close() the session may be gone already (the peer answered our close frame
        // before this read started): that is the end of the stream, not a failure.
        if (!channel && closed_) return complete(std::optional<WebSocket::Message>());
        if (!channel) return complete(fail(Code::kUnavailable, "websocket: connection closed"));
        channel->readMessage(std::move(complete));
      },
      timeout);
  if (!got)
    return fail(Code::kDeadlineExceeded, "websocket: no message within {} ms",
                timeout ? timeout->count() : 0);
  if (!*got || !got->value()) end_ = *got;
  return std::move(*got);
}

Status WebSocketHandle::write(std::string_view data, bool binary) {
  std::lock_guard lock(writeMu_);
  if (closed_) return fail(Code::kFailedPrecondition, "websocket: closed");
  return awaitDone<Status>([&](PendingOp<Status>::Complete complete) {
    auto channel = channel_.lock();
    if (!channel) return complete(fail(Code::kUnavailable, "websocket: connection closed"));
    channel->writeMessage(data, binary, std::move(complete));
  });
}

void WebSocketHandle::close(std::uint16_t code, std::string_view reason) {
  if (closed_.exchange(true)) return;
  if (auto channel = channel_.lock()) channel->closeMessages(code, std::string(reason));
}

template <class S>
WebSocketSession<S>::WebSocketSession(std::shared_ptr<Http1Connection<S>> connection,
                                      std::string leftover)
    : connection_(connection), ws_(connection->stream(), std::move(leftover)) {}

template <class S>
std::shared_ptr<WebSocketSession<S>> WebSocketSession<S>::create(
    std::shared_ptr<Http1Connection<S>> connection, std::string leftover) {
  return std::shared_ptr<WebSocketSession>(
      new WebSocketSession(std::move(connection), std::move(leftover)));
}

template <class S>
template <class F>
void WebSocketSession<S>::onStrand(F work) {
  auto connection = connection_.lock();
  if (!connection) return work(nullptr);
  net::post(connection->executor(), [self = this->shared_from_this(), connection,
                                     work = std::move(work)]() mutable { work(connection); });
}

template <class S>
void WebSocketSession<S>::accept(const bhttp::request<bhttp::string_body>& request,
                                 std::string protocol, Headers extra,
                                 std::function<void(Status)> done) {
  auto connection = connection_.lock();
  const ServerOptions& options = connection->options();
  // The handshake timeout also bounds the closing handshake: a peer that never answers our
  // close frame is dropped after it.
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = std::chrono::seconds(5);
  timeouts.idle_timeout = options.upgradedIdleTimeout;
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.read_message_max(options.maxWebSocketMessageBytes);
  ws_.auto_fragment(false);  // a message goes out as one frame
  ws_.set_option(websocket::stream_base::decorator(
      [protocol, extra = std::move(extra)](websocket::response_type& response) {
        if (!protocol.empty()) response.set(bhttp::field::sec_websocket_protocol, protocol);
        for (const auto& [name, value] : extra.fields())
          response.insert(name, value);
      }));
  ws_.async_accept(request, [self = this->shared_from_this(), connection,
                             done = std::move(done)](beast::error_code ec) {
    if (ec) {
      connection->closeNow();
      return done(fail(Code::kInvalidArgument, "websocket handshake: {}", ec.message()));
    }
    connection->markUpgraded();
    done({});
  });
}

template <class S>
void WebSocketSession<S>::readMessage(
    std::function<void(Result<std::optional<WebSocket::Message>>)> done) {
  onStrand([this, done = std::move(done)](std::shared_ptr<Http1Connection<S>> connection) mutable {
    if (!connection) return done(fail(Code::kUnavailable, "websocket: connection closed"));
    ws_.async_read(readBuffer_, [self = this->shared_from_this(), connection,
                                 done = std::move(done)](beast::error_code ec, std::size_t) {
      if (ec == websocket::error::closed || self->closedCleanly_) {
        // The peer's close frame was answered (Beast does that inside the read), or it answered
        // ours.
        connection->closeNow();
        return done(std::optional<WebSocket::Message>());
      }
      if (ec) {
        // A protocol error: Beast sent the close frame with its code already.
        connection->closeNow();
        return done(fail(Code::kUnavailable, "websocket: {}", ec.message()));
      }
      connection->activity();
      WebSocket::Message m{self->ws_.got_binary(),
                           beast::buffers_to_string(self->readBuffer_.data())};
      self->readBuffer_.consume(self->readBuffer_.size());
      done(std::optional<WebSocket::Message>(std::move(m)));
    });
  });
}

template <class S>
void WebSocketSession<S>::writeMessage(std::string_view data, bool binary,
                                       std::function<void(Status)> done) {
  onStrand([this, data, binary,
            done = std::move(done)](std::shared_ptr<Http1Connection<S>> connection) mutable {
    if (!connection) return done(fail(Code::kUnavailable, "websocket: connection closed"));
    ws_.binary(binary);
    ws_.async_write(net::buffer(data.data(), data.size()),
                    [connection, done = std::move(done)](beast::error_code ec, std::size_t) {
                      if (ec) return done(fail(Code::kUnavailable, "websocket: {}", ec.message()));
                      connection->activity();
                      done({});
                    });
  });
}

template <class S>
void WebSocketSession<S>::closeMessages(std::uint16_t code, std::string reason) {
  onStrand(
      [this, code, reason = std::move(reason)](std::shared_ptr<Http1Connection<S>> connection) {
        if (!connection || closing_) return;
        closing_ = true;
        ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), reason),
                        [self = this->shared_from_this(), connection](beast::error_code ec) {
                          self->closedCleanly_ = !ec;
                          connection->closeNow();
                        });
      });
}

template class WebSocketSession<TcpSocket>;
template class WebSocketSession<TlsSocket>;

}  // namespace berth::http
