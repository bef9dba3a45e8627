#pragma once
// One HTTP/1.1 connection, plain or TLS. Reads each request head within the header timeout
// (counted from accept, or from the first byte after an idle keep-alive wait) and its body within
// the body timeout, under the header and body limits (431, 413, 400 with a short text body, then
// the connection closes); runs the handler on the worker pool; writes the response whole or as a
// chunked stream; hands the socket to an upgraded Stream or WebSocket. A slow client costs a
// socket and a small buffer, never a thread.
//
// Everything private runs on the connection's strand (the socket's executor). The ResponseSink
// and Connection methods may be called from any thread: they post to the strand. Objects that
// need the socket after an upgrade (UpgradedStream, WebSocketSession) use stream() and closeNow()
// on the strand too.
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/http/asio.h"
#include "common/http/response_sink.h"
#include "common/http/server_context.h"
#include "common/http/upgraded_stream.h"

namespace berth::http {

template <class S>
class Http1Connection final : public Connection,
                              public ResponseSink,
                              public ByteChannel,
                              public std::enable_shared_from_this<Http1Connection<S>> {
 public:
  // Called with a TLS socket whose handshake ALPN settled on "h2": the socket moves to an HTTP/2
  // session, which takes over the registry entry `id`.
  using Http2Takeover = void (*)(ServerContext& ctx, std::uint64_t id, TlsSocket socket,
                                 std::string remoteAddress, std::optional<PeerCertificate> peer);

  Http1Connection(ServerContext& ctx, S stream, std::string remoteAddress,
                  Http2Takeover http2 = nullptr);
  ~Http1Connection() override;

  // Starts serving (the TLS handshake first); `id` is the registry entry.
  void start(std::uint64_t id);

  // Connection
  void beginShutdown() override;
  void forceClose() override;

  // ResponseSink
  void sendWhole(Response response) override;
  void sendHead(int status, Headers headers) override;
  void sendData(std::string data) override;
  void sendEnd() override;
  void abort() override;
  [[nodiscard]] Result<std::unique_ptr<Stream>> upgrade(Response switching) override;
  [[nodiscard]] Result<std::unique_ptr<WebSocket>> acceptWebSocket(
      std::span<const std::string> subprotocols, bool allowNone, Headers extraHeaders) override;

  // ByteChannel: the socket of an upgraded Stream.
  void readSome(std::function<void(Result<std::string>)> done) override;
  void writeAll(std::string_view data, std::function<void(Status)> done) override;
  void shutdownWrite(std::function<void()> done) override;
  void closeChannel() override;

  // For what an upgrade built, on the strand.
  const ServerOptions& options() const { return ctx_.options; }
  S& stream() { return stream_; }
  net::any_io_executor executor() { return beast::get_lowest_layer(stream_).get_executor(); }
  // Traffic on an upgraded connection: its idle timeout starts over.
  void activity() { lastActivity_ = std::chrono::steady_clock::now(); }
  // The 101 is out: the socket belongs to what the upgrade built.
  void markUpgraded();
  // Closes the socket, fires onClose, leaves the registry. Idempotent.
  void closeNow();

 private:
  enum class Phase {
    kHandshake,  // TLS
    kIdle,       // keep-alive, waiting for the next request's first byte
    kHead,
    kBody,
    kHandling,   // the handler has the request; nothing read meanwhile
    kWriting,    // a whole response going out
    kStreaming,  // a streamed response; a read watches for the client leaving
    kUpgrading,  // writing 101
    kUpgraded,   // the socket belongs to an upgraded Stream or WebSocket
    kLingering,  // response out, write side shut, draining what the client still sends
    kClosed,
  };
  struct Piece {
    std::string bytes;
    std::size_t counted = 0;  // stream payload bytes in it, for the Exchange's bound
  };

  void post(std::function<void(Http1Connection&)> work);
  void handshake();
  void readNext();
  void startRead();
  void onRead(beast::error_code ec, std::size_t n);
  void readHead();
  void onHead(beast::error_code ec);
  void readBody();
  void onBody(beast::error_code ec);
  void dispatch();
  void failRequest(int status, std::string_view text);
  void writeWhole(Response response);
  void writeHead(int status, Headers headers);
  void queue(std::string bytes, std::size_t counted = 0);
  void flush();
  void onWritten(beast::error_code ec);
  void exchangeDone();
  void lingerClose();
  void armTimer(std::chrono::milliseconds after);
  void onTimer(beast::error_code ec);
  // On the strand: writes the 101 and hands back what the client sent past the head.
  void switchProtocols(std::string head, std::function<void(Result<std::string>)> done);
  Headers requestHeaders() const;

  ServerContext& ctx_;
  S stream_;
  std::string remoteAddress_;
  Http2Takeover http2_;
  std::uint64_t id_ = 0;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::request<bhttp::string_body> request_;  // the request being handled
  std::shared_ptr<Exchange> exchange_;
  std::optional<PeerCertificate> peer_;
  Phase phase_ = Phase::kHandshake;
  bool reading_ = false;  // a read into buffer_ is in flight (idle wait, stream watch, linger)
  bool writing_ = false;
  bool endAfterFlush_ = false;  // the exchange is complete once out_ drains
  bool keepAlive_ = true;
  bool shuttingDown_ = false;
  bool chunked_ = false;
  bool headRequest_ = false;
  bool upgradeSlot_ = false;  // holds one of maxUpgradedConnections
  int version_ = 11;
  std::deque<Piece> out_;
  std::vector<Piece> sending_;
  std::chrono::steady_clock::time_point lastActivity_;
  std::shared_ptr<void> upgraded_;     // what an upgrade built on the socket; dies with it
  std::unique_ptr<char[]> rawBuffer_;  // an upgraded Stream's reads
};

}  // namespace berth::http
