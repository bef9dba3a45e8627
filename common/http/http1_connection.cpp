#include "common/http/http1_connection.h"

#include <future>

#include "common/http/response_format.h"
#include "common/http/target.h"
#include "common/http/tls_context.h"
#include "common/http/upgraded_stream.h"
#include "common/http/websocket_handshake.h"
#include "common/http/websocket_session.h"

namespace berth::http {
namespace {

using Clock = std::chrono::steady_clock;

// What one idle or watching read asks for: small, since thousands of connections may wait.
constexpr std::size_t kReadChunk = 1024;
// How long a closing connection drains what the client still sends, so the client reads our
// last response instead of a reset (Go's closeWriteAndWait).
constexpr std::chrono::milliseconds kLinger{1000};
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool isParseError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

// Framing is ours: whatever the handler set for it goes.
void dropFraming(Headers& headers) {
  headers.remove("Content-Length");
  headers.remove("Transfer-Encoding");
}

bool wantsClose(const Headers& headers) {
  for (const auto& v : headers.values("Connection"))
    if (Headers::nameEquals(v, "close")) return true;
  return false;
}

std::string text(int status, std::string_view message, std::vector<Headers::Field> extra = {}) {
  Headers h{{"Content-Type", "text/plain; charset=utf-8"},
            {"Content-Length", std::to_string(message.size())}};
  for (auto& f : extra)
    h.add(std::move(f.first), std::move(f.second));
  return formatHead(11, status, h) + std::string(message);
}

}  // namespace

template <class S>
Http1Connection<S>::Http1Connection(ServerContext& ctx, S stream, std::string remoteAddress,
                                    Http2Takeover http2)
    : ctx_(ctx),
      stream_(std::move(stream)),
      remoteAddress_(std::move(remoteAddress)),
      http2_(http2),
      timer_(beast::get_lowest_layer(stream_).get_executor()) {}

template <class S>
Http1Connection<S>::~Http1Connection() = default;

template <class S>
void Http1Connection<S>::post(std::function<void(Http1Connection&)> work) {
  net::post(executor(), [self = this->shared_from_this(), work = std::move(work)] { work(*self); });
}

template <class S>
void Http1Connection<S>::start(std::uint64_t id) {
  id_ = id;
  post([](Http1Connection& c) {
    if constexpr (kIsTls<S>)
      c.handshake();
    else
      c.readHead();
  });
}

template <class S>
void Http1Connection<S>::handshake() {
  if constexpr (kIsTls<S>) {
    phase_ = Phase::kHandshake;
    armTimer(ctx_.options.headerTimeout);
    stream_.async_handshake(
        net::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
          if (self->phase_ == Phase::kClosed) return;
          if (ec) {
            self->ctx_.log->debug("tls handshake from {}: {}", self->remoteAddress_, ec.message());
            return self->closeNow();
          }
          SSL* ssl = self->stream_.native_handle();
          self->peer_ = peerCertificate(ssl);
          if (alpnProtocol(ssl) == "h2" && self->http2_) {
            // The registry entry passes to the HTTP/2 session.
            self->phase_ = Phase::kClosed;
            self->timer_.cancel();
            self->http2_(self->ctx_, self->id_, std::move(self->stream_), self->remoteAddress_,
                         std::move(self->peer_));
            return;
          }
          self->readHead();
        });
  }
}

template <class S>
void Http1Connection<S>::readNext() {
  exchange_.reset();
  request_ = {};
  chunked_ = headRequest_ = false;
  phase_ = Phase::kIdle;
  if (reading_) {
    // The stream's watching read carries on as the wait for the next request.
    armTimer(ctx_.options.idleTimeout);
    return;
  }
  if (buffer_.size() > 0) return readHead();  // pipelined
  armTimer(ctx_.options.idleTimeout);
  startRead();
}

template <class S>
void Http1Connection<S>::startRead() {
  reading_ = true;
  stream_.async_read_some(buffer_.prepare(kReadChunk),
                          [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                            self->onRead(ec, n);
                          });
}

template <class S>
void Http1Connection<S>::onRead(beast::error_code ec, std::size_t n) {
  reading_ = false;
  if (phase_ == Phase::kClosed) return;
  if (ec) return closeNow();  // the client left (a watch's onClose), or lingering ended
  buffer_.commit(n);
  switch (phase_) {
    case Phase::kIdle:
      return readHead();
    case Phase::kLingering:
      buffer_.consume(buffer_.size());
      return startRead();
    case Phase::kStreaming:
    case Phase::kWriting:
      // Whatever the client pipelines waits here, up to a head's worth; then reading pauses.
      if (buffer_.size() < ctx_.options.maxHeaderBytes) startRead();
      return;
    default:
      return;
  }
}

template <class S>
void Http1Connection<S>::readHead() {
  phase_ = Phase::kHead;
  parser_.emplace();
  parser_->header_limit(
      static_cast<std::uint32_t>(std::min<std::size_t>(ctx_.options.maxHeaderBytes, UINT32_MAX)));
  parser_->body_limit(ctx_.options.maxBodyBytes);
  armTimer(ctx_.options.headerTimeout);
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->onHead(ec); });
}

template <class S>
void Http1Connection<S>::onHead(beast::error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec == bhttp::error::header_limit)
    return failRequest(431, "431 Request Header Fields Too Large");
  if (ec == bhttp::error::body_limit) return failRequest(413, "413 Request Entity Too Large");
  if (ec && isParseError(ec)) return failRequest(400, "400 Bad Request");
  if (ec) return closeNow();  // EOF, reset, or the header timeout closed the socket
  auto& req = parser_->get();
  version_ = static_cast<int>(req.version());
  keepAlive_ = req.keep_alive() && !shuttingDown_;
  headRequest_ = req.method() == bhttp::verb::head;
  if (version_ >= 11 && req.find(bhttp::field::host) == req.end())
    return failRequest(400, "400 Bad Request: missing required Host header");
  if (parser_->is_done()) return dispatch();
  auto expect = req[bhttp::field::expect];
  if (Headers::nameEquals(std::string_view(expect.data(), expect.size()), "100-continue")) {
    // curl waits for this before a large body; the body limit was checked against
    // Content-Length already (413 above).
    net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       if (self->phase_ == Phase::kClosed) return;
                       if (ec) return self->closeNow();
                       self->readBody();
                     });
    return;
  }
  readBody();
}

template <class S>
void Http1Connection<S>::readBody() {
  phase_ = Phase::kBody;
  armTimer(ctx_.options.bodyTimeout);
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->onBody(ec); });
}

template <class S>
void Http1Connection<S>::onBody(beast::error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec == bhttp::error::body_limit) return failRequest(413, "413 Request Entity Too Large");
  if (ec && isParseError(ec)) return failRequest(400, "400 Bad Request");
  if (ec) return closeNow();
  dispatch();
}

template <class S>
void Http1Connection<S>::dispatch() {
  timer_.cancel();
  request_ = parser_->release();
  parser_.reset();
  std::string_view target(request_.target().data(), request_.target().size());
  auto parsed = parseTarget(target);
  if (!parsed) return failRequest(400, "400 Bad Request: " + parsed.error().message());
  Request r;
  r.method = std::string(request_.method_string());
  r.target = std::string(target);
  r.path = std::move(parsed->path);
  r.rawQuery = std::move(parsed->rawQuery);
  r.query = parseQuery(r.rawQuery);
  r.headers = requestHeaders();
  r.body = std::move(request_.body());
  r.httpVersion = version_;
  r.tls = kIsTls<S>;
  r.peerCertificate = peer_;
  r.remoteAddress = remoteAddress_;

  phase_ = Phase::kHandling;
  exchange_ = std::make_shared<Exchange>(ctx_.options.maxQueuedStreamBytes);
  std::weak_ptr<ResponseSink> sink = this->shared_from_this();
  auto writer = std::make_shared<ConnectionWriter>(std::move(sink), exchange_);
  Handler& handler = ctx_.handler;
  auto log = ctx_.log;
  ctx_.pool.submit([&handler, log, r = std::move(r), writer = std::move(writer)]() mutable {
    try {
      handler(r, writer);
    } catch (const std::exception& e) {
      // A handler must not throw; the client still gets an answer.
      log->error("http handler for {} {}: {}", r.method, r.target, e.what());
      writer->respond({500, {{"Content-Type", "text/plain; charset=utf-8"}}, "internal error\n"});
      writer->finish();  // a stream it had started ends here
    }
  });
}

template <class S>
Headers Http1Connection<S>::requestHeaders() const {
  Headers h;
  for (const auto& f : request_)
    h.add(std::string(f.name_string()), std::string(f.value()));
  return h;
}

template <class S>
void Http1Connection<S>::failRequest(int status, std::string_view message) {
  phase_ = Phase::kWriting;
  keepAlive_ = false;
  queue(text(status, message, {{"Connection", "close"}}));
  endAfterFlush_ = true;
}

template <class S>
void Http1Connection<S>::sendWhole(Response response) {
  post([response = std::move(response)](Http1Connection& c) mutable {
    c.writeWhole(std::move(response));
  });
}

template <class S>
void Http1Connection<S>::writeWhole(Response r) {
  if (phase_ != Phase::kHandling) return;  // closed, or already answered
  phase_ = Phase::kWriting;
  dropFraming(r.headers);
  if (wantsClose(r.headers)) keepAlive_ = false;
  r.headers.remove("Connection");
  if (!keepAlive_)
    r.headers.add("Connection", "close");
  else if (version_ == 10)
    r.headers.add("Connection", "keep-alive");
  if (!r.headers.has("Date")) r.headers.add("Date", httpDate(std::chrono::system_clock::now()));
  // RFC 9110 6.4.1: 1xx, 204 and 304 have no content; HEAD gets the length without the body.
  bool noContent = r.status < 200 || r.status == 204 || r.status == 304;
  if (!noContent) r.headers.add("Content-Length", std::to_string(r.body.size()));
  std::string bytes = formatHead(version_, r.status, r.headers);
  if (!noContent && !headRequest_) bytes += r.body;
  queue(std::move(bytes));
  endAfterFlush_ = true;
}

template <class S>
void Http1Connection<S>::sendHead(int status, Headers headers) {
  post([status, headers = std::move(headers)](Http1Connection& c) mutable {
    c.writeHead(status, std::move(headers));
  });
}

template <class S>
void Http1Connection<S>::writeHead(int status, Headers h) {
  if (phase_ != Phase::kHandling) return;
  phase_ = Phase::kStreaming;
  dropFraming(h);
  if (wantsClose(h)) keepAlive_ = false;
  h.remove("Connection");
  // HTTP/1.0 has no chunks: the body ends with the connection.
  chunked_ = version_ >= 11 && !headRequest_;
  if (!chunked_) keepAlive_ = false;
  if (chunked_) h.add("Transfer-Encoding", "chunked");
  if (!keepAlive_) h.add("Connection", "close");
  if (!h.has("Date")) h.add("Date", httpDate(std::chrono::system_clock::now()));
  queue(formatHead(version_, status, h));
  if (!reading_) startRead();  // notices the client leaving while the stream is quiet
}

template <class S>
void Http1Connection<S>::sendData(std::string data) {
  post([data = std::move(data)](Http1Connection& c) mutable {
    std::size_t n = data.size();
    if (c.phase_ != Phase::kStreaming || c.endAfterFlush_ || c.headRequest_) {
      if (c.exchange_) c.exchange_->drained(n);
      return;
    }
    c.queue(c.chunked_ ? formatChunk(data) : std::move(data), n);
  });
}

template <class S>
void Http1Connection<S>::sendEnd() {
  post([](Http1Connection& c) {
    if (c.phase_ != Phase::kStreaming) return;
    if (c.chunked_) c.queue(std::string(kLastChunk));
    c.endAfterFlush_ = true;
    if (!c.writing_) c.flush();
  });
}

template <class S>
void Http1Connection<S>::abort() {
  post([](Http1Connection& c) { c.closeNow(); });
}

template <class S>
void Http1Connection<S>::queue(std::string bytes, std::size_t counted) {
  out_.push_back({std::move(bytes), counted});
  if (!writing_) flush();
}

template <class S>
void Http1Connection<S>::flush() {
  if (out_.empty()) {
    if (endAfterFlush_) return exchangeDone();
    if (phase_ == Phase::kStreaming) timer_.cancel();  // a quiet stream has no deadline
    return;
  }
  writing_ = true;
  sending_.assign(std::make_move_iterator(out_.begin()), std::make_move_iterator(out_.end()));
  out_.clear();
  std::vector<net::const_buffer> buffers;
  buffers.reserve(sending_.size());
  for (const auto& p : sending_)
    buffers.emplace_back(p.bytes.data(), p.bytes.size());
  // A client that takes nothing for the idle timeout is gone.
  armTimer(ctx_.options.idleTimeout);
  net::async_write(stream_, buffers,
                   [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                     self->onWritten(ec);
                   });
}

template <class S>
void Http1Connection<S>::onWritten(beast::error_code ec) {
  writing_ = false;
  std::size_t counted = 0;
  for (const auto& p : sending_)
    counted += p.counted;
  sending_.clear();
  if (exchange_ && counted) exchange_->drained(counted);
  if (phase_ == Phase::kClosed) return;
  if (ec) return closeNow();
  flush();
}

template <class S>
void Http1Connection<S>::exchangeDone() {
  endAfterFlush_ = false;
  timer_.cancel();
  if (exchange_) exchange_->completed();
  if (keepAlive_ && !shuttingDown_) return readNext();
  lingerClose();
}

template <class S>
void Http1Connection<S>::lingerClose() {
  phase_ = Phase::kLingering;
  exchange_.reset();
  beast::error_code ignored;
  beast::get_lowest_layer(stream_).shutdown(net::socket_base::shutdown_send, ignored);
  buffer_.consume(buffer_.size());
  armTimer(kLinger);
  if (!reading_) startRead();
}

template <class S>
void Http1Connection<S>::armTimer(std::chrono::milliseconds after) {
  timer_.expires_after(after);
  timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) { self->onTimer(ec); });
}

template <class S>
void Http1Connection<S>::onTimer(beast::error_code ec) {
  if (ec || phase_ == Phase::kClosed) return;
  // A wait that fired just before the timer was set again is stale.
  if (timer_.expiry() > Clock::now()) return;
  if (phase_ == Phase::kUpgraded) {
    auto idle = Clock::now() - lastActivity_;
    if (idle < ctx_.options.upgradedIdleTimeout)
      return armTimer(std::chrono::duration_cast<std::chrono::milliseconds>(
          ctx_.options.upgradedIdleTimeout - idle));
  }
  closeNow();
}

template <class S>
void Http1Connection<S>::closeNow() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  timer_.cancel();
  auto& socket = beast::get_lowest_layer(stream_);
  beast::error_code ignored;
  socket.shutdown(net::socket_base::shutdown_both, ignored);
  socket.close(ignored);
  if (upgradeSlot_) {
    upgradeSlot_ = false;
    ctx_.releaseUpgrade();
  }
  if (auto ex = std::move(exchange_)) ex->connectionClosed();
  ctx_.connections.remove(id_);
}

template <class S>
void Http1Connection<S>::beginShutdown() {
  post([](Http1Connection& c) {
    c.shuttingDown_ = true;
    c.keepAlive_ = false;
    if (c.phase_ == Phase::kHandshake || c.phase_ == Phase::kIdle || c.phase_ == Phase::kHead)
      c.closeNow();
  });
}

template <class S>
void Http1Connection<S>::forceClose() {
  post([](Http1Connection& c) { c.closeNow(); });
}

template <class S>
void Http1Connection<S>::switchProtocols(std::string head,
                                         std::function<void(Result<std::string>)> done) {
  // The caller's slot is ours from here; closeNow() gives it back.
  upgradeSlot_ = true;
  if (phase_ != Phase::kHandling) {
    if (phase_ == Phase::kClosed) {
      upgradeSlot_ = false;
      ctx_.releaseUpgrade();
    }
    return done(fail(Code::kUnavailable, "upgrade: the connection is closed"));
  }
  phase_ = Phase::kUpgrading;
  auto bytes = std::make_shared<std::string>(std::move(head));
  net::async_write(
      stream_, net::buffer(*bytes),
      [self = this->shared_from_this(), bytes, done = std::move(done)](beast::error_code ec,
                                                                       std::size_t) {
        if (self->phase_ == Phase::kClosed || ec) {
          self->closeNow();
          return done(fail(Code::kUnavailable, "upgrade: write 101: {}", ec.message()));
        }
        self->markUpgraded();
        self->armTimer(self->ctx_.options.upgradedIdleTimeout);
        std::string leftover = beast::buffers_to_string(self->buffer_.data());
        self->buffer_.consume(self->buffer_.size());
        done(std::move(leftover));
      });
}

template <class S>
Result<std::unique_ptr<Stream>> Http1Connection<S>::upgrade(Response switching) {
  if (!ctx_.acquireUpgrade()) {
    sendWhole({503,
               {{"Content-Type", "text/plain; charset=utf-8"}, {"Connection", "close"}},
               "too many upgraded connections\n"});
    return fail(Code::kResourceExhausted, "upgrade: {} upgraded connections in use",
                ctx_.options.maxUpgradedConnections);
  }
  dropFraming(switching.headers);
  auto promise = std::make_shared<std::promise<Result<std::string>>>();
  auto future = promise->get_future();
  std::string head = formatHead(11, 101, switching.headers);
  post([head = std::move(head), promise](Http1Connection& c) mutable {
    c.switchProtocols(std::move(head),
                      [promise](Result<std::string> r) { promise->set_value(std::move(r)); });
  });
  std::string leftover = BERTH_TRY(future.get());
  ctx_.pool.detachCurrentThread();
  std::weak_ptr<ByteChannel> channel = this->shared_from_this();
  return std::unique_ptr<Stream>(new UpgradedStream(std::move(channel), std::move(leftover)));
}

template <class S>
Result<std::unique_ptr<WebSocket>> Http1Connection<S>::acceptWebSocket(
    std::span<const std::string> subprotocols, bool allowNone, Headers extraHeaders) {
  // request_ is not touched on the strand while the handler has the request.
  auto agreed = negotiateWebSocket(std::string_view(request_.method_string()), requestHeaders(),
                                   subprotocols, allowNone);
  if (!agreed) {
    Headers h = std::move(agreed.error().headers);
    h.add("Content-Type", "text/plain; charset=utf-8");
    h.add("Connection", "close");
    sendWhole({agreed.error().status, std::move(h), agreed.error().message});
    return fail(Code::kInvalidArgument, agreed.error().message);
  }
  if (!ctx_.acquireUpgrade()) {
    sendWhole({503,
               {{"Content-Type", "text/plain; charset=utf-8"}, {"Connection", "close"}},
               "too many upgraded connections\n"});
    return fail(Code::kResourceExhausted, "websocket: {} upgraded connections in use",
                ctx_.options.maxUpgradedConnections);
  }
  auto promise = std::make_shared<std::promise<Result<std::shared_ptr<WebSocketSession<S>>>>>();
  auto future = promise->get_future();
  post([promise, protocol = *agreed, extra = std::move(extraHeaders)](Http1Connection& c) mutable {
    c.upgradeSlot_ = true;
    if (c.phase_ != Phase::kHandling) {
      if (c.phase_ == Phase::kClosed) {
        c.upgradeSlot_ = false;
        c.ctx_.releaseUpgrade();
      }
      return promise->set_value(fail(Code::kUnavailable, "websocket: the connection is closed"));
    }
    c.phase_ = Phase::kUpgrading;
    std::string leftover = beast::buffers_to_string(c.buffer_.data());
    c.buffer_.consume(c.buffer_.size());
    auto session = WebSocketSession<S>::create(c.shared_from_this(), std::move(leftover));
    c.upgraded_ = session;
    session->accept(c.request_, protocol, std::move(extra), [promise, session](Status s) {
      if (!s) return promise->set_value(std::unexpected(s.error()));
      promise->set_value(session);
    });
  });
  auto session = BERTH_TRY(future.get());
  ctx_.pool.detachCurrentThread();
  return std::unique_ptr<WebSocket>(new WebSocketHandle(session, *agreed));
}

template <class S>
void Http1Connection<S>::markUpgraded() {
  phase_ = Phase::kUpgraded;
  if (exchange_) exchange_->completed();
  activity();
}

template <class S>
void Http1Connection<S>::readSome(std::function<void(Result<std::string>)> done) {
  post([done = std::move(done)](Http1Connection& c) mutable {
    if (c.phase_ != Phase::kUpgraded) return done(fail(Code::kUnavailable, "connection closed"));
    constexpr std::size_t kChunk = 32 * 1024;
    if (!c.rawBuffer_) c.rawBuffer_ = std::make_unique<char[]>(kChunk);
    c.stream_.async_read_some(
        net::buffer(c.rawBuffer_.get(), kChunk),
        [self = c.shared_from_this(), done = std::move(done)](beast::error_code ec, std::size_t n) {
          if (n > 0) {
            self->activity();
            return done(std::string(self->rawBuffer_.get(), n));
          }
          // A TLS peer that closed without close_notify has still ended its stream.
          if (ec == net::error::eof || ec == net::ssl::error::stream_truncated)
            return done(std::string());
          done(fail(Code::kUnavailable, "read: {}", ec.message()));
        });
  });
}

template <class S>
void Http1Connection<S>::writeAll(std::string_view data, std::function<void(Status)> done) {
  post([data, done = std::move(done)](Http1Connection& c) mutable {
    if (c.phase_ != Phase::kUpgraded) return done(fail(Code::kUnavailable, "connection closed"));
    net::async_write(
        c.stream_, net::buffer(data.data(), data.size()),
        [self = c.shared_from_this(), done = std::move(done)](beast::error_code ec, std::size_t) {
          if (ec) return done(fail(Code::kUnavailable, "write: {}", ec.message()));
          self->activity();
          done({});
        });
  });
}

template <class S>
void Http1Connection<S>::shutdownWrite(std::function<void()> done) {
  post([done = std::move(done)](Http1Connection& c) mutable {
    if (c.phase_ != Phase::kUpgraded) return done();
    if constexpr (kIsTls<S>) {
      auto bytes = std::make_shared<std::string>(closeNotify(c.stream_.native_handle()));
      net::async_write(c.stream_.next_layer(), net::buffer(*bytes),
                       [self = c.shared_from_this(), bytes, done = std::move(done)](
                           beast::error_code, std::size_t) { done(); });
    } else {
      beast::error_code ignored;
      c.stream_.shutdown(net::socket_base::shutdown_send, ignored);
      done();
    }
  });
}

template <class S>
void Http1Connection<S>::closeChannel() {
  forceClose();
}

template class Http1Connection<TcpSocket>;
template class Http1Connection<TlsSocket>;

}  // namespace berth::http
