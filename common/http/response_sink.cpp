#include "common/http/response_sink.h"

namespace berth::http {

ConnectionWriter::~ConnectionWriter() {
  if (!exchange_->claim(Exchange::Kind::kWhole)) return;
  if (auto sink = sink_.lock())
    sink->sendWhole(
        {500, {{"Content-Type", "text/plain; charset=utf-8"}}, "handler wrote no response\n"});
}

void ConnectionWriter::respond(Response response) {
  if (!exchange_->claim(Exchange::Kind::kWhole)) return;
  if (auto sink = sink_.lock()) sink->sendWhole(std::move(response));
}

bool ConnectionWriter::start(int status, Headers headers) {
  if (!exchange_->claim(Exchange::Kind::kStream)) return false;
  auto sink = sink_.lock();
  if (!sink) return false;
  sink->sendHead(status, std::move(headers));
  return true;
}

bool ConnectionWriter::write(std::string data) {
  if (data.empty()) return !exchange_->closed();
  switch (exchange_->push(data.size())) {
    case Exchange::Push::kClosed:
      return false;
    case Exchange::Push::kTooSlow:
      if (auto sink = sink_.lock()) sink->abort();
      return false;
    case Exchange::Push::kOk:
      break;
  }
  auto sink = sink_.lock();
  if (!sink) return false;
  sink->sendData(std::move(data));
  return true;
}

void ConnectionWriter::finish() {
  if (!exchange_->finish()) return;
  if (auto sink = sink_.lock()) sink->sendEnd();
}

void ConnectionWriter::onClose(std::function<void()> callback) {
  exchange_->setOnClose(std::move(callback));
}

bool ConnectionWriter::closed() const {
  return exchange_->closed() || sink_.expired();
}

Result<std::unique_ptr<Stream>> ConnectionWriter::upgrade(Response switching) {
  if (!exchange_->claim(Exchange::Kind::kUpgrade))
    return fail(Code::kFailedPrecondition, "upgrade: the response was already started");
  auto sink = sink_.lock();
  if (!sink) return fail(Code::kUnavailable, "upgrade: the connection is closed");
  return sink->upgrade(std::move(switching));
}

Result<std::unique_ptr<WebSocket>> ConnectionWriter::acceptWebSocket(
    std::span<const std::string> subprotocols, bool allowNone, Headers extraHeaders) {
  if (!exchange_->claim(Exchange::Kind::kUpgrade))
    return fail(Code::kFailedPrecondition, "websocket: the response was already started");
  auto sink = sink_.lock();
  if (!sink) return fail(Code::kUnavailable, "websocket: the connection is closed");
  return sink->acceptWebSocket(subprotocols, allowNone, std::move(extraHeaders));
}

}  // namespace berth::http
