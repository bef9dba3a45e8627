// The streaming server end to end on loopback: a SPDY client of the test's own speaks Kubernetes'
// remote command protocol to it, and a runtime of the test's own runs /bin/sh with the streams.
#include "shim/streaming/streaming_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "shim/streaming/spdy.h"
#include "shim/streaming/streaming_test_runtime.h"

namespace berth::shim {
namespace {

using spdy::Frame;
using spdy::FrameReader;
using spdy::FrameWriter;
using streaming_test::readResponseHead;
using streaming_test::readToEnd;
using streaming_test::ShellRuntime;
using streaming_test::StreamingServerFixture;
using streaming_test::unusedLoopbackPort;
using streaming_test::UpperServer;

// A remote command client: the upgrade, one SYN_STREAM per channel, then frames.
class Client {
 public:
  explicit Client(const std::string& url) {
    // http://127.0.0.1:<port>/<path>
    auto hostStart = url.find("//") + 2;
    auto portStart = url.find(':', hostStart) + 1;
    auto pathStart = url.find('/', portStart);
    port_ = std::stoi(url.substr(portStart, pathStart - portStart));
    path_ = url.substr(pathStart);
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }

  // Sends the upgrade request and returns the response head.
  std::string upgrade(const std::vector<std::string>& protocols,
                      const std::string& upgradeHeader = "SPDY/3.1") {
    std::string req = fmt::format("POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\n", path_);
    if (!upgradeHeader.empty())
      req += fmt::format("Connection: Upgrade\r\nUpgrade: {}\r\n", upgradeHeader);
    for (const auto& p : protocols)
      req += "X-Stream-Protocol-Version: " + p + "\r\n";
    req += "\r\n";
    EXPECT_TRUE(writeAll(fd_.get(), req));
    return readResponseHead(fd_.get());
  }
  std::string rest() { return readToEnd(fd_.get()); }

  std::uint32_t open(const std::string& type, spdy::Headers extra = {}) {
    std::uint32_t id = nextId_;
    nextId_ += 2;
    extra.emplace_back("streamtype", type);
    EXPECT_TRUE(writeAll(fd_.get(), writer_.synStream(id, extra)));
    streams_[id] = type;
    return id;
  }
  // Reads frames until `until` returns true for one; returns that frame.
  std::optional<Frame> next(const std::function<bool(const Frame&)>& until) {
    char buf[4096];
    while (true) {
      auto f = reader_.next();
      if (!f) return std::nullopt;
      if (*f) {
        if (until(**f)) return std::move(**f);
        continue;
      }
      ssize_t n = ::read(fd_.get(), buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      reader_.feed(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  void send(std::uint32_t id, std::string_view data, bool fin = false) {
    EXPECT_TRUE(writeAll(fd_.get(), FrameWriter::data(id, data, fin ? spdy::kFlagFin : 0)));
  }

  // Reads frames until the error stream ends; collects data per stream type.
  std::map<std::string, std::string> collect() {
    std::map<std::string, std::string> out;
    char buf[4096];
    while (true) {
      auto f = reader_.next();
      if (!f) {
        ADD_FAILURE() << f.error().message();
        return out;
      }
      if (!*f) {
        ssize_t n = ::read(fd_.get(), buf, sizeof buf);
        if (n <= 0) return out;
        reader_.feed(std::string_view(buf, static_cast<size_t>(n)));
        continue;
      }
      Frame& fr = **f;
      if (fr.type == spdy::FrameType::kSynReply) ++replies_;
      if (fr.type != spdy::FrameType::kData) continue;
      const std::string& type = streams_[fr.streamId];
      out[type] += fr.data;
      if (fr.fin()) out[type + ".fin"] = "1";
      if (type == "error" && fr.fin()) return out;
    }
  }
  int replies() const { return replies_; }

 private:
  UniqueFd fd_;
  int port_ = 0;
  std::string path_;
  FrameWriter writer_;
  FrameReader reader_;
  std::uint32_t nextId_ = 1;
  std::map<std::uint32_t, std::string> streams_;
  int replies_ = 0;
};

class StreamingServerTest : public StreamingServerFixture {};

TEST_F(StreamingServerTest, ExecRelaysOutputAndReportsSuccess) {
  std::string url = execUrl({"echo out; echo err >&2"});
  EXPECT_EQ(url.rfind(server_->baseUrl() + "/exec/", 0), 0u) << url;
  Client c(url);
  std::string head = c.upgrade({"v4.channel.k8s.io", "v3.channel.k8s.io"});
  EXPECT_EQ(head.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("X-Stream-Protocol-Version: v4.channel.k8s.io\r\n"), std::string::npos);
  c.open("error");
  c.open("stdout");
  c.open("stderr");
  auto got = c.collect();
  EXPECT_EQ(got["stdout"], "out\n");
  EXPECT_EQ(got["stderr"], "err\n");
  EXPECT_EQ(got["stdout.fin"], "1");
  EXPECT_EQ(nlohmann::json::parse(got["error"]),
            nlohmann::json::parse(R"({"metadata":{},"status":"Success"})"));
  EXPECT_EQ(c.replies(), 3);
}

TEST_F(StreamingServerTest, NonZeroExitIsAStatusWithTheCode) {
  Client c(execUrl({"exit 3"}));
  c.upgrade({"v4.channel.k8s.io"});
  c.open("error");
  c.open("stdout");
  c.open("stderr");
  auto status = nlohmann::json::parse(c.collect()["error"]);
  EXPECT_EQ(status["status"], "Failure");
  EXPECT_EQ(status["reason"], "NonZeroExitCode");
  EXPECT_EQ(status["details"]["causes"][0]["reason"], "ExitCode");
  EXPECT_EQ(status["details"]["causes"][0]["message"], "3");
  EXPECT_NE(status["message"].get<std::string>().find("non-zero exit code"), std::string::npos);
}

TEST_F(StreamingServerTest, StdinReachesTheCommandAndItsEofEndsIt) {
  Client c(execUrl({"cat; echo done"}, /*stdin=*/true));
  c.upgrade({"v4.channel.k8s.io"});
  c.open("error");
  auto in = c.open("stdin");
  c.open("stdout");
  c.open("stderr");
  c.send(in, "ping\n");
  c.send(in, "pong\n", /*fin=*/true);
  auto got = c.collect();
  EXPECT_EQ(got["stdout"], "ping\npong\ndone\n");
}

TEST_F(StreamingServerTest, TtyGetsResizeEvents) {
  Client c(execUrl({"echo ran"}, /*stdin=*/false, /*tty=*/true));
  c.upgrade({"v4.channel.k8s.io"});
  c.open("error");
  c.open("stdout");
  auto resize = c.open("resize");
  // One JSON object split across two frames.
  c.send(resize, R"({"Width":120,)");
  c.send(resize, R"("Height":40})");
  auto got = c.collect();
  EXPECT_EQ(got["stdout"], "size 120x40\nran\n");
}

TEST_F(StreamingServerTest, OlderProtocolsGetPlainTextErrors) {
  Client c(execUrl({"exit 2"}));
  std::string head = c.upgrade({"v3.channel.k8s.io", "v2.channel.k8s.io"});
  EXPECT_NE(head.find("X-Stream-Protocol-Version: v3.channel.k8s.io"), std::string::npos);
  c.open("error");
  c.open("stdout");
  c.open("stderr");
  EXPECT_EQ(c.collect()["error"],
            "command terminated with non-zero exit code: error executing command exit 2, exit "
            "code 2");
}

TEST_F(StreamingServerTest, RuntimeErrorsAreInternalErrors) {
  ExecRequest r;
  r.containerId = "missing";
  r.cmd = {"true"};
  Client c(*server_->execUrl(r));
  c.upgrade({"v4.channel.k8s.io"});
  c.open("error");
  c.open("stdout");
  c.open("stderr");
  auto status = nlohmann::json::parse(c.collect()["error"]);
  EXPECT_EQ(status["reason"], "InternalError");
  EXPECT_EQ(status["code"], 500);
  EXPECT_NE(status["message"].get<std::string>().find("container \"missing\" not found"),
            std::string::npos);
}

TEST_F(StreamingServerTest, AttachUsesItsOwnRoute) {
  AttachRequest r;
  r.containerId = "c1";
  r.stderr = false;
  Client c(*server_->attachUrl(r));
  c.upgrade({"v4.channel.k8s.io"});
  c.open("error");
  c.open("stdout");
  EXPECT_EQ(c.collect()["stdout"], "attached\n");
}

TEST_F(StreamingServerTest, PortForwardRelaysEachRequestToThePort) {
  UpperServer upper;
  auto url = server_->portForwardUrl({"pod1"});
  ASSERT_TRUE(url) << url.error().message();
  Client c(*url);
  std::string head = c.upgrade({"portforward.k8s.io"});
  EXPECT_NE(head.find("X-Stream-Protocol-Version: portforward.k8s.io"), std::string::npos);
  std::string port = std::to_string(upper.port());
  for (std::string request : {"0", "1"}) {
    c.open("error", {{"port", port}, {"requestid", request}});
    auto data = c.open("data", {{"port", port}, {"requestid", request}});
    c.send(data, "hello " + request);
    auto reply = c.next([&](const Frame& f) {
      return f.type == spdy::FrameType::kData && f.streamId == data && !f.data.empty();
    });
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->data, "HELLO " + request);
    c.send(data, "", /*fin=*/true);  // the client is done: the pod side ends too
    auto fin = c.next(
        [&](const Frame& f) { return f.type == spdy::FrameType::kData && f.streamId == data; });
    ASSERT_TRUE(fin);
    EXPECT_TRUE(fin->fin());
  }
}

TEST_F(StreamingServerTest, PortForwardReportsAnUnreachablePortAndRefusesBadHeaders) {
  // A port nobody listens on: bind one and close it.
  int port = unusedLoopbackPort();
  Client c(*server_->portForwardUrl({"pod1"}));
  c.upgrade({"portforward.k8s.io"});
  auto error = c.open("error", {{"port", std::to_string(port)}, {"requestid", "0"}});
  c.open("data", {{"port", std::to_string(port)}, {"requestid", "0"}});
  auto msg = c.next([&](const Frame& f) {
    return f.type == spdy::FrameType::kData && f.streamId == error && !f.data.empty();
  });
  ASSERT_TRUE(msg);
  EXPECT_NE(msg->data.find(fmt::format("error forwarding port {} to pod pod1", port)),
            std::string::npos)
      << msg->data;
  EXPECT_NE(msg->data.find("connection refused"), std::string::npos) << msg->data;
  auto bad = c.open("data", {{"port", "http"}, {"requestid", "1"}});
  auto rst = c.next([&](const Frame& f) { return f.type == spdy::FrameType::kRstStream; });
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->streamId, bad);
}

TEST_F(StreamingServerTest, HandshakeFailuresAreHttpErrors) {
  {
    Client c(execUrl({"true"}));
    std::string head = c.upgrade({"v9.channel.k8s.io"});
    EXPECT_EQ(head.rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u) << head;
    EXPECT_NE(c.rest().find("unable to negotiate protocol"), std::string::npos);
  }
  {
    Client c(execUrl({"true"}));
    std::string head = c.upgrade({"v4.channel.k8s.io"}, /*upgradeHeader=*/"");
    EXPECT_EQ(head.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << head;
  }
}

TEST_F(StreamingServerTest, TokensAreSingleUseAndRoutesChecked) {
  std::string url = execUrl({"true"});
  {
    Client c(url);
    c.upgrade({"v4.channel.k8s.io"});
    c.open("error");
    c.open("stdout");
    c.open("stderr");
    c.collect();
  }
  Client again(url);
  EXPECT_EQ(again.upgrade({"v4.channel.k8s.io"}).rfind("HTTP/1.1 404 Not Found", 0), 0u);
  Client wrongKind(server_->baseUrl() + "/attach/" + url.substr(url.rfind('/') + 1));
  EXPECT_EQ(wrongKind.upgrade({"v4.channel.k8s.io"}).rfind("HTTP/1.1 404 Not Found", 0), 0u);
}

TEST_F(StreamingServerTest, BadRequestsAreRefusedWithTheField) {
  ExecRequest r;
  r.cmd = {"true"};
  auto noId = server_->execUrl(r);
  ASSERT_FALSE(noId);
  EXPECT_NE(noId.error().message().find("container_id"), std::string::npos);
  r.containerId = "c";
  r.cmd.clear();
  EXPECT_FALSE(server_->execUrl(r));
  r.cmd = {"true"};
  r.tty = true;
  r.stderr = true;
  auto both = server_->execUrl(r);
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message().find("tty and stderr"), std::string::npos);
  auto badAddress = StreamingServer::start("localhost:x", runtime_);
  ASSERT_FALSE(badAddress);
  EXPECT_NE(badAddress.error().message().find("localhost:x"), std::string::npos);
}

}  // namespace
}  // namespace berth::shim
