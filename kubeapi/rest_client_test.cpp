// The REST client's real HTTP path against a canned server on 127.0.0.1 (testdata/
// canned_apiserver.py): retries, Retry-After, errors, pagination, watch streams, what goes on
// the wire. The client's clock is fake, so retry waits are recorded instead of slept.
#include <netinet/in.h>
#include <sys/socket.h>

#include <thread>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/result.h"
#include "common/spawn.h"
#include "common/temp_dir_for_test.h"
#include "common/unique_fd.h"
#include "kubeapi/kubeconfig.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/rest_client.h"

namespace berth::kubeapi {
namespace {

using namespace std::chrono;

// A port on 127.0.0.1 that nothing listens on (bound, read back, closed); -1 on failure.
int freeLoopbackPort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return -1;
  sockaddr_in addr{.sin_family = AF_INET, .sin_port = 0, .sin_addr = {htonl(INADDR_LOOPBACK)}};
  socklen_t len = sizeof addr;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return -1;
  return ntohs(addr.sin_port);
}

class RestClientTest : public ::testing::Test {
 protected:
  void SetUp() override { startServer({}); }

  // Starts the canned server (HTTPS with `tls`: cert, key, CA) and sets host_.
  void startServer(std::vector<std::string> tls) {
    ASSERT_FALSE(dir_.path().empty());
    server_ = ChildProcess();
    auto portFile = dir_.path() / "port";
    (void)removeAll(portFile);
    std::vector<std::string> args = {"python3", BERTH_KUBEAPI_TESTDATA "/canned_apiserver.py",
                                     portFile.string()};
    args.insert(args.end(), tls.begin(), tls.end());
    auto child = startProgram({.path = "python3", .args = args});
    if (!child) GTEST_SKIP() << "python3 can't run here: " << child.error().message();
    server_ = std::move(*child);
    auto deadline = steady_clock::now() + 20s;
    while (steady_clock::now() < deadline) {
      if (auto port = readFile(portFile)) {
        host_ = (tls.empty() ? "http://127.0.0.1:" : "https://127.0.0.1:") + *port;
        return;
      }
      std::this_thread::sleep_for(10ms);  // polling for the port file, bounded by the deadline
    }
    FAIL() << "the canned server did not start";
  }

  // A CA, a serving certificate for 127.0.0.1 and api.test, and client certificates (CN admin
  // and CN system:node:n1), made with openssl in dir_.
  bool makeCertificates() {
    auto made = runProgram(
        {.path = "bash",
         .args = {"bash", "-ec",
                  "cd \"$0\"; k='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'\n"
                  "openssl req -x509 $k -keyout ca.key -out ca.crt -subj /CN=test-ca -days 1\n"
                  "openssl req $k -keyout srv.key -out srv.csr -subj /CN=127.0.0.1\n"
                  "printf 'subjectAltName=IP:127.0.0.1,DNS:api.test' > san\n"
                  "openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
                  "-out srv.crt -days 1 -extfile san\n"
                  "openssl req $k -keyout cli.key -out cli.csr -subj /O=system:masters/CN=admin\n"
                  "openssl x509 -req -in cli.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
                  "-out cli.crt -days 1\n"
                  "openssl req $k -keyout node.key -out node.csr -subj /CN=system:node:n1\n"
                  "openssl x509 -req -in node.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
                  "-out node.crt -days 1\n",
                  dir_.path().string()},
         .captureStdout = true,
         .captureStderr = true,
         .timeout = 60s});
    return made && made->status.success();
  }

  std::shared_ptr<RestClient> client(RestConfig config = {}, int maxRetries = 10) {
    config.host = host_;
    auto c = RestClient::create(std::move(config), {.maxRetries = maxRetries}, clock_);
    EXPECT_TRUE(c) << c.error().message();
    return *c;
  }

  ResourceClient pods(const std::shared_ptr<RestClient>& c, const char* ns = "default") {
    return c->resource({"", "v1", "pods"}).inNamespace(ns);
  }

  int serverCount(const std::string& key) {
    auto c = client();
    auto counts = c->sendJson({.path = "/counts"});
    if (!counts || !counts->contains(key)) return 0;
    return (*counts)[key].get<int>();
  }

  testing::TempDir dir_;
  ChildProcess server_;
  std::string host_;
  FakeClock clock_;
};

TEST_F(RestClientTest, GetsAnObjectAndSendsWhoWeAre) {
  auto c = client({.bearerToken = "tok", .userAgent = "kubeapi-test"});
  auto echo = pods(c).get("web", {.resourceVersion = "5"});
  ASSERT_TRUE(echo) << echo.error().message();
  EXPECT_EQ((*echo)["method"], "GET");
  EXPECT_EQ((*echo)["path"], "/api/v1/namespaces/default/pods/web");
  EXPECT_EQ((*echo)["query"]["resourceVersion"], "5");
  EXPECT_EQ((*echo)["headers"]["authorization"], "Bearer tok");
  EXPECT_EQ((*echo)["headers"]["accept"], "application/json");
  EXPECT_EQ((*echo)["headers"]["user-agent"], "kubeapi-test");
}

TEST_F(RestClientTest, TokenFileWinsAndIsReread) {
  auto tokenFile = dir_.path() / "token";
  ASSERT_TRUE(writeFile(tokenFile, "first\n"));
  auto c = client({.bearerToken = "static", .bearerTokenFile = tokenFile.string()});
  auto echo = pods(c).get("x");
  ASSERT_TRUE(echo);
  EXPECT_EQ((*echo)["headers"]["authorization"], "Bearer first");
  ASSERT_TRUE(writeFile(tokenFile, "second"));
  clock_.advance(61s);  // rotated tokens are picked up within a minute
  echo = pods(c).get("x");
  ASSERT_TRUE(echo);
  EXPECT_EQ((*echo)["headers"]["authorization"], "Bearer second");
}

TEST_F(RestClientTest, ErrorsCarryTheServersStatus) {
  auto c = client();
  auto missing = pods(c).get("missing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().httpStatus(), 404);
  EXPECT_TRUE(missing.error().isNotFound());
  EXPECT_EQ(missing.error().message(), R"(pods "missing" not found)");
  EXPECT_EQ(missing.error().target().namespace_, "default");
  EXPECT_EQ(missing.error().target().name, "missing");

  auto plain = pods(c).get("plain404");
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().message(),
            "the server could not find the requested resource (get pods plain404)");
}

TEST_F(RestClientTest, RetriesAfterRetryAfter) {
  auto c = client();
  auto got = pods(c).get("throttled");
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(serverCount("GET /api/v1/namespaces/default/pods/throttled"), 3);
  EXPECT_GE(clock_.slept(), 6s);  // two answers of Retry-After: 3
}

TEST_F(RestClientTest, RetriesServerErrorsOnlyForReads) {
  auto c = client();
  auto created = pods(c).createSubresource("flaky", "", nlohmann::json::object());
  ASSERT_FALSE(created);  // a POST that failed with 500 may have done something: no retry
  EXPECT_EQ(created.error().httpStatus(), 500);
  EXPECT_EQ(serverCount("POST /api/v1/namespaces/default/pods/flaky"), 1);

  auto got = pods(c).get("flaky");
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(serverCount("GET /api/v1/namespaces/default/pods/flaky"), 3);

  auto limited = client({}, 3);
  auto broken = pods(limited).get("broken");
  ASSERT_FALSE(broken);
  EXPECT_EQ(serverCount("GET /api/v1/namespaces/default/pods/broken"), 4);
  EXPECT_EQ(broken.error().code(), Code::kInternal);
  EXPECT_EQ(broken.error().message(),
            R"(an error on the server ("boom") has prevented the request from succeeding )"
            R"((get pods broken))");
}

TEST_F(RestClientTest, ConnectionFailuresAreRetriedThenReported) {
  int port = freeLoopbackPort();
  ASSERT_GT(port, 0);  // nothing listens there
  RestConfig config{.host = "http://127.0.0.1:" + std::to_string(port)};
  auto c = RestClient::create(config, {.maxRetries = 2}, clock_);
  ASSERT_TRUE(c);
  auto got = (*c)->resource({"", "v1", "pods"}).inNamespace("default").get("x");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().httpStatus(), 0);
  EXPECT_EQ(got.error().code(), Code::kUnavailable);
  EXPECT_GT(clock_.slept(), 0ns);  // backed off between the attempts
  Error plain = got.error();
  EXPECT_EQ(plain.message().rfind("get pods default/x: ", 0), 0u) << plain.message();
}

TEST_F(RestClientTest, ClientSideRateLimit) {
  auto c = client({.qps = 1, .burst = 2});
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(pods(c).get("x"));
  EXPECT_EQ(clock_.slept(), 2s);  // burst of 2, then one token a second
}

TEST_F(RestClientTest, WritesSendTheRightVerbsBodiesAndOptions) {
  auto c = client();
  nlohmann::json pod = {{"apiVersion", "v1"},
                        {"kind", "Pod"},
                        {"metadata", {{"name", "web"}, {"namespace", "team"}}}};
  auto all = c->resource({"", "v1", "pods"});
  auto created = all.create(pod, {.dryRun = true, .fieldManager = "me"});
  ASSERT_TRUE(created) << created.error().message();
  EXPECT_EQ((*created)["method"], "POST");
  EXPECT_EQ((*created)["path"], "/api/v1/namespaces/team/pods");  // from the object
  EXPECT_EQ((*created)["query"], (nlohmann::json{{"dryRun", "All"}, {"fieldManager", "me"}}));
  EXPECT_EQ((*created)["headers"]["content-type"], "application/json");
  EXPECT_EQ(nlohmann::json::parse((*created)["body"].get<std::string>()), pod);

  auto status = all.updateStatus(pod);
  ASSERT_TRUE(status);
  EXPECT_EQ((*status)["method"], "PUT");
  EXPECT_EQ((*status)["path"], "/api/v1/namespaces/team/pods/web/status");

  struct PatchCase {
    PatchType type;
    const char* contentType;
  };
  for (const auto& p : std::initializer_list<PatchCase>{
           {PatchType::kJson, "application/json-patch+json"},
           {PatchType::kMerge, "application/merge-patch+json"},
           {PatchType::kStrategicMerge, "application/strategic-merge-patch+json"}}) {
    auto patched = pods(c).patch("web", p.type, "{}");
    ASSERT_TRUE(patched);
    EXPECT_EQ((*patched)["method"], "PATCH");
    EXPECT_EQ((*patched)["headers"]["content-type"], p.contentType);
  }
  auto applied = all.apply(pod, "berth-kubelet", true);
  ASSERT_TRUE(applied);
  EXPECT_EQ((*applied)["path"], "/api/v1/namespaces/team/pods/web");
  EXPECT_EQ((*applied)["headers"]["content-type"], "application/apply-patch+yaml");
  EXPECT_EQ((*applied)["query"],
            (nlohmann::json{{"fieldManager", "berth-kubelet"}, {"force", "true"}}));

  auto deleted = pods(c).remove("web", {.gracePeriodSeconds = 0,
                                        .propagationPolicy = "Foreground",
                                        .preconditionUid = "u1",
                                        .preconditionResourceVersion = "7"});
  ASSERT_TRUE(deleted);
  EXPECT_EQ((*deleted)["method"], "DELETE");
  EXPECT_EQ(nlohmann::json::parse((*deleted)["body"].get<std::string>()),
            nlohmann::json::parse(R"({"kind":"DeleteOptions","apiVersion":"v1",)"
                                  R"("gracePeriodSeconds":0,"propagationPolicy":"Foreground",)"
                                  R"("preconditions":{"uid":"u1","resourceVersion":"7"}})"));

  auto bound = pods(c).createSubresource("web", "binding", {{"target", {{"name", "node1"}}}});
  ASSERT_TRUE(bound);
  EXPECT_EQ((*bound)["path"], "/api/v1/namespaces/default/pods/web/binding");

  auto nodes = c->resource({"", "v1", "nodes"}, false).inNamespace("ignored");
  auto node = nodes.get("system:node:n1");
  ASSERT_TRUE(node);
  EXPECT_EQ((*node)["path"], "/api/v1/nodes/system:node:n1");
  auto deploys = c->resource({"apps", "v1", "deployments"}).inNamespace("ns");
  auto scale = deploys.get("d", {}, "scale");
  ASSERT_TRUE(scale);
  EXPECT_EQ((*scale)["path"], "/apis/apps/v1/namespaces/ns/deployments/d/scale");
}

TEST_F(RestClientTest, ListsWithSelectorsAndPages) {
  auto c = client();
  auto listed = pods(c).list({.labelSelector = "app in (a,b),!canary",
                              .fieldSelector = "spec.nodeName=n1",
                              .resourceVersion = "0",
                              .resourceVersionMatch = "NotOlderThan",
                              .limit = 500});
  ASSERT_TRUE(listed);
  EXPECT_EQ((*listed)["query"], (nlohmann::json{{"labelSelector", "app in (a,b),!canary"},
                                                {"fieldSelector", "spec.nodeName=n1"},
                                                {"resourceVersion", "0"},
                                                {"resourceVersionMatch", "NotOlderThan"},
                                                {"limit", "500"}}));

  auto cms = c->resource({"", "v1", "configmaps"});
  auto all = cms.inNamespace("paged").listAll({.limit = 2});
  ASSERT_TRUE(all) << all.error().message();
  ASSERT_EQ((*all)["items"].size(), 5u);
  EXPECT_EQ((*all)["items"][4]["metadata"]["name"], "cm4");
  EXPECT_FALSE((*all)["metadata"].contains("continue"));
  EXPECT_EQ(serverCount("GET /api/v1/namespaces/paged/configmaps"), 3);

  // An expired continue token: the pager lists everything at once instead.
  auto expiring = cms.inNamespace("expiring").listAll({.limit = 2});
  ASSERT_TRUE(expiring) << expiring.error().message();
  EXPECT_EQ((*expiring)["items"].size(), 5u);
}

TEST_F(RestClientTest, WatchDecodesTheStream) {
  auto c = client();
  auto w = pods(c).watch({.resourceVersion = "1", .allowWatchBookmarks = true});
  ASSERT_TRUE(w) << w.error().message();
  std::vector<std::string> seen;
  while (true) {
    auto n = (*w)->next(10s);
    ASSERT_NE(n.kind, WatchNext::Kind::kTimeout);
    if (n.kind == WatchNext::Kind::kClosed) {
      EXPECT_FALSE(n.error);
      break;
    }
    seen.push_back(std::string(WatchEvent::typeName(n.event.type)) + " " +
                   n.event.object["metadata"].value("resourceVersion", ""));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED 2", "MODIFIED 3", "BOOKMARK 9", "ERROR "}));
}

TEST_F(RestClientTest, WatchErrorsBeforeAndDuringTheStream) {
  auto c = client();
  auto gone = pods(c, "gone").watch({.resourceVersion = "1"});
  ASSERT_FALSE(gone);
  EXPECT_TRUE(gone.error().isResourceExpired());
  EXPECT_EQ(gone.error().message(), "too old resource version: 1 (5)");

  auto garbage = pods(c, "garbage").watch();
  ASSERT_TRUE(garbage);
  auto n = (*garbage)->next(10s);
  ASSERT_EQ(n.kind, WatchNext::Kind::kClosed);
  ASSERT_TRUE(n.error);
  EXPECT_EQ(n.error->code(), Code::kDataLoss);
}

TEST_F(RestClientTest, ASlowConsumerGetsEveryEventInOrder) {
  auto c = client();
  auto w = pods(c, "many").watch();
  ASSERT_TRUE(w);
  int expected = 0;
  while (true) {
    auto n = (*w)->next(20s);
    ASSERT_NE(n.kind, WatchNext::Kind::kTimeout);
    if (n.kind == WatchNext::Kind::kClosed) {
      EXPECT_FALSE(n.error);
      break;
    }
    ASSERT_EQ(n.event.object["metadata"]["name"], "p" + std::to_string(expected));
    ++expected;
  }
  EXPECT_EQ(expected, 5000);
}

TEST_F(RestClientTest, StopEndsAnIdleWatch) {
  auto c = client();
  auto w = pods(c, "idle").watch();
  ASSERT_TRUE(w);
  auto first = (*w)->next(10s);
  ASSERT_EQ(first.kind, WatchNext::Kind::kEvent);
  EXPECT_EQ((*w)->next(1ms).kind, WatchNext::Kind::kTimeout);
  std::thread stopper([&] { (*w)->stop(); });
  auto n = (*w)->next(30s);
  stopper.join();
  EXPECT_EQ(n.kind, WatchNext::Kind::kClosed);
  EXPECT_FALSE(n.error);
  w->reset();  // destroying it waits for the transfer to end
}

TEST_F(RestClientTest, TlsWithTheKubeconfigsEmbeddedCertificates) {
  if (!makeCertificates()) GTEST_SKIP() << "openssl can't make certificates here";
  auto file = [&](const char* name) { return readFile(dir_.path() / name).value(); };
  startServer({(dir_.path() / "srv.crt").string(), (dir_.path() / "srv.key").string(),
               (dir_.path() / "ca.crt").string()});

  auto kc = Kubeconfig::embedded("test", host_, file("ca.crt"), file("cli.crt"), file("cli.key"));
  ASSERT_TRUE(kc.write(dir_.path() / "admin.kubeconfig"));
  auto c = RestClient::fromKubeconfig(dir_.path() / "admin.kubeconfig");
  ASSERT_TRUE(c) << c.error().message();
  auto echo = (*c)->resource({"", "v1", "pods"}).inNamespace("default").get("x");
  ASSERT_TRUE(echo) << echo.error().message();
  EXPECT_EQ((*echo)["headers"]["x-client-cn"], "admin");

  // tls-server-name: verified as api.test, still connected to 127.0.0.1.
  auto named = kc;
  named.clusters["test"].tlsServerName = "api.test";
  auto namedConfig = named.restConfig();
  ASSERT_TRUE(namedConfig);
  auto viaName = RestClient::create(*namedConfig, {.maxRetries = 0}, clock_);
  ASSERT_TRUE(viaName);
  auto got = (*viaName)->resource({"", "v1", "pods"}).inNamespace("default").get("x");
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ((*got)["headers"]["x-client-cn"], "admin");
  named.clusters["test"].tlsServerName = "other.test";
  auto wrong = RestClient::create(*named.restConfig(), {.maxRetries = 0}, clock_);
  ASSERT_TRUE(wrong);
  auto mismatch = (*wrong)->resource({"", "v1", "pods"}).inNamespace("default").get("x");
  ASSERT_FALSE(mismatch);
  // A TLS failure is not an authentication failure (common/http_client's transport table).
  EXPECT_EQ(mismatch.error().code(), Code::kFailedPrecondition) << mismatch.error().message();

  // Without the CA the server can't be trusted: no request goes out.
  auto untrusted = RestClient::create({.host = host_}, {.maxRetries = 0}, clock_);
  ASSERT_TRUE(untrusted);
  auto refused = (*untrusted)->resource({"", "v1", "pods"}).inNamespace("default").get("x");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Code::kFailedPrecondition) << refused.error().message();
}

TEST_F(RestClientTest, ANewClientCertificateIsPresentedFromTheNextRequestOn) {
  if (!makeCertificates()) GTEST_SKIP() << "openssl can't make certificates here";
  auto file = [&](const char* name) { return readFile(dir_.path() / name).value(); };
  startServer({(dir_.path() / "srv.crt").string(), (dir_.path() / "srv.key").string(),
               (dir_.path() / "ca.crt").string()});
  auto c = client({.caData = file("ca.crt"),
                   .certFile = (dir_.path() / "cli.crt").string(),
                   .keyFile = (dir_.path() / "cli.key").string()});
  auto before = pods(c).get("x");
  ASSERT_TRUE(before) << before.error().message();
  EXPECT_EQ((*before)["headers"]["x-client-cn"], "admin");

  // As the kubelet swaps in its rotated certificate: the open connection is not reused.
  c->setClientCertificate(file("node.crt"), file("node.key"));
  auto after = pods(c).get("x");
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ((*after)["headers"]["x-client-cn"], "system:node:n1");
}

// nghttpd (nghttp2's reference server) as an independent HTTP/2 peer: the client speaks h2 over
// TLS, and concurrent requests from many threads share one connection.
TEST_F(RestClientTest, Http2MultiplexesOverOneConnection) {
  if (!makeCertificates()) GTEST_SKIP() << "openssl can't make certificates here";
  int freePort = freeLoopbackPort();  // nghttpd wants a number: a free one, taken at once
  ASSERT_GT(freePort, 0);
  std::string port = std::to_string(freePort);
  auto docroot = dir_.path() / "htdocs";
  ASSERT_TRUE(makeDirs(docroot / "api/v1/namespaces/default/pods"));
  ASSERT_TRUE(writeFile(docroot / "api/v1/namespaces/default/pods/web",
                        R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"web"}})"));
  auto log = dir_.path() / "nghttpd.log";
  auto nghttpd = startProgram(
      {.path = "nghttpd",
       .args = {"nghttpd", "-v", "-a", "127.0.0.1", "-d", docroot.string(), port,
                (dir_.path() / "srv.key").string(), (dir_.path() / "srv.crt").string()},
       .outputFile = log.string()});
  if (!nghttpd) GTEST_SKIP() << "nghttpd (nghttp2-server) is not installed";
  auto c = RestClient::create({.host = "https://127.0.0.1:" + port,
                               .caData = readFile(dir_.path() / "ca.crt").value(),
                               .qps = 0},
                              {}, clock_);
  ASSERT_TRUE(c);
  // Until nghttpd listens, connections are refused; GET retries them (on the fake clock), so
  // poll with a real deadline.
  ApiResult<EngineResponse> first = std::unexpected(ApiError::transport(Error(Code::kUnknown, "")));
  auto deadline = steady_clock::now() + 20s;
  while (steady_clock::now() < deadline) {
    first = (*c)->send({.path = "/api/v1/namespaces/default/pods/web"});
    if (first) break;
    std::this_thread::sleep_for(20ms);  // nghttpd starting, bounded by the deadline
  }
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->httpVersion, 3);  // CURL_HTTP_VERSION_2_0
  EXPECT_EQ(nlohmann::json::parse(first->body)["metadata"]["name"], "web");

  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto r = (*c)->resource({"", "v1", "pods"}).inNamespace("default").get("web");
        if (r && (*r)["metadata"]["name"] == "web") ++ok;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(ok, 80);
  nghttpd = ChildProcess();  // stop it so its log is complete
  auto text = readFile(log).value_or("");
  // nghttpd -v prints each new client session as "[id=N] ... session start"-like lines whose
  // ids count up: one connection means every line names id=1.
  EXPECT_NE(text.find("[id=1]"), std::string::npos) << text.substr(0, 2000);
  EXPECT_EQ(text.find("[id=2]"), std::string::npos) << "more than one connection";
}

TEST_F(RestClientTest, ManyThreadsShareOneClient) {
  auto c = client({.qps = 0});
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i)
        if (pods(c).get("t" + std::to_string(t))) ++ok;
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(ok, 80);
}

}  // namespace
}  // namespace berth::kubeapi
