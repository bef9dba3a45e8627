#pragma once
// The Boost.Asio/Beast names the server's sources share (internal to common/http).
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace berth::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

// Sockets run on a strand of their own (their executor), so a connection needs no locks.
using TcpSocket = net::ip::tcp::socket;
using TlsSocket = net::ssl::stream<TcpSocket>;

template <class S>
inline constexpr bool kIsTls = std::is_same_v<S, TlsSocket>;

}  // namespace berth::http
