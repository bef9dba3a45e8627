#pragma once
// One HTTP stack for every berth server (berth-server, the kubelet's :10250 API, the proxy's
// healthz/metrics, berth-cri's streaming server): Boost.Beast/Asio with OpenSSL for HTTP/1.1,
// chunked streams and WebSocket, libnghttp2 for HTTP/2 (ALPN "h2"). Limits, timeouts and TLS
// settings live here and nowhere else.
//
// Threads: a few I/O threads accept, handshake and read request heads (with a header timeout, so
// a slow client costs a socket, never a thread); each complete request runs its Handler on a
// bounded worker pool. A handler may block (storage, a CRI call). Responses are written either
// whole (respond) or as a stream (start/write/finish) from any thread, after the handler
// returned: a watch keeps no thread. An upgraded connection (SPDY, WebSocket, a raw tunnel) is
// served by a thread of its own, outside the worker pool, up to maxUpgradedConnections.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/http/headers.h"
#include "common/result.h"

namespace berth::http {

// The client certificate of a TLS connection, verified against the server's client CA. Requests
// whose certificate does not verify are refused at the handshake; a client without one is let
// through with no PeerCertificate (the apiserver's RequestClientCert + VerifyIfGiven).
struct PeerCertificate {
  std::string commonName;                  // subject CN
  std::vector<std::string> organizations;  // subject O, in order
  std::string pem;                         // the leaf certificate
};

struct Request {
  std::string method;    // "GET", ...
  std::string target;    // the request-target as sent ("/api/v1/pods?watch=1")
  std::string path;      // percent-decoded path, without the query
  std::string rawQuery;  // after '?', undecoded
  // Query parameters percent-decoded ('+' is a space), in order.
  std::vector<std::pair<std::string, std::string>> query;
  Headers headers;
  std::string body;      // whole (bounded by ServerOptions::maxBodyBytes)
  int httpVersion = 11;  // 10, 11 or 20
  bool tls = false;
  std::optional<PeerCertificate> peerCertificate;
  std::string remoteAddress;  // "127.0.0.1:45678", "[::1]:45678"

  // The first value of a query parameter, nullopt when absent.
  std::optional<std::string_view> queryParam(std::string_view name) const;
  // Every value of a query parameter (repeated keys), in order.
  std::vector<std::string_view> queryParams(std::string_view name) const;
  // Whether the request asks to upgrade to a WebSocket (Connection: upgrade, Upgrade: websocket).
  bool isWebSocketUpgrade() const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
};

// A blocking byte stream over TCP or TLS, what an upgraded HTTP/1.1 connection becomes.
class Stream {
 public:
  virtual ~Stream() = default;
  // Reads what is available (at least one byte); 0 is the end of the stream. Blocks at most
  // `timeout` (kDeadlineExceeded after it); nullopt waits as long as it takes.
  [[nodiscard]] virtual Result<std::size_t> read(
      std::span<char> buffer, std::optional<std::chrono::milliseconds> timeout = std::nullopt) = 0;
  // Writes everything; safe to call from one thread while another reads.
  [[nodiscard]] virtual Status writeAll(std::string_view data) = 0;
  // Half-close (TCP FIN, or TLS close_notify); reading goes on.
  virtual void shutdownWrite() = 0;
  // Unblocks readers and writers and closes the connection; safe from any thread.
  virtual void close() = 0;
};

// A server side WebSocket (RFC 6455) after the handshake.
class WebSocket {
 public:
  struct Message {
    bool binary = true;
    std::string data;
  };
  virtual ~WebSocket() = default;
  // The next whole message; nullopt once the peer closed (its close frame was answered). Pings
  // are answered inside. Protocol errors close the connection with the RFC's code and are errors.
  [[nodiscard]] virtual Result<std::optional<Message>> read(
      std::optional<std::chrono::milliseconds> timeout = std::nullopt) = 0;
  // Sends one message; thread-safe against read() and other writers.
  [[nodiscard]] virtual Status write(std::string_view data, bool binary = true) = 0;
  // Sends a close frame (once) and closes after the peer answers or a short grace.
  virtual void close(std::uint16_t code = 1000, std::string_view reason = {}) = 0;
  // The subprotocol agreed in the handshake.
  virtual const std::string& subprotocol() const = 0;
};

// How the response to one request is written. Exactly one of respond(), start() or an upgrade is
// used. Every method is thread-safe and may be called after the handler returned.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;

  // The whole response. Content-Length is set here.
  virtual void respond(Response response) = 0;

  // A streamed response: the head now (HTTP/1.1: Transfer-Encoding: chunked), then the body in
  // pieces. write() queues and never blocks; it returns false once the client is gone, or when
  // more than ServerOptions::maxQueuedStreamBytes are waiting (the client is too slow: the
  // connection is closed, as the apiserver drops a watcher that can't keep up).
  virtual bool start(int status, Headers headers) = 0;
  virtual bool write(std::string data) = 0;
  virtual void finish() = 0;

  // Called once, from an I/O thread, when the connection closes before finish() (client gone,
  // server shutting down). Set it before start().
  virtual void onClose(std::function<void()> callback) = 0;
  virtual bool closed() const = 0;

  // HTTP/1.1 only: writes `switching` (status 101 with its Upgrade headers) and hands over the
  // connection, with whatever the client already sent past the request head. Blocks until the
  // 101 is out, so call it (and acceptWebSocket) from the handler's thread or another thread of
  // yours, never from an onClose callback (those run on an I/O thread). The calling thread
  // may then serve the stream for the life of the connection (it no longer counts against the
  // worker pool). kResourceExhausted when maxUpgradedConnections are in use (the client got 503).
  [[nodiscard]] virtual Result<std::unique_ptr<Stream>> upgrade(Response switching) = 0;

  // HTTP/1.1 only: completes a WebSocket handshake (Sec-WebSocket-Accept, the subprotocol,
  // `extraHeaders`), or answers the client with the RFC's error (400/403/405/426) and fails.
  // `subprotocols` are ours, in order of preference; the client's first one we support wins;
  // when the client offers none, an empty subprotocol is accepted only if `allowNone`.
  [[nodiscard]] virtual Result<std::unique_ptr<WebSocket>> acceptWebSocket(
      std::span<const std::string> subprotocols, bool allowNone, Headers extraHeaders = {}) = 0;
};

using Handler = std::function<void(Request& request, std::shared_ptr<ResponseWriter> writer)>;

struct TlsServerConfig {
  std::string certFile;  // PEM, the leaf first, then intermediates
  std::string keyFile;
  // PEM bundle that client certificates must chain to; empty: client certificates not asked for.
  std::string clientCaFile;
  bool enableHttp2 = true;  // offer "h2" before "http/1.1" in ALPN
  // Re-read certFile and keyFile at a handshake when they changed on disk (a rotated certificate,
  // as Go's tls.Config.GetCertificate serves the kubelet's): new connections get the new pair.
  // Until the files exist and hold a matching pair, handshakes fail.
  bool reloadCertificate = false;
};

struct ServerOptions {
  std::string bindAddress = "127.0.0.1";
  std::uint16_t port = 0;  // 0: a free port, see Server::port()
  std::optional<TlsServerConfig> tls;
  std::size_t ioThreads = 1;
  std::size_t workerThreads = 8;
  std::size_t maxConnections = 10000;
  std::size_t maxUpgradedConnections = 1000;
  std::chrono::milliseconds headerTimeout{
      10'000};  // from accept (or the last request) to a whole head
  std::chrono::milliseconds bodyTimeout{60'000};
  std::chrono::milliseconds idleTimeout{90'000};  // keep-alive between requests
  std::size_t maxHeaderBytes = 1 << 20;
  std::size_t maxBodyBytes = 3 << 20;  // the apiserver's 3 MiB request limit
  std::size_t maxQueuedStreamBytes = 16 << 20;
  // An upgraded connection with no traffic either way for this long is closed (a WebSocket
  // gets pings after half of it and is closed when they go unanswered). The kubelet's stream
  // idle timeout is 4 h.
  std::chrono::milliseconds upgradedIdleTimeout{4 * 3600 * 1000};
  // The largest WebSocket message a client may send (1009 beyond it).
  std::size_t maxWebSocketMessageBytes = 1 << 20;
};

class Server {
 public:
  // Binds, listens and starts the threads; the handler is called for every request.
  [[nodiscard]] static Result<std::unique_ptr<Server>> start(ServerOptions options,
                                                             Handler handler);
  virtual ~Server() = default;  // shutdown(0) if not done

  virtual std::uint16_t port() const = 0;
  // Stops accepting, lets in-flight requests finish for up to `grace`, then closes every
  // connection (streams get onClose) and joins the threads. It waits for running handlers,
  // upgraded ones included (their Stream or WebSocket fails once closed), so never call it from
  // a handler, and a handler must not block on something only shutdown would end.
  virtual void shutdown(std::chrono::milliseconds grace) = 0;
};

}  // namespace berth::http
