// Upgrades: a raw Stream after 101 (plain and TLS), with the bytes sent past the head first,
// read timeouts that lose nothing, half-closes both ways; the bound on upgraded connections and
// their threads outside the worker pool; the idle timeout.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <future>

#include <gtest/gtest.h>

#include "common/http/server.h"
#include "common/http/test_support.h"

namespace berth::http {
namespace {

using namespace std::chrono_literals;
using testing::Certificates;
using testing::Curl;
using testing::RawClient;
using testing::startServer;
using testing::waitUntil;

constexpr std::string_view kUpgradeRequest =
    "GET /tunnel HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";

const Response kSwitching{101, {{"Connection", "Upgrade"}, {"Upgrade", "echo"}}, ""};

std::string readSome(Stream& s, std::optional<std::chrono::milliseconds> timeout = 30s) {
  char buf[4096];
  auto n = s.read(buf, timeout);
  if (!n) return "error: " + n.error().message();
  return std::string(buf, *n);
}

// Echoes upper-cased until the client half-closes, then says "bye" and half-closes.
void echo(Stream& s) {
  char buf[4096];
  while (true) {
    auto n = s.read(buf);
    if (!n || *n == 0) break;
    std::string up(buf, *n);
    for (auto& c : up)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!s.writeAll(up)) return;
  }
  (void)s.writeAll("bye");
  s.shutdownWrite();
}

TEST(HttpUpgrade, TheStreamGetsTheEarlyBytesFirstAndHalfClosesBothWays) {
  auto server = startServer([](Request& r, std::shared_ptr<ResponseWriter> w) {
    if (r.headers.get("Upgrade") != "echo") return w->respond({400, {}, "want echo"});
    auto s = w->upgrade(kSwitching);
    ASSERT_TRUE(s) << s.error().message();
    echo(**s);
  });
  RawClient c(server->port());
  ASSERT_TRUE(c.send(std::string(kUpgradeRequest) + "early "));
  std::string head = c.readUntil("\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 101 Switching Protocols\r\n")) << head;
  EXPECT_NE(head.find("Upgrade: echo\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
  EXPECT_EQ(c.readUntil("EARLY "), "EARLY ");
  ASSERT_TRUE(c.send("later"));
  EXPECT_EQ(c.readUntil("LATER"), "LATER");
  ::shutdown(c.fd(), SHUT_WR);
  auto rest = c.readToEnd();
  ASSERT_TRUE(rest);
  EXPECT_EQ(*rest, "bye");
}

TEST(HttpUpgrade, AReadTimeoutLosesNothing) {
  std::promise<std::string> results;
  auto server = startServer([&](Request&, std::shared_ptr<ResponseWriter> w) {
    auto s = w->upgrade(kSwitching);
    ASSERT_TRUE(s);
    std::string first = readSome(**s, 50ms);  // nothing sent yet
    (void)(*s)->writeAll("ready");
    results.set_value(first + "|" + readSome(**s, 30s));
  });
  RawClient c(server->port());
  ASSERT_TRUE(c.send(kUpgradeRequest));
  c.readUntil("ready");
  ASSERT_TRUE(c.send("late data"));
  std::string got = results.get_future().get();
  EXPECT_TRUE(got.starts_with("error: upgraded stream: no data within 50 ms|")) << got;
  EXPECT_TRUE(got.ends_with("|late data")) << got;
}

TEST(HttpUpgrade, UpgradedConnectionsAreBoundedAndLeaveThePool) {
  ServerOptions o;
  o.workerThreads = 1;
  o.maxUpgradedConnections = 1;
  std::promise<Status> refused;
  std::atomic<bool> refusedOnce = false;
  auto server = startServer(
      [&](Request& r, std::shared_ptr<ResponseWriter> w) {
        if (r.path == "/plain") return w->respond({200, {}, "plain"});
        auto s = w->upgrade(kSwitching);
        if (!s) {
          if (!refusedOnce.exchange(true)) refused.set_value(std::unexpected(s.error()));
          return;
        }
        echo(**s);  // holds this thread until the client half-closes
      },
      o);
  RawClient first(server->port());
  ASSERT_TRUE(first.send(kUpgradeRequest));
  ASSERT_NE(first.readUntil("\r\n\r\n").find("101"), std::string::npos);
  // The one worker is serving the upgraded connection; ordinary requests still get a thread.
  Curl curl;
  auto plain = curl.fetch(fmt::format("http://127.0.0.1:{}/plain", server->port()));
  EXPECT_EQ(plain.body, "plain");
  RawClient second(server->port());
  ASSERT_TRUE(second.send(kUpgradeRequest));
  auto answer = second.readToEnd();
  ASSERT_TRUE(answer);
  EXPECT_TRUE(answer->starts_with("HTTP/1.1 503 ")) << *answer;
  auto why = refused.get_future().get();
  ASSERT_FALSE(why);
  EXPECT_EQ(why.error().code(), Code::kResourceExhausted);
  // Once the first upgraded connection is gone its slot is free again.
  ::shutdown(first.fd(), SHUT_WR);
  EXPECT_EQ(first.readToEnd(), "bye");
  EXPECT_TRUE(waitUntil([&] {
    RawClient third(server->port());
    third.send(std::string(kUpgradeRequest) + "x");
    return third.readUntil("X").ends_with("X");
  }));
}

TEST(HttpUpgrade, NoUpgradeAfterAStartedResponseAndIdleUpgradesClose) {
  ServerOptions o;
  o.upgradedIdleTimeout = 200ms;
  std::promise<std::string> afterStart;
  std::promise<std::string> idle;
  auto server = startServer(
      [&](Request& r, std::shared_ptr<ResponseWriter> w) {
        if (r.path == "/started") {
          w->start(200, {});
          auto s = w->upgrade(kSwitching);
          afterStart.set_value(s ? "upgraded" : s.error().message());
          w->finish();
          return;
        }
        auto s = w->upgrade(kSwitching);
        ASSERT_TRUE(s);
        idle.set_value(readSome(**s, std::nullopt));  // the server closes it when idle
      },
      o);
  Curl curl;
  curl.fetch(fmt::format("http://127.0.0.1:{}/started", server->port()));
  EXPECT_NE(afterStart.get_future().get().find("already started"), std::string::npos);
  RawClient c(server->port());
  ASSERT_TRUE(c.send(kUpgradeRequest));
  c.readUntil("\r\n\r\n");
  auto end = c.readToEnd();
  ASSERT_TRUE(end) << "an idle upgraded connection was never closed";
  std::string got = idle.get_future().get();
  EXPECT_TRUE(got.empty() || got.starts_with("error")) << got;
}

// A blocking OpenSSL client on a connected socket.
class TlsClient {
 public:
  TlsClient(int fd, const std::string& caFile) : ctx_(SSL_CTX_new(TLS_client_method())) {
    SSL_CTX_load_verify_locations(ctx_, caFile.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd);
    SSL_set1_host(ssl_, "127.0.0.1");
    ok_ = SSL_connect(ssl_) == 1;
  }
  ~TlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  bool ok() const { return ok_; }
  bool send(std::string_view s) {
    return SSL_write(ssl_, s.data(), static_cast<int>(s.size())) == static_cast<int>(s.size());
  }
  // Reads until `text` arrived; nullopt when the server's close_notify (or EOF) came first.
  std::optional<std::string> readUntil(std::string_view text) {
    char buf[4096];
    while (buffered_.find(text) == std::string::npos) {
      int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) {
        closeNotify_ = SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN;
        return std::nullopt;
      }
      buffered_.append(buf, static_cast<std::size_t>(n));
    }
    auto at = buffered_.find(text) + text.size();
    std::string out = buffered_.substr(0, at);
    buffered_.erase(0, at);
    return out;
  }
  bool closeNotify() const { return closeNotify_; }
  void sendCloseNotify() { SSL_shutdown(ssl_); }

 private:
  SSL_CTX* ctx_;
  SSL* ssl_ = nullptr;
  bool ok_ = false;
  bool closeNotify_ = false;
  std::string buffered_;
};

TEST(HttpUpgrade, OverTlsShutdownWriteSendsCloseNotify) {
  Certificates certs;
  auto made = certs.make();
  if (!made) GTEST_SKIP() << "openssl could not make test certificates: " << made.error().message();
  ServerOptions o;
  o.tls = TlsServerConfig{certs.p("server.pem"), certs.p("server.key"), ""};
  auto server = startServer(
      [](Request&, std::shared_ptr<ResponseWriter> w) {
        auto s = w->upgrade(kSwitching);
        ASSERT_TRUE(s) << s.error().message();
        echo(**s);
      },
      o);
  RawClient raw(server->port());
  TlsClient c(raw.fd(), certs.caFile());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.send(std::string(kUpgradeRequest) + "over tls"));
  auto head = c.readUntil("\r\n\r\n");
  ASSERT_TRUE(head);
  EXPECT_TRUE(head->starts_with("HTTP/1.1 101 ")) << *head;
  EXPECT_EQ(c.readUntil("OVER TLS"), "OVER TLS");
  c.sendCloseNotify();  // our half-close: the server's read ends
  EXPECT_EQ(c.readUntil("bye"), "bye");
  EXPECT_FALSE(c.readUntil("more"));
  EXPECT_TRUE(c.closeNotify()) << "the server's write side ended without close_notify";
}

}  // namespace
}  // namespace berth::http
