// acceptWebSocket with Beast's client (an independent implementation of the client side) and
// raw frames for what a well-behaved client never sends: subprotocol negotiation, the refusals'
// statuses, messages both ways, pings, both close handshakes, protocol errors and their codes,
// frames sent before the 101, TLS.
#include <future>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "common/http/server.h"
#include "common/http/test_support.h"

namespace berth::http {
namespace {

using namespace std::chrono_literals;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;
using testing::Certificates;
using testing::RawClient;
using testing::startServer;

const std::vector<std::string> kOurs = {"v5.channel.k8s.io", "v4.channel.k8s.io"};
constexpr std::string_view kKey = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

// What a handler's WebSocket saw.
struct Session {
  std::string subprotocol;
  std::vector<WebSocket::Message> messages;
  std::string end;  // "closed" or the error
  std::string refused;
};

// Echoes every message until the peer closes; "/close" closes from our side after a hello.
Handler echoHandler(std::promise<Session>& done, bool allowNone = false) {
  return [&done, allowNone](Request& r, std::shared_ptr<ResponseWriter> w) {
    Session s;
    auto ws = w->acceptWebSocket(kOurs, allowNone, {{"X-Extra", "yes"}});
    if (!ws) {
      s.refused = ws.error().message();
      return done.set_value(s);
    }
    s.subprotocol = (*ws)->subprotocol();
    if (r.path == "/close") {
      (void)(*ws)->write("hello", false);
      (*ws)->close(4000, "done here");
    }
    while (true) {
      auto m = (*ws)->read();
      if (!m) {
        s.end = m.error().message();
        break;
      }
      if (!*m) {
        s.end = "closed";
        break;
      }
      s.messages.push_back(**m);
      if (r.path != "/close" && !(*ws)->write((*m)->data, (*m)->binary)) break;
    }
    done.set_value(s);
  };
}

// A frame as a client sends it: masked (or not, to break the protocol).
std::string frame(int opcode, std::string_view payload, bool masked = true) {
  std::string out(1, static_cast<char>(0x80 | opcode));
  char maskBit = masked ? static_cast<char>(0x80) : 0;
  std::uint64_t n = payload.size();
  if (n < 126) {
    out += static_cast<char>(maskBit | static_cast<char>(n));
  } else if (n <= 0xffff) {
    out += static_cast<char>(maskBit | 126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  } else {
    out += static_cast<char>(maskBit | 127);
    for (int shift = 56; shift >= 0; shift -= 8)
      out += static_cast<char>((n >> shift) & 0xff);
  }
  if (!masked) return out + std::string(payload);
  const char key[4] = {0x11, 0x22, 0x33, 0x44};
  out.append(key, 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out += static_cast<char>(payload[i] ^ key[i % 4]);
  return out;
}

// The close code in the first close frame among the server's bytes after its 101.
int closeCodeIn(std::string_view bytes) {
  while (bytes.size() >= 2) {
    int opcode = bytes[0] & 0x0f;
    std::size_t n = static_cast<std::uint8_t>(bytes[1]) & 0x7f;
    if (n >= 126) return -1;  // not expected for control frames
    if (opcode == 8)
      return n >= 2
                 ? (static_cast<std::uint8_t>(bytes[2]) << 8 | static_cast<std::uint8_t>(bytes[3]))
                 : 1005;
    bytes.remove_prefix(std::min(bytes.size(), 2 + n));
  }
  return -1;
}

std::string upgradeRequest(std::string_view path, std::string_view extra) {
  return fmt::format(
      "GET {} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n{}\r\n", path,
      extra);
}

TEST(HttpWebSocket, EchoesAndAgreesOnTheClientsFirstSupportedSubprotocol) {
  std::promise<Session> done;
  auto server = startServer(echoHandler(done));
  net::io_context ioc;
  websocket::stream<tcp::socket> ws(ioc);
  ws.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server->port()));
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(beast::http::field::sec_websocket_protocol,
            "v9.channel.k8s.io, v4.channel.k8s.io, v5.channel.k8s.io");
  }));
  websocket::response_type response;
  ws.handshake(response, "127.0.0.1", "/exec");
  EXPECT_EQ(response[beast::http::field::sec_websocket_protocol], "v4.channel.k8s.io");
  EXPECT_EQ(response["X-Extra"], "yes");
  bool pong = false;
  ws.control_callback([&](websocket::frame_type kind, beast::string_view payload) {
    if (kind == websocket::frame_type::pong && payload == "hb") pong = true;
  });
  ws.ping("hb");
  beast::flat_buffer buffer;
  ws.text(true);
  ws.write(net::buffer(std::string("text message")));
  ws.read(buffer);
  EXPECT_TRUE(ws.got_text());
  EXPECT_EQ(beast::buffers_to_string(buffer.data()), "text message");
  buffer.clear();
  std::string big(300000, 'b');
  ws.binary(true);
  ws.write(net::buffer(big));
  ws.read(buffer);
  EXPECT_TRUE(ws.got_binary());
  EXPECT_EQ(buffer.size(), big.size());
  EXPECT_TRUE(pong);
  beast::error_code ec;
  ws.close(websocket::close_code::normal, ec);
  Session s = done.get_future().get();
  EXPECT_EQ(s.subprotocol, "v4.channel.k8s.io");
  ASSERT_EQ(s.messages.size(), 2u);
  EXPECT_FALSE(s.messages[0].binary);
  EXPECT_TRUE(s.messages[1].binary);
  EXPECT_EQ(s.end, "closed");
}

TEST(HttpWebSocket, NoSubprotocolOfferedIsAcceptedOnlyWhenAllowed) {
  std::promise<Session> allowed;
  auto server = startServer(echoHandler(allowed, /*allowNone=*/true));
  RawClient c(server->port());
  ASSERT_TRUE(c.send(upgradeRequest("/", std::string(kKey) + "Sec-WebSocket-Version: 13\r\n")));
  std::string head = c.readUntil("\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 101 ")) << head;
  EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos)
      << head;
  EXPECT_EQ(head.find("Sec-WebSocket-Protocol"), std::string::npos) << head;
  ASSERT_TRUE(c.send(frame(8, std::string("\x03\xe8", 2))));
  EXPECT_EQ(allowed.get_future().get().end, "closed");

  std::promise<Session> refused;
  auto strict = startServer(echoHandler(refused, /*allowNone=*/false));
  RawClient d(strict->port());
  ASSERT_TRUE(d.send(upgradeRequest("/", std::string(kKey) + "Sec-WebSocket-Version: 13\r\n")));
  auto out = d.readToEnd();
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->starts_with("HTTP/1.1 403 ")) << *out;
  EXPECT_NE(refused.get_future().get().refused.find("not supported: []"), std::string::npos);
}

TEST(HttpWebSocket, RefusedHandshakesGetTheirStatusAndClose) {
  struct Case {
    std::string request;
    std::string status;
    std::string message;
  };
  const std::string v13 = "Sec-WebSocket-Version: 13\r\n";
  const std::string v5 = "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n";
  const Case kCases[] = {
      {"POST / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
           std::string(kKey) + v13 + v5 + "\r\n",
       "405", "method POST is not GET"},
      {upgradeRequest("/", v13 + v5), "400", "Sec-WebSocket-Key \"\""},
      {upgradeRequest("/", "Sec-WebSocket-Key: c2hvcnQ=\r\n" + v13 + v5), "400", "not 16 bytes"},
      {upgradeRequest("/", std::string(kKey) + "Sec-WebSocket-Version: 8\r\n" + v5), "426",
       "Sec-WebSocket-Version \"8\", want 13"},
      {"GET / HTTP/1.1\r\nHost: x\r\n" + std::string(kKey) + v13 + v5 + "\r\n", "400",
       "missing upgrade headers"},
      {upgradeRequest("/",
                      std::string(kKey) + v13 + "Sec-WebSocket-Protocol: v9.channel.k8s.io\r\n"),
       "403", "[v9.channel.k8s.io]"},
  };
  for (const auto& c : kCases) {
    std::promise<Session> done;
    auto server = startServer(echoHandler(done));
    RawClient raw(server->port());
    ASSERT_TRUE(raw.send(c.request));
    auto out = raw.readToEnd();
    ASSERT_TRUE(out) << c.request;
    EXPECT_TRUE(out->starts_with("HTTP/1.1 " + c.status + " ")) << c.request << *out;
    EXPECT_NE(out->find(c.message), std::string::npos) << *out;
    if (c.status == "426") {
      EXPECT_NE(out->find("Sec-WebSocket-Version: 13\r\n"), std::string::npos) << *out;
    }
    EXPECT_NE(done.get_future().get().refused.find(c.message), std::string::npos) << c.message;
  }
}

TEST(HttpWebSocket, TheServerClosesWithItsCodeAfterItsLastMessage) {
  std::promise<Session> done;
  auto server = startServer(echoHandler(done));
  net::io_context ioc;
  websocket::stream<tcp::socket> ws(ioc);
  ws.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server->port()));
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(beast::http::field::sec_websocket_protocol, "v5.channel.k8s.io");
  }));
  ws.handshake("127.0.0.1", "/close");
  beast::flat_buffer buffer;
  ws.read(buffer);
  EXPECT_EQ(beast::buffers_to_string(buffer.data()), "hello");
  beast::error_code ec;
  ws.read(buffer, ec);
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(ws.reason().code, 4000);
  EXPECT_EQ(std::string(ws.reason().reason.data(), ws.reason().reason.size()), "done here");
  EXPECT_EQ(done.get_future().get().end, "closed");
}

TEST(HttpWebSocket, ProtocolErrorsCloseWithTheirCode) {
  ServerOptions o;
  o.maxWebSocketMessageBytes = 1000;
  struct Case {
    std::string name;
    std::string bytes;
    int code;
  };
  const Case kCases[] = {
      {"unmasked", frame(2, "x", /*masked=*/false), 1002},
      {"over the size limit, from its header", frame(2, std::string(2000, 'z')).substr(0, 8), 1009},
      {"text that is not UTF-8", frame(1, "ok \xc0\xaf"), 1007},
      {"unknown opcode", frame(3, "x"), 1002},
  };
  for (const auto& c : kCases) {
    std::promise<Session> done;
    auto server = startServer(echoHandler(done), o);
    RawClient raw(server->port());
    ASSERT_TRUE(raw.send(upgradeRequest("/", std::string(kKey) +
                                                 "Sec-WebSocket-Version: 13\r\n"
                                                 "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n")));
    ASSERT_NE(raw.readUntil("\r\n\r\n").find("101"), std::string::npos);
    ASSERT_TRUE(raw.send(c.bytes));
    auto out = raw.readToEnd();
    ASSERT_TRUE(out) << c.name;
    EXPECT_EQ(closeCodeIn(*out), c.code) << c.name;
    Session s = done.get_future().get();
    EXPECT_NE(s.end, "closed") << c.name;  // an error, not a clean close
  }
}

TEST(HttpWebSocket, FramesSentWithTheHandshakeAreNotLost) {
  std::promise<Session> done;
  auto server = startServer(echoHandler(done));
  RawClient raw(server->port());
  ASSERT_TRUE(raw.send(upgradeRequest("/", std::string(kKey) +
                                               "Sec-WebSocket-Version: 13\r\n"
                                               "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n") +
                       frame(2, "early") + frame(8, std::string("\x03\xe8", 2))));
  Session s = done.get_future().get();
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0].data, "early");
  EXPECT_EQ(s.end, "closed");
}

TEST(HttpWebSocket, OverTls) {
  Certificates certs;
  auto made = certs.make();
  if (!made) GTEST_SKIP() << "openssl could not make test certificates: " << made.error().message();
  ServerOptions o;
  o.tls = TlsServerConfig{certs.p("server.pem"), certs.p("server.key"), ""};
  std::promise<Session> done;
  auto server = startServer(echoHandler(done), o);
  net::io_context ioc;
  net::ssl::context ctx(net::ssl::context::tls_client);
  ctx.load_verify_file(certs.caFile());
  ctx.set_verify_mode(net::ssl::verify_peer);
  websocket::stream<net::ssl::stream<tcp::socket>> ws(ioc, ctx);
  beast::get_lowest_layer(ws).connect(
      tcp::endpoint(net::ip::make_address("127.0.0.1"), server->port()));
  ws.next_layer().handshake(net::ssl::stream_base::client);
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(beast::http::field::sec_websocket_protocol, "v5.channel.k8s.io");
  }));
  ws.handshake("127.0.0.1", "/");
  ws.write(net::buffer(std::string("secure")));
  beast::flat_buffer buffer;
  ws.read(buffer);
  EXPECT_EQ(beast::buffers_to_string(buffer.data()), "secure");
  beast::error_code ec;
  ws.close(websocket::close_code::normal, ec);  // the server may have closed TCP already
  Session s = done.get_future().get();
  EXPECT_EQ(s.subprotocol, "v5.channel.k8s.io");
  EXPECT_EQ(s.end, "closed");
}

}  // namespace
}  // namespace berth::http
