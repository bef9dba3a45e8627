// Server: the listener, the I/O threads and shutdown. Connections live in http1_connection.cpp
// (and http2_session.cpp); what they share is the ServerContext.
#include "common/http/server.h"

#include <pthread.h>

#include <thread>

#include "common/http/asio.h"
#include "common/http/http1_connection.h"
#include "common/http/server_context.h"
#include "common/http/tls_context.h"

namespace berth::http {
namespace {

using Clock = std::chrono::steady_clock;
using net::ip::tcp;

std::string formatEndpoint(const tcp::endpoint& e) {
  auto address = e.address();
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), e.port());
  return fmt::format("{}:{}", address.to_string(), e.port());
}

std::shared_ptr<spdlog::logger> httpLogger() {
  auto log = spdlog::get("http");
  return log ? log : spdlog::default_logger();
}

class ServerImpl final : public Server {
 public:
  ServerImpl(ServerOptions options, Handler handler)
      : ctx_(std::move(options), std::move(handler)), acceptor_(ioc_), backoff_(ioc_) {
    ctx_.log = httpLogger();
  }
  ~ServerImpl() override { shutdown(std::chrono::milliseconds(0)); }

  Status listen();
  void run();
  std::uint16_t port() const override { return port_; }
  void shutdown(std::chrono::milliseconds grace) override;

 private:
  void accept();
  void onAccept(beast::error_code ec, tcp::socket socket);
  template <class Conn>
  void adopt(std::shared_ptr<Conn> connection);

  // Declared first: they outlive the io_context, whose destruction frees the last connections.
  ServerContext ctx_;
  std::unique_ptr<net::ssl::context> tls_;
  net::io_context ioc_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;
  net::steady_timer backoff_;  // after accept fails for want of descriptors
  std::chrono::milliseconds backoffDelay_{5};
  std::vector<std::thread> ioThreads_;
  std::uint16_t port_ = 0;
  std::mutex shutdownMu_;
  bool shutDown_ = false;
};

Status ServerImpl::listen() {
  const ServerOptions& o = ctx_.options;
  beast::error_code ec;
  auto address = net::ip::make_address(o.bindAddress, ec);
  if (ec)
    return fail(Code::kInvalidArgument, "bind address \"{}\": {}", o.bindAddress, ec.message());
  if (o.tls) tls_ = BERTH_TRY(makeTlsContext(*o.tls, /*offerHttp2=*/false));
  tcp::endpoint endpoint(address, o.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return std::unexpected(
        errnoError(ec.value(), fmt::format("listen on {}", formatEndpoint(endpoint))));
  port_ = acceptor_.local_endpoint().port();
  return {};
}

void ServerImpl::run() {
  work_.emplace(ioc_.get_executor());
  accept();
  for (std::size_t i = 0; i < std::max<std::size_t>(ctx_.options.ioThreads, 1); ++i)
    ioThreads_.emplace_back([this] {
      ::pthread_setname_np(::pthread_self(), "http-io");
      ioc_.run();
    });
}

void ServerImpl::accept() {
  // Each socket gets a strand of its own: its handlers never run concurrently.
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
    onAccept(ec, std::move(s));
  });
}

void ServerImpl::onAccept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // EMFILE and the like: retrying at once would spin; back off as Go's server does.
    ctx_.log->warn("http accept: {}; retrying in {} ms", ec.message(), backoffDelay_.count());
    backoff_.expires_after(backoffDelay_);
    backoffDelay_ = std::min(backoffDelay_ * 2, std::chrono::milliseconds(1000));
    backoff_.async_wait([this](beast::error_code e) {
      if (!e) accept();
    });
    return;
  }
  backoffDelay_ = std::chrono::milliseconds(5);
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto remote = socket.remote_endpoint(ignored);
  std::string remoteAddress = formatEndpoint(remote);
  if (tls_)
    adopt(std::make_shared<Http1Connection<TlsSocket>>(ctx_, TlsSocket(std::move(socket), *tls_),
                                                       std::move(remoteAddress)));
  else
    adopt(std::make_shared<Http1Connection<TcpSocket>>(ctx_, std::move(socket),
                                                       std::move(remoteAddress)));
  accept();
}

template <class Conn>
void ServerImpl::adopt(std::shared_ptr<Conn> connection) {
  // Over maxConnections (or shutting down) the connection is dropped at once: it closes as
  // `connection` goes.
  std::uint64_t id = ctx_.connections.add(connection);
  if (id == 0) {
    ctx_.log->debug("http: refusing a connection: {} open", ctx_.connections.size());
    return;
  }
  connection->start(id);
}

void ServerImpl::shutdown(std::chrono::milliseconds grace) {
  std::lock_guard lock(shutdownMu_);
  if (shutDown_) return;
  shutDown_ = true;
  auto deadline = Clock::now() + grace;
  ctx_.connections.stopAdding();
  net::post(ioc_, [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
    backoff_.cancel();
  });
  for (auto& c : ctx_.connections.snapshot())
    c->beginShutdown();
  if (!ctx_.connections.waitEmpty(deadline)) {
    for (auto& c : ctx_.connections.snapshot())
      c->forceClose();
    // Closing is quick on the I/O threads; the bound only guards against a stuck one.
    ctx_.connections.waitEmpty(Clock::now() + std::chrono::seconds(10));
  }
  // Handlers (and upgraded connections' threads) end while the I/O threads still complete
  // their operations.
  ctx_.pool.stop();
  work_.reset();
  ioc_.stop();
  for (auto& t : ioThreads_)
    t.join();
  ioThreads_.clear();
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(ServerOptions options, Handler handler) {
  if (!handler) return fail(Code::kInvalidArgument, "http server: no handler");
  std::unique_ptr<ServerImpl> server;
  try {
    server = std::make_unique<ServerImpl>(std::move(options), std::move(handler));
  } catch (const std::exception& e) {
    return fail(Code::kInternal, "http server: {}", e.what());
  }
  BERTH_TRY(server->listen());
  server->run();
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace berth::http
