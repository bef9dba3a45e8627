// The server over TLS with certificates made by openssl at test time: verified requests,
// client certificates verified when given (absent is fine, one from another CA fails the
// handshake), what the handler learns of the peer, ALPN, streams over TLS.
#include <future>

#include <gtest/gtest.h>

#include "common/http/server.h"
#include "common/http/test_support.h"

namespace berth::http {
namespace {

using namespace std::chrono_literals;
using testing::Certificates;
using testing::Curl;
using testing::FetchOptions;

class HttpServerTls : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = certs_.make();
    if (!made)
      GTEST_SKIP() << "openssl could not make test certificates: " << made.error().message();
  }
  std::unique_ptr<Server> start(bool verifyClients) {
    ServerOptions o;
    o.tls = TlsServerConfig{certs_.p("server.pem"), certs_.p("server.key"),
                            verifyClients ? certs_.caFile() : ""};
    auto s = Server::start(o, [this](Request& r, std::shared_ptr<ResponseWriter> w) {
      {
        std::lock_guard lock(mu_);
        seen_.push_back(r);
      }
      if (r.path == "/stream") {
        w->start(200, {});
        w->write("one\n");
        std::thread([w] {
          w->write("two\n");
          w->finish();
        }).detach();
        return;
      }
      w->respond({200, {}, "hello over tls"});
    });
    EXPECT_TRUE(s) << s.error().message();
    return s ? std::move(*s) : nullptr;
  }
  std::string url(const Server& s, std::string_view path) {
    return fmt::format("https://127.0.0.1:{}{}", s.port(), path);
  }
  FetchOptions as(const std::string& client = "") {
    FetchOptions o;
    o.caFile = certs_.caFile();
    if (!client.empty()) {
      o.certFile = certs_.p(client + ".pem");
      o.keyFile = certs_.p(client + ".key");
    }
    return o;
  }
  std::vector<Request> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

  Certificates certs_;
  std::mutex mu_;
  std::vector<Request> seen_;
};

TEST_F(HttpServerTls, ServesVerifiedRequestsWithoutAClientCertificate) {
  auto server = start(/*verifyClients=*/false);
  Curl curl;
  auto f = curl.fetch(url(*server, "/"), as());
  ASSERT_EQ(f.code, CURLE_OK) << f.error;
  EXPECT_EQ(f.body, "hello over tls");
  // A client certificate nobody asked for is not looked at.
  auto g = curl.fetch(url(*server, "/again"), as("client"));
  ASSERT_EQ(g.code, CURLE_OK) << g.error;
  auto requests = seen();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_TRUE(requests[0].tls);
  EXPECT_FALSE(requests[0].peerCertificate);
  EXPECT_FALSE(requests[1].peerCertificate);
}

TEST_F(HttpServerTls, AVerifiedClientCertificateNamesItsSubject) {
  auto server = start(/*verifyClients=*/true);
  Curl curl;
  auto f = curl.fetch(url(*server, "/"), as("client"));
  ASSERT_EQ(f.code, CURLE_OK) << f.error;
  auto requests = seen();
  ASSERT_EQ(requests.size(), 1u);
  ASSERT_TRUE(requests[0].peerCertificate);
  EXPECT_EQ(requests[0].peerCertificate->commonName, "alice");
  EXPECT_EQ(requests[0].peerCertificate->organizations, (std::vector<std::string>{"dev", "ops"}));
  auto pem = readFile(certs_.p("client.pem"));
  ASSERT_TRUE(pem);
  EXPECT_EQ(requests[0].peerCertificate->pem, *pem);
}

TEST_F(HttpServerTls, NoClientCertificateIsAllowedAndABadOneFailsTheHandshake) {
  auto server = start(/*verifyClients=*/true);
  Curl anonymous;
  auto f = anonymous.fetch(url(*server, "/"), as());
  ASSERT_EQ(f.code, CURLE_OK) << f.error;
  Curl rogue;
  auto g = rogue.fetch(url(*server, "/"), as("rogue"));
  EXPECT_NE(g.code, CURLE_OK);
  EXPECT_EQ(g.status, 0);
  auto requests = seen();
  ASSERT_EQ(requests.size(), 1u);  // the rogue client never got a request in
  EXPECT_FALSE(requests[0].peerCertificate);
}

TEST_F(HttpServerTls, AlpnAndStreamsOverTls) {
  auto server = start(/*verifyClients=*/false);
  Curl curl;
  FetchOptions o = as();
  o.httpVersion = CURL_HTTP_VERSION_1_1;
  auto f = curl.fetch(url(*server, "/stream"), o);
  ASSERT_EQ(f.code, CURLE_OK) << f.error;
  EXPECT_EQ(f.body, "one\ntwo\n");
  EXPECT_EQ(f.httpVersion, CURL_HTTP_VERSION_1_1);
  auto g = curl.fetch(url(*server, "/"), o);
  EXPECT_EQ(g.connects, 0);  // kept alive over TLS too
}

TEST_F(HttpServerTls, AReloadingCertificateFollowsItsFiles) {
  // One file with certificate and key behind a symlink, swapped as the kubelet rotates.
  auto pair = [&](const std::string& name) {
    std::string file = certs_.p(name + "-pair.pem");
    EXPECT_TRUE(writeFile(file, readFile(certs_.p(name + ".pem")).value() +
                                    readFile(certs_.p(name + ".key")).value()));
    return file;
  };
  const std::string current = certs_.p("current.pem");
  auto point = [&](const std::string& target) {
    std::filesystem::remove(current + ".new");
    std::filesystem::create_symlink(target, current + ".new");
    std::filesystem::rename(current + ".new", current);
  };
  ServerOptions o;
  o.tls = TlsServerConfig{.certFile = current, .keyFile = current, .reloadCertificate = true};
  auto server = Server::start(o, [](Request&, std::shared_ptr<ResponseWriter> w) {
    w->respond({200, {}, "ok"});
  });
  ASSERT_TRUE(server) << server.error().message();  // the files may come later
  Curl curl;
  EXPECT_NE(curl.fetch(url(**server, "/"), as()).code, CURLE_OK);

  point(pair("server"));
  auto first = curl.fetch(url(**server, "/"), as());
  EXPECT_EQ(first.code, CURLE_OK) << first.error;

  point(pair("rogue-server"));
  Curl fresh;
  EXPECT_NE(fresh.fetch(url(**server, "/"), as()).code, CURLE_OK);
  FetchOptions rogue = as();
  rogue.caFile = certs_.p("rogue-ca.pem");
  auto second = fresh.fetch(url(**server, "/"), rogue);
  EXPECT_EQ(second.code, CURLE_OK) << second.error;
}

TEST_F(HttpServerTls, BadCertificateFilesAreNamed) {
  ServerOptions o;
  o.tls = TlsServerConfig{certs_.p("missing.pem"), certs_.p("server.key"), ""};
  auto s = Server::start(o, [](Request&, std::shared_ptr<ResponseWriter>) {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("missing.pem"), std::string::npos) << s.error().message();
  o.tls = TlsServerConfig{certs_.p("server.pem"), certs_.p("client.key"), ""};
  s = Server::start(o, [](Request&, std::shared_ptr<ResponseWriter>) {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("client.key"), std::string::npos) << s.error().message();
}

}  // namespace
}  // namespace berth::http
