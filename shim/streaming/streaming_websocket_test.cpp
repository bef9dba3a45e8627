// The streaming server's WebSocket protocols end to end on loopback: a WebSocket client of the
// test's own (and Debian's python3-websocket, an independent one) against the same server, tokens
// and test runtime as the SPDY tests.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/spawn.h"
#include "shim/streaming/spdy.h"
#include "shim/streaming/streaming_server.h"
#include "shim/streaming/streaming_test_runtime.h"
#include "shim/streaming/websocket.h"

namespace berth::shim {
namespace {

using streaming_test::readResponseHead;
using streaming_test::readToEnd;
using streaming_test::ShellRuntime;
using streaming_test::StreamingServerFixture;
using streaming_test::unusedLoopbackPort;
using streaming_test::UpperServer;

constexpr std::array<std::uint8_t, 4> kMask = {0x12, 0x34, 0x56, 0x78};
constexpr std::string_view kHandshake =
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

// What a session sent: data per channel, the first message, the close code.
struct Received {
  std::map<int, std::string> channels;
  std::optional<ws::ChannelMessage> first;
  std::uint16_t closeCode = 0;
};

class WsClient {
 public:
  explicit WsClient(const std::string& url) {
    auto portStart = url.find(':', url.find("//")) + 1;
    auto pathStart = url.find('/', portStart);
    path_ = url.substr(pathStart);
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(std::stoi(url.substr(portStart, pathStart))));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }

  // Sends the handshake and returns the response head.
  std::string upgrade(const std::vector<std::string>& protocols,
                      std::string_view headers = kHandshake) {
    std::string req = fmt::format(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n{}",
        path_, headers);
    if (!protocols.empty())
      req += fmt::format("Sec-WebSocket-Protocol: {}\r\n", fmt::join(protocols, ", "));
    req += "\r\n";
    EXPECT_TRUE(writeAll(fd_.get(), req));
    return readResponseHead(fd_.get());
  }
  std::string rest() { return readToEnd(fd_.get()); }

  void sendRaw(std::string_view bytes) { EXPECT_TRUE(writeAll(fd_.get(), bytes)); }
  void send(ws::Opcode op, std::string_view payload) {
    sendRaw(ws::frame(op, payload, true, kMask));
  }
  void sendOn(int channel, std::string_view data, bool base64 = false) {
    auto m = ws::encodeChannel(base64, static_cast<std::uint8_t>(channel), data);
    send(m.opcode, m.payload);
  }

  // The next message, control frames included; nullopt when the server hung up.
  std::optional<ws::Message> next() {
    char buf[4096];
    while (true) {
      auto m = reader_.next();
      if (!m) {
        ADD_FAILURE() << m.error().reason;
        return std::nullopt;
      }
      if (*m) return std::move(**m);
      ssize_t n = ::read(fd_.get(), buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      reader_.feed(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  // Reads channel messages until the server closes; answers its close and checks the socket ends.
  Received collect(bool base64 = false) {
    Received r;
    while (auto m = next()) {
      if (m->opcode == ws::Opcode::kClose) {
        r.closeCode = ws::closeCode(m->payload);
        send(ws::Opcode::kClose, m->payload);
        EXPECT_EQ(rest(), "");  // the server hangs up after the handshake
        return r;
      }
      EXPECT_EQ(m->opcode, base64 ? ws::Opcode::kText : ws::Opcode::kBinary);
      auto c = ws::decodeChannel(base64, m->payload);
      if (!c) {
        ADD_FAILURE() << "bad channel message";
        continue;
      }
      if (!r.first) r.first = *c;
      r.channels[c->channel] += c->data;
    }
    ADD_FAILURE() << "the server hung up without a close frame";
    return r;
  }

 private:
  UniqueFd fd_;
  std::string path_;
  ws::MessageReader reader_{1 << 24, /*peerMasks=*/false};
};

class StreamingWebSocketTest : public StreamingServerFixture {};

TEST_F(StreamingWebSocketTest, ExecV5RelaysOutputAndReportsSuccess) {
  WsClient c(execUrl({"echo out; echo err >&2"}));
  std::string head = c.upgrade({"v5.channel.k8s.io", "v4.channel.k8s.io"});
  EXPECT_EQ(head.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n"), std::string::npos);
  EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);
  auto got = c.collect();
  // wsstream's convention: an empty message on stdout first.
  ASSERT_TRUE(got.first);
  EXPECT_EQ(got.first->channel, 1);
  EXPECT_EQ(got.first->data, "");
  EXPECT_EQ(got.channels[1], "out\n");
  EXPECT_EQ(got.channels[2], "err\n");
  EXPECT_EQ(nlohmann::json::parse(got.channels[3]),
            nlohmann::json::parse(R"({"metadata":{},"status":"Success"})"));
  EXPECT_EQ(got.closeCode, ws::kCloseNormal);
}

TEST_F(StreamingWebSocketTest, V4ReportsTheExitCodeAsAStatus) {
  WsClient c(execUrl({"exit 3"}));
  c.upgrade({"v4.channel.k8s.io"});
  auto status = nlohmann::json::parse(c.collect().channels[3]);
  EXPECT_EQ(status["status"], "Failure");
  EXPECT_EQ(status["reason"], "NonZeroExitCode");
  EXPECT_EQ(status["details"]["causes"][0]["reason"], "ExitCode");
  EXPECT_EQ(status["details"]["causes"][0]["message"], "3");
}

TEST_F(StreamingWebSocketTest, V5CloseSignalEndsStdin) {
  WsClient c(execUrl({"cat; echo done"}, /*stdin=*/true));
  c.upgrade({"v5.channel.k8s.io"});
  c.sendOn(0, "ping\n");
  c.sendOn(0, "pong\n");
  c.send(ws::Opcode::kPing, "hb");
  c.sendRaw(ws::frame(ws::Opcode::kBinary, std::string("\xff\x00", 2), true, kMask));
  // The pong comes back among the channel messages.
  std::map<int, std::string> channels;
  bool pong = false;
  std::uint16_t closeCode = 0;
  while (auto m = c.next()) {
    if (m->opcode == ws::Opcode::kPong) pong = m->payload == "hb";
    if (m->opcode == ws::Opcode::kClose) {
      closeCode = ws::closeCode(m->payload);
      c.send(ws::Opcode::kClose, m->payload);
      break;
    }
    if (m->opcode == ws::Opcode::kBinary && !m->payload.empty())
      channels[static_cast<std::uint8_t>(m->payload[0])] += m->payload.substr(1);
  }
  EXPECT_TRUE(pong);
  EXPECT_EQ(channels[1], "ping\npong\ndone\n");
  EXPECT_EQ(closeCode, ws::kCloseNormal);
}

TEST_F(StreamingWebSocketTest, LargeAndFragmentedStdinMessages) {
  WsClient c(execUrl({"wc -c"}, /*stdin=*/true));
  c.upgrade({"v5.channel.k8s.io"});
  // 100000 bytes in one message (a 64-bit length), then one message in three fragments.
  c.sendOn(0, std::string(100000, 'a'));
  c.sendRaw(ws::frame(ws::Opcode::kBinary, std::string("\0bb", 3), /*fin=*/false, kMask));
  c.sendRaw(ws::frame(ws::Opcode::kContinuation, "cc", false, kMask));
  c.sendRaw(ws::frame(ws::Opcode::kContinuation, "dd", true, kMask));
  c.sendOn(255, std::string(1, '\0'));
  EXPECT_EQ(c.collect().channels[1], "100006\n");
}

TEST_F(StreamingWebSocketTest, TtyResizeOnChannelFour) {
  WsClient c(execUrl({"echo ran"}, /*stdin=*/false, /*tty=*/true));
  c.upgrade({"v5.channel.k8s.io"});
  c.sendOn(4, R"({"Width":100,)");
  c.sendOn(4, R"("Height":30})");
  EXPECT_EQ(c.collect().channels[1], "size 100x30\nran\n");
}

TEST_F(StreamingWebSocketTest, Base64VariantUsesTextMessages) {
  WsClient c(execUrl({"head -c 3; printf '\\377\\000'"}, /*stdin=*/true));
  EXPECT_NE(c.upgrade({"v4.base64.channel.k8s.io"})
                .find("Sec-WebSocket-Protocol: v4.base64.channel.k8s.io"),
            std::string::npos);
  c.sendOn(0, "abc", /*base64=*/true);
  auto got = c.collect(/*base64=*/true);
  EXPECT_EQ(got.channels[1], std::string("abc\xff\0", 5));
  EXPECT_EQ(nlohmann::json::parse(got.channels[3])["status"], "Success");
}

TEST_F(StreamingWebSocketTest, PreV4ProtocolsReportFailuresAsText) {
  for (std::vector<std::string> offer : {std::vector<std::string>{"channel.k8s.io"}, {}}) {
    WsClient c(execUrl({"exit 2"}));
    c.upgrade(offer);
    auto got = c.collect();
    EXPECT_EQ(got.channels[3],
              "command terminated with non-zero exit code: error executing command exit 2, exit "
              "code 2");
  }
  WsClient ok(execUrl({"true"}));
  ok.upgrade({"channel.k8s.io"});
  EXPECT_EQ(ok.collect().channels.count(3), 0u);  // success: nothing on the error channel
}

TEST_F(StreamingWebSocketTest, AttachUsesItsOwnRoute) {
  AttachRequest r;
  r.containerId = "c1";
  r.stderr = false;
  WsClient c(*server_->attachUrl(r));
  c.upgrade({"v5.channel.k8s.io"});
  EXPECT_EQ(c.collect().channels[1], "attached\n");
}

TEST_F(StreamingWebSocketTest, WithoutOutputChannelsTheErrorChannelSignalsReady) {
  ExecRequest r;
  r.containerId = "c1";
  r.cmd = {"cat >/dev/null"};
  r.stdin = true;
  r.stdout = false;
  r.stderr = false;
  WsClient c(*server_->execUrl(r));
  c.upgrade({"v5.channel.k8s.io"});
  c.sendOn(0, "ignored");
  c.sendOn(255, std::string(1, '\0'));
  auto got = c.collect();
  ASSERT_TRUE(got.first);
  EXPECT_EQ(got.first->channel, 3);
  EXPECT_EQ(got.first->data, "");
  EXPECT_EQ(got.channels.count(1), 0u);
  EXPECT_EQ(nlohmann::json::parse(got.channels[3])["status"], "Success");
}

TEST_F(StreamingWebSocketTest, PortForwardRelaysEachPort) {
  UpperServer upper;
  auto url = server_->portForwardUrl({"pod1"});
  ASSERT_TRUE(url);
  WsClient c(*url + fmt::format("?port={}", upper.port()));
  std::string head = c.upgrade({"v4.channel.k8s.io"});
  ASSERT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
  // Each channel starts with the port, 2 bytes little-endian.
  std::string portBytes{static_cast<char>(upper.port() & 0xff),
                        static_cast<char>(upper.port() >> 8)};
  std::map<int, std::string> firsts;
  while (firsts.size() < 2) {
    auto m = c.next();
    ASSERT_TRUE(m);
    firsts[static_cast<std::uint8_t>(m->payload[0])] = m->payload.substr(1);
  }
  EXPECT_EQ(firsts[0], portBytes);
  EXPECT_EQ(firsts[1], portBytes);
  c.sendOn(0, "hello");
  auto reply = c.next();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->payload, std::string("\0HELLO", 6));
  // The client ends the session; the server answers the close and hangs up.
  c.send(ws::Opcode::kClose, ws::closePayload(ws::kCloseNormal));
  auto close = c.next();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->opcode, ws::Opcode::kClose);
  EXPECT_EQ(ws::closeCode(close->payload), ws::kCloseNormal);
  EXPECT_EQ(c.rest(), "");
}

TEST_F(StreamingWebSocketTest, PortForwardReportsAnUnreachablePortThenCloses) {
  int port = unusedLoopbackPort();
  WsClient c(*server_->portForwardUrl({"pod1"}) + fmt::format("?port={}", port));
  c.upgrade({"v4.base64.channel.k8s.io"});
  auto got = c.collect(/*base64=*/true);
  std::string error = got.channels[1].substr(2);
  EXPECT_NE(error.find(fmt::format("error forwarding port {} to pod pod1", port)),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("connection refused"), std::string::npos) << error;
  EXPECT_EQ(got.closeCode, ws::kCloseNormal);
}

TEST_F(StreamingWebSocketTest, PortForwardTunnelsSpdyInBinaryMessages) {
  UpperServer upper;
  WsClient c(*server_->portForwardUrl({"pod1"}));
  std::string head = c.upgrade({"SPDY/3.1+portforward.k8s.io"});
  EXPECT_NE(head.find("Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n"), std::string::npos)
      << head;
  spdy::FrameWriter writer;
  spdy::FrameReader reader;
  std::string port = std::to_string(upper.port());
  // The SPDY byte stream cut anywhere: one frame split over two messages, two in one.
  std::string error =
      writer.synStream(1, {{"port", port}, {"requestid", "0"}, {"streamtype", "error"}});
  c.send(ws::Opcode::kBinary, error.substr(0, 5));
  c.send(ws::Opcode::kBinary,
         error.substr(5) +
             writer.synStream(3, {{"port", port}, {"requestid", "0"}, {"streamtype", "data"}}));
  c.send(ws::Opcode::kBinary, spdy::FrameWriter::data(3, "tunnel"));
  // Frames from the server until the data stream's echo and then its end.
  std::string echoed;
  bool fin = false;
  int replies = 0;
  while (!fin) {
    auto f = reader.next();
    ASSERT_TRUE(f) << f.error().message();
    if (!*f) {
      auto m = c.next();
      ASSERT_TRUE(m);
      ASSERT_EQ(m->opcode, ws::Opcode::kBinary);
      reader.feed(m->payload);
      continue;
    }
    if ((*f)->type == spdy::FrameType::kSynReply) ++replies;
    if ((*f)->type != spdy::FrameType::kData || (*f)->streamId != 3) continue;
    echoed += (*f)->data;
    if (echoed == "TUNNEL" && (*f)->data.size() > 0)
      c.send(ws::Opcode::kBinary, spdy::FrameWriter::data(3, "", spdy::kFlagFin));
    fin = (*f)->fin();
  }
  EXPECT_EQ(echoed, "TUNNEL");
  EXPECT_EQ(replies, 2);
  c.send(ws::Opcode::kClose, ws::closePayload(ws::kCloseNormal));
  std::optional<ws::Message> m;
  while ((m = c.next()) && m->opcode != ws::Opcode::kClose) {
  }
  ASSERT_TRUE(m);
  EXPECT_EQ(ws::closeCode(m->payload), ws::kCloseNormal);
}

TEST_F(StreamingWebSocketTest, PortForwardNeedsValidPortParameters) {
  struct Case {
    std::string query;
    std::string message;
  };
  for (const auto& [query, message] : std::vector<Case>{
           {"", "query parameter \"port\" is required"},
           {"?port=", "query parameter \"port\" cannot be empty"},
           {"?port=80&port=http", "unable to parse \"http\" as a port"},
           {"?port=80%2C0", "port \"80,0\" must be > 0"},
       }) {
    WsClient c(*server_->portForwardUrl({"pod1"}) + query);
    EXPECT_EQ(c.upgrade({"v4.channel.k8s.io"}).rfind("HTTP/1.1 400 Bad Request", 0), 0u) << query;
    EXPECT_NE(c.rest().find(message), std::string::npos) << query;
  }
}

TEST_F(StreamingWebSocketTest, HandshakeFailuresAreHttpErrors) {
  struct Case {
    std::vector<std::string> protocols;
    std::string headers;
    std::string status;
  };
  for (const auto& [protocols, headers, status] : std::vector<Case>{
           {{"v9.channel.k8s.io"}, std::string(kHandshake), "403 Forbidden"},
           {{"v5.channel.k8s.io"}, "Sec-WebSocket-Version: 13\r\n", "400 Bad Request"},
           {{"v5.channel.k8s.io"},
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 7\r\n",
            "426 Upgrade Required"},
       }) {
    WsClient c(execUrl({"true"}));
    std::string head = c.upgrade(protocols, headers);
    EXPECT_EQ(head.rfind("HTTP/1.1 " + status + "\r\n", 0), 0u) << head;
    c.rest();  // the server hangs up
  }
}

TEST_F(StreamingWebSocketTest, ProtocolViolationsCloseWithTheirCode) {
  // An unmasked frame: 1002, and the command still ends (stdin sees EOF).
  {
    WsClient c(execUrl({"cat"}, /*stdin=*/true));
    c.upgrade({"v5.channel.k8s.io"});
    c.sendRaw(ws::frame(ws::Opcode::kBinary, std::string("\0x", 2)));
    auto got = c.collect();
    EXPECT_EQ(got.closeCode, ws::kCloseProtocolError);
  }
  // A frame over the cap: 1009 from its header alone.
  {
    WsClient c(execUrl({"cat"}, /*stdin=*/true));
    c.upgrade({"v5.channel.k8s.io"});
    std::string huge = ws::frame(ws::Opcode::kBinary, std::string(2 << 20, 'x'), true, kMask);
    c.sendRaw(huge.substr(0, 64));
    auto got = c.collect();
    EXPECT_EQ(got.closeCode, ws::kCloseTooBig);
  }
}

// Runs a python3-websocket script with the URL; its stdout is JSON.
std::optional<nlohmann::json> runPython(std::string_view script, const std::string& url) {
  auto run = runProgram({.path = "/usr/bin/python3",
                         .args = {"python3", "-c", std::string(script), "ws" + url.substr(4)},
                         .captureStdout = true,
                         .captureStderr = true,
                         .timeout = std::chrono::seconds(30)});
  if (!run) {
    ADD_FAILURE() << run.error().message();
    return std::nullopt;
  }
  if (!run->status.success()) {
    ADD_FAILURE() << run->stderrData;
    return std::nullopt;
  }
  return nlohmann::json::parse(run->stdoutData, nullptr, false);
}

bool havePythonWebsocket() {
  auto probe = runProgram({.path = "/usr/bin/python3",
                           .args = {"python3", "-c", "import websocket"},
                           .captureStderr = true});
  return probe && probe->status.success();
}

TEST_F(StreamingWebSocketTest, IndependentClientPython3Websocket) {
  if (!havePythonWebsocket())
    GTEST_SKIP() << "python3-websocket is not installed (scripts/deps.sh installs it)";
  // v5 exec: stdin, the CLOSE signal, then messages until the server's close.
  constexpr std::string_view kExec = R"(
import json, sys, websocket
ws = websocket.create_connection(sys.argv[1], subprotocols=["v5.channel.k8s.io"], timeout=20)
assert ws.getsubprotocol() == "v5.channel.k8s.io", ws.getsubprotocol()
ws.send_binary(b"\x00from python\n")
ws.send_binary(b"\xff\x00")
out, status = b"", b""
while True:
    op, data = ws.recv_data(control_frame=True)
    if op == websocket.ABNF.OPCODE_CLOSE:
        code = int.from_bytes(data[:2], "big")
        break
    if op == websocket.ABNF.OPCODE_BINARY and data:
        if data[0] == 1: out += data[1:]
        if data[0] == 3: status += data[1:]
ws.close()
print(json.dumps({"out": out.decode(), "status": json.loads(status), "close": code}))
)";
  auto exec = runPython(kExec, execUrl({"cat; echo done; exit 4"}, /*stdin=*/true));
  ASSERT_TRUE(exec);
  EXPECT_EQ((*exec)["out"], "from python\ndone\n");
  EXPECT_EQ((*exec)["status"]["reason"], "NonZeroExitCode");
  EXPECT_EQ((*exec)["status"]["details"]["causes"][0]["message"], "4");
  EXPECT_EQ((*exec)["close"], 1000);

  // Port-forward: the port prefixes, then data both ways on channel 0.
  constexpr std::string_view kPortForward = R"(
import json, sys, websocket
ws = websocket.create_connection(sys.argv[1], subprotocols=["v4.channel.k8s.io"], timeout=20)
first = [ws.recv() for _ in range(2)]
ws.send_binary(b"\x00hello python")
reply = ws.recv()
ws.close()
print(json.dumps({"first": [m.hex() for m in first], "reply": reply.hex()}))
)";
  UpperServer upper;
  auto url = server_->portForwardUrl({"pod1"});
  ASSERT_TRUE(url);
  auto pf = runPython(kPortForward, *url + fmt::format("?port={}", upper.port()));
  ASSERT_TRUE(pf);
  std::string port = fmt::format("{:02x}{:02x}", upper.port() & 0xff, upper.port() >> 8);
  EXPECT_EQ((*pf)["first"], nlohmann::json({"00" + port, "01" + port}));
  std::string reply = "00";
  for (char c : std::string_view("HELLO PYTHON"))
    reply += fmt::format("{:02x}", c);
  EXPECT_EQ((*pf)["reply"], reply);
}

}  // namespace
}  // namespace berth::shim
