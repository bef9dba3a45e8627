#pragma once
// A borrowed socket whose first reads return bytes already read from it (what the client sent
// past an upgrade request's head), for beast::websocket::stream, which has no other way to be
// given them. Writes go straight to the socket. Teardown after the closing handshake closes at
// once (after a TLS close_notify), as RFC 6455 7.1.1 has the server do: Beast's own waits for
// the client's EOF with no deadline when the client closed first.
#include <string>

#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include "common/http/asio.h"
#include "common/http/tls_context.h"

namespace berth::http {

template <class S>
class PrefixedStream {
 public:
  using executor_type = typename S::executor_type;
  using next_layer_type = S;

  PrefixedStream(S& next, std::string prefix) : next_(&next), prefix_(std::move(prefix)) {}

  executor_type get_executor() noexcept { return next_->get_executor(); }
  S& next_layer() noexcept { return *next_; }
  const S& next_layer() const noexcept { return *next_; }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return net::async_initiate<Token, void(beast::error_code, std::size_t)>(
        [this](auto handler, const Buffers& b) {
          if (prefix_.empty()) return next_->async_read_some(b, std::move(handler));
          std::size_t n = net::buffer_copy(b, net::buffer(prefix_));
          prefix_.erase(0, n);
          auto ex = net::get_associated_executor(handler, get_executor());
          net::post(ex, beast::bind_front_handler(std::move(handler), beast::error_code(), n));
        },
        token, buffers);
  }

  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return next_->async_write_some(buffers, std::forward<Token>(token));
  }

  friend void teardown(beast::role_type role, PrefixedStream& s, beast::error_code& ec) {
    using beast::websocket::teardown;
    teardown(role, *s.next_, ec);
  }

  template <class Handler>
  friend void async_teardown(beast::role_type, PrefixedStream& s, Handler&& handler) {
    auto close = [&s] {
      beast::error_code ignored;
      auto& socket = beast::get_lowest_layer(*s.next_);
      socket.shutdown(net::socket_base::shutdown_both, ignored);
      socket.close(ignored);
    };
    if constexpr (kIsTls<S>) {
      auto bytes = std::make_shared<std::string>(closeNotify(s.next_->native_handle()));
      net::async_write(s.next_->next_layer(), net::buffer(*bytes),
                       [bytes, close, handler = std::forward<Handler>(handler)](
                           beast::error_code, std::size_t) mutable {
                         close();
                         std::move(handler)(beast::error_code());
                       });
    } else {
      close();
      net::post(s.get_executor(),
                beast::bind_front_handler(std::forward<Handler>(handler), beast::error_code()));
    }
  }

 private:
  S* next_;
  std::string prefix_;
};

}  // namespace berth::http
