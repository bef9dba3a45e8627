// The RFC 6455 codec and handshake on their own: frames in every length encoding, masking,
// fragmentation, control frames, the size cap, and the handshake's answers to bad requests.
#include "shim/streaming/websocket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/unique_fd.h"

namespace berth::shim::ws {
namespace {

constexpr std::array<std::uint8_t, 4> kMask = {0x37, 0xfa, 0x21, 0x3d};

std::expected<std::optional<Message>, Violation> readOne(std::string_view bytes,
                                                         std::size_t max = 1 << 20) {
  MessageReader r(max, /*peerMasks=*/true);
  r.feed(bytes);
  return r.next();
}

TEST(WebSocketFrame, Rfc6455Examples) {
  // RFC 6455 5.7: a single-frame masked text message "Hello".
  std::string masked("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  EXPECT_EQ(frame(Opcode::kText, "Hello", true, kMask), masked);
  auto m = readOne(masked);
  ASSERT_TRUE(m && *m);
  EXPECT_EQ((*m)->opcode, Opcode::kText);
  EXPECT_EQ((*m)->payload, "Hello");
  // The server's unmasked frame, and an unmasked ping.
  EXPECT_EQ(frame(Opcode::kText, "Hello"), std::string("\x81\x05Hello"));
  EXPECT_EQ(frame(Opcode::kPing, "Hello"), std::string("\x89\x05Hello"));
}

TEST(WebSocketFrame, LengthEncodings) {
  for (std::size_t n : {0u, 125u, 126u, 65535u, 65536u, 200000u}) {
    std::string payload(n, 'x');
    std::string f = frame(Opcode::kBinary, payload, true, kMask);
    std::size_t header = n < 126 ? 2 : n <= 65535 ? 4 : 10;
    EXPECT_EQ(f.size(), header + 4 + n) << n;
    // The reader waits for the whole frame.
    MessageReader whole(1 << 20, true);
    whole.feed(f.substr(0, f.size() - 1));
    auto partial = whole.next();
    ASSERT_TRUE(partial);
    EXPECT_FALSE(*partial) << n;
    whole.feed(f.substr(f.size() - 1));
    auto m = whole.next();
    ASSERT_TRUE(m && *m) << n;
    EXPECT_EQ((*m)->payload.size(), n);
  }
  // The server's 64-bit length: 127 then 8 bytes big-endian.
  std::string big = frame(Opcode::kBinary, std::string(70000, 'y'));
  EXPECT_EQ(static_cast<std::uint8_t>(big[1]), 127);
  EXPECT_EQ(big.substr(2, 8), std::string("\0\0\0\0\0\x01\x11\x70", 8));
}

TEST(WebSocketFrame, FragmentsJoinAndControlFramesInterleave) {
  MessageReader r(1 << 20, true);
  r.feed(frame(Opcode::kBinary, "ab", /*fin=*/false, kMask));
  r.feed(frame(Opcode::kPing, "p", true, kMask));
  r.feed(frame(Opcode::kContinuation, "cd", false, kMask));
  r.feed(frame(Opcode::kContinuation, "ef", true, kMask));
  auto ping = r.next();
  ASSERT_TRUE(ping && *ping);
  EXPECT_EQ((*ping)->opcode, Opcode::kPing);
  auto m = r.next();
  ASSERT_TRUE(m && *m);
  EXPECT_EQ((*m)->opcode, Opcode::kBinary);
  EXPECT_EQ((*m)->payload, "abcdef");
  auto none = r.next();
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST(WebSocketFrame, ViolationsCarryTheirCloseCode) {
  struct Case {
    std::string name;
    std::string bytes;
    std::uint16_t code;
    std::string reason;
  };
  std::string tooLong = frame(Opcode::kBinary, std::string(2000, 'z'), true, kMask);
  const Case kCases[] = {
      {"unmasked", frame(Opcode::kBinary, "x"), kCloseProtocolError, "unmasked"},
      {"reserved bits", std::string("\xc2\x80\0\0\0\0", 6), kCloseProtocolError, "reserved"},
      {"unknown opcode", frame(static_cast<Opcode>(3), "x", true, kMask), kCloseProtocolError,
       "opcode"},
      {"fragmented ping", frame(Opcode::kPing, "x", false, kMask), kCloseProtocolError,
       "fragmented control"},
      {"long ping", frame(Opcode::kPing, std::string(126, 'x'), true, kMask), kCloseProtocolError,
       "125"},
      {"lone continuation", frame(Opcode::kContinuation, "x", true, kMask), kCloseProtocolError,
       "continuation"},
      {"interrupted message",
       frame(Opcode::kText, "a", false, kMask) + frame(Opcode::kText, "b", true, kMask),
       kCloseProtocolError, "new message"},
      {"oversize", tooLong.substr(0, 8), kCloseTooBig, "over 1000 bytes"},
      {"oversize in fragments",
       frame(Opcode::kBinary, std::string(600, 'a'), false, kMask) +
           frame(Opcode::kContinuation, std::string(600, 'a'), true, kMask),
       kCloseTooBig, "over 1000"},
      {"one-byte close", frame(Opcode::kClose, "x", true, kMask), kCloseProtocolError, "one byte"},
      {"reserved close code", frame(Opcode::kClose, closePayload(1005), true, kMask),
       kCloseProtocolError, "1005"},
      {"text not UTF-8", frame(Opcode::kText, "ok \xc0\xaf", true, kMask), kCloseInvalidPayload,
       "not UTF-8"},
      {"surrogate in text", frame(Opcode::kText, "\xed\xa0\x80", true, kMask), kCloseInvalidPayload,
       "not UTF-8"},
      {"truncated sequence", frame(Opcode::kText, "\xe2\x82", true, kMask), kCloseInvalidPayload,
       "not UTF-8"},
      {"close reason not UTF-8", frame(Opcode::kClose, closePayload(1000, "\xff"), true, kMask),
       kCloseInvalidPayload, "reason"},
      {"top length bit", std::string("\x82\xff\x80\0\0\0\0\0\0\0", 10), kCloseProtocolError,
       "top bit"},
  };
  for (const auto& c : kCases) {
    MessageReader r(1000, true);
    r.feed(c.bytes);
    auto m = r.next();
    while (m && *m)
      m = r.next();
    ASSERT_FALSE(m) << c.name;
    EXPECT_EQ(m.error().code, c.code) << c.name;
    EXPECT_NE(m.error().reason.find(c.reason), std::string::npos)
        << c.name << ": " << m.error().reason;
  }
  // A client reads unmasked frames and refuses masked ones.
  MessageReader client(1000, /*peerMasks=*/false);
  client.feed(frame(Opcode::kBinary, "x", true, kMask));
  EXPECT_FALSE(client.next());
}

TEST(WebSocketFrame, TextMayHoldAnyUtf8) {
  // Two-, three- and four-byte sequences, one of them split across fragments.
  std::string text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
  MessageReader r(1000, true);
  r.feed(frame(Opcode::kText, text.substr(0, 5), false, kMask));
  r.feed(frame(Opcode::kContinuation, text.substr(5), true, kMask));
  auto m = r.next();
  ASSERT_TRUE(m && *m) << (m ? "" : m.error().reason);
  EXPECT_EQ((*m)->payload, text);
}

TEST(WebSocketFrame, ClosePayloads) {
  EXPECT_EQ(closePayload(1000), std::string("\x03\xe8", 2));
  EXPECT_EQ(closeCode(closePayload(1009, "too big")), 1009);
  EXPECT_EQ(closeCode(""), kCloseNoStatus);
  EXPECT_EQ(closePayload(1000, std::string(200, 'r')).size(), 125u);
}

TEST(WebSocketChannels, BinaryAndBase64Framing) {
  Message raw = encodeChannel(false, 1, "out");
  EXPECT_EQ(raw.opcode, Opcode::kBinary);
  EXPECT_EQ(raw.payload, std::string("\x01out", 4));
  // wsstream's example: "foo\n" on channel 0 in base64.
  Message text = encodeChannel(true, 0, "foo\n");
  EXPECT_EQ(text.opcode, Opcode::kText);
  EXPECT_EQ(text.payload, "0Zm9vCg==");
  auto decoded = decodeChannel(true, "1Cg==");
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->channel, 1);
  EXPECT_EQ(decoded->data, "\n");
  auto close = decodeChannel(false, std::string("\xff\x00", 2));
  ASSERT_TRUE(close);
  EXPECT_EQ(close->channel, 255);
  EXPECT_EQ(close->data, std::string(1, '\0'));
  EXPECT_FALSE(decodeChannel(true, "0not base64!"));
  EXPECT_FALSE(decodeChannel(false, ""));
  EXPECT_TRUE(isBase64Protocol("v4.base64.channel.k8s.io"));
  EXPECT_FALSE(isBase64Protocol("v5.channel.k8s.io"));
}

TEST(WebSocketHandshake, AcceptKeyFromTheRfc) {
  // RFC 6455 1.3.
  EXPECT_EQ(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

// Runs acceptUpgrade on one end of a socketpair and returns what the other end got.
std::pair<Result<std::string>, std::string> handshake(std::string_view head) {
  int sv[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd server(sv[0]), client(sv[1]);
  auto request = parseHttpRequest(head);
  EXPECT_TRUE(request) << request.error().message();
  constexpr std::array<std::string_view, 3> kSupported = {"v5.channel.k8s.io", "v4.channel.k8s.io",
                                                          ""};
  auto result = acceptUpgrade(server.get(), *request, kSupported);
  server.reset();
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(client.get(), buf, sizeof buf)) > 0)
    out.append(buf, static_cast<std::size_t>(n));
  return {std::move(result), out};
}

std::string request(std::string_view extra, std::string_view method = "GET") {
  return fmt::format(
      "{} /exec/t HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: keep-alive, Upgrade\r\n{}\r\n",
      method, extra);
}

constexpr std::string_view kKey = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
constexpr std::string_view kVersion = "Sec-WebSocket-Version: 13\r\n";

TEST(WebSocketHandshake, NegotiatesTheClientsFirstSupportedProtocol) {
  auto [result, out] = handshake(
      request(fmt::format("{}{}Sec-WebSocket-Protocol: v9.channel.k8s.io, v4.channel.k8s.io\r\n"
                          "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n",
                          kKey, kVersion)));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(*result, "v4.channel.k8s.io");
  EXPECT_EQ(out.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);
  EXPECT_NE(out.find("Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n"), std::string::npos);
  // No protocol offered: "" if supported, and no Sec-WebSocket-Protocol in the answer.
  auto [none, noneOut] = handshake(request(fmt::format("{}{}", kKey, kVersion)));
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, "");
  EXPECT_EQ(noneOut.find("Sec-WebSocket-Protocol"), std::string::npos);
}

TEST(WebSocketHandshake, BadRequestsGetTheirHttpStatus) {
  struct Case {
    std::string name;
    std::string head;
    std::string status;
    std::string message;
  };
  const Case kCases[] = {
      {"no key", request(kVersion), "400 Bad Request", "Sec-WebSocket-Key"},
      {"short key", request(fmt::format("Sec-WebSocket-Key: c2hvcnQ=\r\n{}", kVersion)),
       "400 Bad Request", "not 16 bytes"},
      {"version 8", request(fmt::format("{}Sec-WebSocket-Version: 8\r\n", kKey)),
       "426 Upgrade Required", "Sec-WebSocket-Version \"8\""},
      {"no version", request(kKey), "426 Upgrade Required", "want 13"},
      {"unknown protocol",
       request(fmt::format("{}{}Sec-WebSocket-Protocol: v9.channel.k8s.io\r\n", kKey, kVersion)),
       "403 Forbidden", "v9.channel.k8s.io"},
      {"post", request(fmt::format("{}{}", kKey, kVersion), "POST"), "405 Method Not Allowed",
       "POST"},
  };
  for (const auto& c : kCases) {
    auto [result, out] = handshake(c.head);
    ASSERT_FALSE(result) << c.name;
    EXPECT_EQ(out.rfind("HTTP/1.1 " + c.status + "\r\n", 0), 0u) << c.name << ": " << out;
    EXPECT_NE(out.find(c.message), std::string::npos) << c.name << ": " << out;
    EXPECT_NE(result.error().message().find(c.message), std::string::npos) << c.name;
  }
  auto [result, out] = handshake(request(kKey));
  EXPECT_NE(out.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace berth::shim::ws
