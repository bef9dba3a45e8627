#pragma once
// What a ResponseWriter drives: the connection (HTTP/1.1) or stream (HTTP/2) the response goes
// out on. Every method may be called from any thread; the sink hands the work to its I/O thread.
// ConnectionWriter is the ResponseWriter over a sink: it enforces the one-way-of-answering rule
// and the stream bound (Exchange), so each protocol only moves bytes.
#include <memory>
#include <span>
#include <string>

#include "common/http/exchange.h"
#include "common/http/server.h"

namespace berth::http {

class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual void sendWhole(Response response) = 0;
  virtual void sendHead(int status, Headers headers) = 0;
  virtual void sendData(std::string data) = 0;  // counted in the Exchange; drained() when out
  virtual void sendEnd() = 0;
  virtual void abort() = 0;  // closes the connection or resets the stream
  // Blocking: wait for the I/O thread. Called once the Exchange was claimed for kUpgrade.
  [[nodiscard]] virtual Result<std::unique_ptr<Stream>> upgrade(Response switching) = 0;
  [[nodiscard]] virtual Result<std::unique_ptr<WebSocket>> acceptWebSocket(
      std::span<const std::string> subprotocols, bool allowNone, Headers extraHeaders) = 0;
};

class ConnectionWriter final : public ResponseWriter {
 public:
  // The sink is held weakly: a writer a handler keeps must not keep a closed connection alive.
  ConnectionWriter(std::weak_ptr<ResponseSink> sink, std::shared_ptr<Exchange> exchange)
      : sink_(std::move(sink)), exchange_(std::move(exchange)) {}
  // A handler that dropped its writer without answering: 500, so the client is not left waiting.
  ~ConnectionWriter() override;

  void respond(Response response) override;
  bool start(int status, Headers headers) override;
  bool write(std::string data) override;
  void finish() override;
  void onClose(std::function<void()> callback) override;
  bool closed() const override;
  [[nodiscard]] Result<std::unique_ptr<Stream>> upgrade(Response switching) override;
  [[nodiscard]] Result<std::unique_ptr<WebSocket>> acceptWebSocket(
      std::span<const std::string> subprotocols, bool allowNone, Headers extraHeaders) override;

 private:
  std::weak_ptr<ResponseSink> sink_;
  std::shared_ptr<Exchange> exchange_;
};

}  // namespace berth::http
