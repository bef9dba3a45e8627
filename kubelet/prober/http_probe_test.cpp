#include "kubelet/prober/http_probe.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "common/free_port_for_test.h"
#include "common/http/test_support.h"

namespace berth::kubelet::prober {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// A loopback server with the paths the tests probe.
class HttpProbeTest : public ::testing::Test {
 protected:
  void SetUp() override { server_ = http::testing::startServer(handler(), {}); }
  void TearDown() override {
    if (server_) server_->shutdown(1s);
  }

  http::Handler handler() {
    return [this](http::Request& req, std::shared_ptr<http::ResponseWriter> w) {
      ++requests_;
      http::Response r;
      if (req.path == "/ok") {
        r.body = "fine";
      } else if (req.path == "/fail") {
        r.status = 500;
        r.body = "broken";
      } else if (req.path == "/slow") {
        std::this_thread::sleep_for(1500ms);
      } else if (req.path == "/same-host") {
        r.status = 302;
        r.headers.set("Location", "/ok");
      } else if (req.path == "/other-host") {
        r.status = 302;
        r.headers.set("Location", "http://localhost:" + std::to_string(port()) + "/ok");
        r.body = "moved";
      } else if (req.path == "/loop") {
        r.status = 307;
        r.headers.set("Location", "/loop");
      } else if (req.path == "/headers") {
        r.body = std::string(req.headers.get("User-Agent").value_or("-")) + "|" +
                 std::string(req.headers.get("Accept").value_or("-")) + "|" +
                 std::string(req.headers.get("X-Custom").value_or("-")) + "|" +
                 std::string(req.headers.get("Host").value_or("-"));
      } else if (req.path == "/big") {
        r.body = std::string(20 * 1024, 'x');
      } else {
        r.status = 404;
      }
      w->respond(std::move(r));
    };
  }

  int port() const { return server_->port(); }
  HttpGetRequest request(const std::string& path, json extra = json::object()) {
    json action = {{"path", path}, {"port", port()}};
    action.update(extra);
    auto req = newHttpGetRequest(action, json::object(), "127.0.0.1", "probe");
    EXPECT_TRUE(req) << req.error().message();
    return req.value_or(HttpGetRequest{});
  }

  std::unique_ptr<http::Server> server_;
  std::atomic<int> requests_{0};
};

TEST_F(HttpProbeTest, SuccessBelow400WithBody) {
  ProbeOutcome o = httpProbe(request("/ok"), 1s);
  EXPECT_EQ(o.result, HandlerResult::kSuccess);
  EXPECT_EQ(o.output, "fine");
}

TEST_F(HttpProbeTest, ServerErrorFails) {
  ProbeOutcome o = httpProbe(request("/fail"), 1s);
  EXPECT_EQ(o.result, HandlerResult::kFailure);
  EXPECT_EQ(o.output, "HTTP probe failed with statuscode: 500");
}

TEST_F(HttpProbeTest, TimeoutFails) {
  ProbeOutcome o = httpProbe(request("/slow"), 300ms);
  EXPECT_EQ(o.result, HandlerResult::kFailure);
  EXPECT_NE(o.output.find("/slow"), std::string::npos) << o.output;
}

TEST_F(HttpProbeTest, RedirectToSameHostIsFollowed) {
  ProbeOutcome o = httpProbe(request("/same-host"), 1s);
  EXPECT_EQ(o.result, HandlerResult::kSuccess);
  EXPECT_EQ(o.output, "fine");
  EXPECT_EQ(requests_, 2);
}

TEST_F(HttpProbeTest, RedirectToAnotherHostIsNotFollowedAndWarns) {
  ProbeOutcome o = httpProbe(request("/other-host"), 1s);
  EXPECT_EQ(o.result, HandlerResult::kWarning);
  EXPECT_EQ(o.output, "Probe terminated redirects, Response body: moved");
  EXPECT_EQ(requests_, 1);
}

TEST_F(HttpProbeTest, RedirectLoopStopsAfterTenRequests) {
  ProbeOutcome o = httpProbe(request("/loop"), 2s);
  EXPECT_EQ(o.result, HandlerResult::kFailure);
  EXPECT_NE(o.output.find("stopped after 10 redirects"), std::string::npos) << o.output;
  EXPECT_EQ(requests_, 10);
}

TEST_F(HttpProbeTest, SendsUserAgentAcceptAndActionHeaders) {
  auto req = request(
      "/headers",
      {{"httpHeaders",
        {{{"name", "x-custom"}, {"value", "v1"}}, {{"name", "Host"}, {"value", "example.test"}}}}});
  auto res = httpGet(req, 1s);
  ASSERT_TRUE(res) << res.error().message();
  EXPECT_EQ(res->body, "kube-probe/1.32|*/*|v1|example.test");
}

TEST_F(HttpProbeTest, ActionHeadersReplaceDefaultsAndEmptyAcceptIsDropped) {
  auto req = request(
      "/headers",
      {{"httpHeaders",
        {{{"name", "User-Agent"}, {"value", "mine"}}, {{"name", "Accept"}, {"value", ""}}}}});
  auto res = httpGet(req, 1s);
  ASSERT_TRUE(res) << res.error().message();
  EXPECT_EQ(res->body.substr(0, 7), "mine|-|");
}

TEST_F(HttpProbeTest, BodyIsCappedAt10KiB) {
  auto res = httpGet(request("/big"), 1s);
  ASSERT_TRUE(res) << res.error().message();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body.size(), kMaxResponseBody);
  EXPECT_TRUE(res->truncated);
  EXPECT_EQ(httpProbe(request("/big"), 1s).result, HandlerResult::kSuccess);
}

TEST_F(HttpProbeTest, NamedPortResolvesAgainstTheContainer) {
  json container = {{"name", "app"},
                    {"ports",
                     {{{"name", "metrics"}, {"containerPort", 1}},
                      {{"name", "web"}, {"containerPort", port()}}}}};
  auto req = newHttpGetRequest({{"path", "ok"}, {"port", "web"}}, container, "127.0.0.1", "probe");
  ASSERT_TRUE(req) << req.error().message();
  EXPECT_EQ(req->url, "http://127.0.0.1:" + std::to_string(port()) + "/ok");
  EXPECT_EQ(httpProbe(*req, 1s).result, HandlerResult::kSuccess);

  auto missing = newHttpGetRequest({{"port", "admin"}}, container, "127.0.0.1", "probe");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "httpGet: port \"admin\" not found in container \"app\"");
  auto numeric = newHttpGetRequest({{"port", "8080"}}, container, "10.0.0.1", "probe");
  ASSERT_TRUE(numeric);
  EXPECT_EQ(numeric->url, "http://10.0.0.1:8080");
  auto bad = newHttpGetRequest({{"port", 70000}}, container, "10.0.0.1", "probe");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "httpGet: invalid port number: 70000");
}

TEST(HttpGetRequestTest, HostSchemeAndIpv6) {
  auto req =
      newHttpGetRequest({{"scheme", "HTTPS"}, {"host", "::1"}, {"port", 443}, {"path", "/h?x=1"}},
                        json::object(), "10.0.0.1", "lifecycle");
  ASSERT_TRUE(req);
  EXPECT_EQ(req->url, "https://[::1]:443/h?x=1");
  ASSERT_FALSE(req->headers.empty());
  EXPECT_EQ(req->headers.front(),
            (std::pair<std::string, std::string>{"User-Agent", "kube-lifecycle/1.32"}));
}

TEST(HttpProbeNoServerTest, ConnectionRefusedFails) {
  auto port = berth::testing::freeLoopbackPort();
  ASSERT_TRUE(port);
  auto req = newHttpGetRequest({{"port", *port}}, json::object(), "127.0.0.1", "probe");
  ASSERT_TRUE(req);
  ProbeOutcome o = httpProbe(*req, 1s);
  EXPECT_EQ(o.result, HandlerResult::kFailure);
  EXPECT_NE(o.output.find("Get \"http://127.0.0.1:"), std::string::npos) << o.output;
}

TEST(HttpsProbeTest, CertificateIsNotVerified) {
  http::testing::Certificates certs;
  ASSERT_TRUE(certs.make());
  http::ServerOptions o;
  o.tls =
      http::TlsServerConfig{.certFile = certs.p("server.pem"), .keyFile = certs.p("server.key")};
  auto server = http::testing::startServer(
      [](http::Request&, std::shared_ptr<http::ResponseWriter> w) {
        w->respond({.status = 204, .headers = {}, .body = ""});
      },
      o);
  ASSERT_TRUE(server);
  auto req = newHttpGetRequest({{"scheme", "HTTPS"}, {"port", server->port()}}, json::object(),
                               "127.0.0.1", "probe");
  ASSERT_TRUE(req);
  ProbeOutcome out = httpProbe(*req, 2s);
  EXPECT_EQ(out.result, HandlerResult::kSuccess) << out.output;
  server->shutdown(1s);
}

}  // namespace
}  // namespace berth::kubelet::prober
