// The kubelet's API server end to end over TLS: curl (and a TLS WebSocket client of the test's
// own) as the caller, certificates made with openssl, a local stand-in for the API server's
// TokenReview and SubjectAccessReview endpoints, a test host with pods in memory and real CRI
// log files, and for the streams a stand-in CRI gRPC service whose Exec hands out URLs of
// berth-cri's real streaming server (running /bin/sh for the test).
#include "kubelet/server/kubelet_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/http/test_support.h"
#include "common/temp_dir_for_test.h"
#include "kubeapi/rest_client.h"
#include "kubelet/cri_client.h"
#include "kubelet/runtime_pod.h"
#include "shim/streaming/streaming_test_runtime.h"
#include "shim/streaming/websocket.h"

namespace berth::kubelet::server {
namespace {

using Json = nlohmann::json;
using http::testing::Curl;
using http::testing::FetchOptions;

// The API server's review endpoints: token "good" is tok-user; SARs are allowed except for
// the users in `deny`.
class ReviewServer {
 public:
  ReviewServer() {
    server_ = http::testing::startServer([this](http::Request& req, auto w) {
      std::lock_guard lock(mu_);
      auto body = Json::parse(req.body, nullptr, false);
      Json out = body;
      if (req.path == "/apis/authentication.k8s.io/v1/tokenreviews") {
        ++tokenReviews;
        bool good = body["spec"]["token"] == "good";
        out["status"] = {{"authenticated", good}};
        if (good) out["status"]["user"] = {{"username", "tok-user"}, {"groups", {"tg"}}};
      } else if (req.path == "/apis/authorization.k8s.io/v1/subjectaccessreviews") {
        lastSar = body["spec"];
        bool allowed = !deny.contains(body["spec"]["user"].get<std::string>());
        out["status"] = {{"allowed", allowed}};
      } else {
        return w->respond({404, {}, ""});
      }
      w->respond({201, {{"Content-Type", "application/json"}}, out.dump()});
    });
  }
  std::shared_ptr<kubeapi::RestClient> client() {
    kubeapi::RestConfig c;
    c.host = fmt::format("http://127.0.0.1:{}", server_->port());
    c.qps = 0;
    auto r = kubeapi::RestClient::create(c);
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : nullptr;
  }
  Json sar() {
    std::lock_guard lock(mu_);
    return lastSar;
  }
  int reviews() {
    std::lock_guard lock(mu_);
    return tokenReviews;
  }

  std::mutex mu_;
  int tokenReviews = 0;
  Json lastSar;
  std::set<std::string> deny;
  std::unique_ptr<http::Server> server_;
};

// The CRI runtime's part: Exec/Attach/PortForward URLs from the real streaming server, and
// fixed stats for one pod.
class CriStandIn final : public cri::RuntimeService::Service {
 public:
  explicit CriStandIn(shim::StreamingServer& streaming) : streaming_(streaming) {}
  grpc::Status Exec(grpc::ServerContext*, const cri::ExecRequest* r,
                    cri::ExecResponse* out) override {
    auto url = streaming_.execUrl({.containerId = r->container_id(),
                                   .cmd = {r->cmd().begin(), r->cmd().end()},
                                   .tty = r->tty(),
                                   .stdin = r->stdin(),
                                   .stdout = r->stdout(),
                                   .stderr = r->stderr()});
    if (!url) return grpc::Status(grpc::StatusCode::INTERNAL, url.error().message());
    out->set_url(*url);
    return grpc::Status::OK;
  }
  grpc::Status ListPodSandboxStats(grpc::ServerContext*, const cri::ListPodSandboxStatsRequest*,
                                   cri::ListPodSandboxStatsResponse* out) override {
    auto* s = out->add_stats();
    auto* md = s->mutable_attributes()->mutable_metadata();
    md->set_name("web"), md->set_namespace_("default"), md->set_uid("uid-1");
    auto* n = s->mutable_linux()->mutable_network();
    n->set_timestamp(kNow);
    n->mutable_default_interface()->set_name("eth0");
    n->mutable_default_interface()->mutable_rx_bytes()->set_value(100);
    return grpc::Status::OK;
  }
  grpc::Status ListContainerStats(grpc::ServerContext*, const cri::ListContainerStatsRequest*,
                                  cri::ListContainerStatsResponse* out) override {
    auto* c = out->add_stats();
    c->mutable_attributes()->mutable_metadata()->set_name("app");
    (*c->mutable_attributes()->mutable_labels())[kPodUidLabel] = "uid-1";
    c->mutable_cpu()->set_timestamp(kNow);
    c->mutable_cpu()->mutable_usage_core_nano_seconds()->set_value(2'500'000'000);
    c->mutable_memory()->set_timestamp(kNow);
    c->mutable_memory()->mutable_working_set_bytes()->set_value(4096);
    return grpc::Status::OK;
  }
  static constexpr std::int64_t kNow = 1'700'000'000'000'000'000;

 private:
  shim::StreamingServer& streaming_;
};

class TestHost final : public KubeletServerHost {
 public:
  TestHost(const std::string& criEndpoint, std::filesystem::path logPath)
      : cri_(criEndpoint, std::chrono::seconds(5)), logPath_(std::move(logPath)) {}
  std::vector<Json> pods() override {
    return {Json{{"metadata", {{"name", "web"}, {"namespace", "default"}, {"uid", "uid-1"}}}}};
  }
  std::vector<Json> runningPods() override {
    return {Json{{"metadata", {{"name", "web"}, {"namespace", "default"}, {"uid", "uid-1"}}},
                 {"spec", {{"containers", {{{"name", "app"}, {"image", "busybox"}}}}}}}};
  }
  Result<ContainerLogLocation> containerLog(const std::string& ns, const std::string& pod,
                                            const std::string& container, bool) override {
    if (ns != "default" || pod != "web")
      return fail(Code::kNotFound, "pod \"{}\" does not exist", pod);
    if (container != "app")
      return fail(Code::kNotFound, "container \"{}\" not found in pod \"{}\"", container, pod);
    return ContainerLogLocation{logPath_.string(), "c1"};
  }
  bool containerRunning(const std::string&) override { return running; }
  Result<std::string> containerId(const std::string& ns, const std::string& pod, const std::string&,
                                  const std::string& container) override {
    if (ns != "default" || pod != "web" || container != "app")
      return fail(Code::kNotFound, "pod does not exist");
    return std::string("c1");
  }
  Result<std::string> podSandboxId(const std::string&, const std::string&,
                                   const std::string&) override {
    return std::string("s1");
  }
  CriClient& cri() override { return cri_; }
  Json configz() override { return {{"port", 10250}}; }
  Status syncLoopHealthy() override {
    if (syncOk) return {};
    return fail(Code::kUnavailable, "sync loop stalled");
  }
  std::atomic<bool> running{true};
  std::atomic<bool> syncOk{true};

 private:
  CriClient cri_;
  std::filesystem::path logPath_;
};

class KubeletServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(certs_.make());
    auto streaming = shim::StreamingServer::start("127.0.0.1:0", shell_);
    ASSERT_TRUE(streaming) << streaming.error().message();
    streaming_ = std::move(*streaming);
    criService_ = std::make_unique<CriStandIn>(*streaming_);
    std::string endpoint = "unix://" + (dir_.path() / "cri.sock").string();
    grpc::ServerBuilder b;
    b.AddListeningPort(endpoint, grpc::InsecureServerCredentials());
    b.RegisterService(criService_.get());
    grpcServer_ = b.BuildAndStart();
    ASSERT_TRUE(grpcServer_);
    logPath_ = dir_.path() / "0.log";
    ASSERT_TRUE(writeFile(logPath_,
                          "2024-01-01T00:00:01Z stdout F one\n"
                          "2024-01-01T00:00:02Z stderr P tw\n"
                          "2024-01-01T00:00:03Z stderr F o\n"));
    host_ = std::make_unique<TestHost>(endpoint, logPath_);
    start();
  }
  void TearDown() override {
    if (server_) server_->shutdown(std::chrono::seconds(1));
    if (grpcServer_) grpcServer_->Shutdown();
  }
  void start(bool anonymous = false) {
    if (server_) server_->shutdown(std::chrono::seconds(1));
    KubeletServerOptions o;
    o.nodeName = "node-1";
    o.bindAddress = "127.0.0.1";
    o.port = 0;
    o.certDirectory = (dir_.path() / "pki").string();
    o.nodeIps = {"127.0.0.1"};
    o.clientCaFile = certs_.caFile();
    o.authentication.anonymous = anonymous;
    o.logFollowRecheck = std::chrono::milliseconds(50);
    auto s = KubeletServer::start(o, *host_, reviews_.client());
    ASSERT_TRUE(s) << s.error().message();
    server_ = std::move(*s);
  }
  std::string url(const std::string& path) {
    return fmt::format("https://127.0.0.1:{}{}", server_->port(), path);
  }
  FetchOptions asAlice() {
    return {.caFile = server_->certFile(),
            .certFile = certs_.p("client.pem"),
            .keyFile = certs_.p("client.key")};
  }
  FetchOptions anonymous(std::vector<std::string> headers = {}) {
    return {.headers = std::move(headers), .caFile = server_->certFile()};
  }

  berth::testing::TempDir dir_{"berth-kubelet-server"};
  http::testing::Certificates certs_;
  shim::streaming_test::ShellRuntime shell_;
  std::unique_ptr<shim::StreamingServer> streaming_;
  std::unique_ptr<CriStandIn> criService_;
  std::unique_ptr<grpc::Server> grpcServer_;
  std::filesystem::path logPath_;
  std::unique_ptr<TestHost> host_;
  ReviewServer reviews_;
  std::unique_ptr<KubeletServer> server_;
  Curl curl_;
};

TEST_F(KubeletServerTest, GeneratesASelfSignedServingCertWithAPrivateKey) {
  EXPECT_EQ(server_->certFile(), (dir_.path() / "pki" / "kubelet.crt").string());
  struct stat st {};
  ASSERT_EQ(::stat((dir_.path() / "pki" / "kubelet.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // curl verified the server against that certificate for 127.0.0.1.
  auto f = curl_.fetch(url("/healthz"), asAlice());
  EXPECT_EQ(f.code, CURLE_OK) << f.error;
  EXPECT_EQ(f.status, 200);
  EXPECT_EQ(f.body, "ok");
}

TEST_F(KubeletServerTest, ClientCertificateUserIsAuthorizedBySubjectAccessReview) {
  auto f = curl_.fetch(url("/pods"), asAlice());
  ASSERT_EQ(f.status, 200) << f.body;
  auto list = Json::parse(f.body);
  EXPECT_EQ(list["kind"], "PodList");
  EXPECT_EQ(list["items"][0]["metadata"]["name"], "web");
  auto sar = reviews_.sar();
  EXPECT_EQ(sar["user"], "alice");
  EXPECT_EQ(sar["groups"], Json::array({"dev", "ops", "system:authenticated"}));
  EXPECT_EQ(sar["resourceAttributes"]["verb"], "get");
  EXPECT_EQ(sar["resourceAttributes"]["resource"], "nodes");
  EXPECT_EQ(sar["resourceAttributes"]["subresource"], "proxy");
  EXPECT_EQ(sar["resourceAttributes"]["name"], "node-1");
}

TEST_F(KubeletServerTest, UntrustedClientCertificateIsRefused) {
  auto o = asAlice();
  o.certFile = certs_.p("rogue.pem");
  o.keyFile = certs_.p("rogue.key");
  auto f = curl_.fetch(url("/pods"), o);
  EXPECT_TRUE(f.code != CURLE_OK || f.status == 401) << f.status;
}

TEST_F(KubeletServerTest, NoCredentialsIsUnauthorizedUnlessAnonymous) {
  auto f = curl_.fetch(url("/pods"), anonymous());
  EXPECT_EQ(f.status, 401);
  EXPECT_EQ(f.body, "Unauthorized");
  start(/*anonymous=*/true);
  reviews_.deny.insert("system:anonymous");
  f = curl_.fetch(url("/configz"), anonymous());
  EXPECT_EQ(f.status, 403);
  EXPECT_EQ(f.body,
            "Forbidden (user=system:anonymous, verb=get, resource=nodes, subresource(s)=[proxy])");
  EXPECT_EQ(reviews_.sar()["groups"], Json::array({"system:unauthenticated"}));
  reviews_.deny.clear();
  // The denial is cached for 30 s (cacheUnauthorizedTTL); another subresource is asked anew.
  EXPECT_EQ(curl_.fetch(url("/configz"), anonymous()).status, 403);
  f = curl_.fetch(url("/metrics/probes"), anonymous());
  EXPECT_EQ(f.status, 200);
  start(/*anonymous=*/true);  // a new server, a new cache
  f = curl_.fetch(url("/configz"), anonymous());
  EXPECT_EQ(f.status, 200);
  EXPECT_EQ(Json::parse(f.body)["kubeletconfig"]["port"], 10250);
}

TEST_F(KubeletServerTest, BearerTokensAreReviewedOnceAndBadOnesAreNeverAnonymous) {
  start(/*anonymous=*/true);
  for (int i = 0; i < 2; ++i) {
    auto f = curl_.fetch(url("/metrics/probes"), anonymous({"Authorization: Bearer good"}));
    EXPECT_EQ(f.status, 200) << f.body;
  }
  EXPECT_EQ(reviews_.reviews(), 1);  // the second came from the cache
  EXPECT_EQ(reviews_.sar()["user"], "tok-user");
  EXPECT_EQ(reviews_.sar()["resourceAttributes"]["subresource"], "metrics");
  auto f = curl_.fetch(url("/metrics/probes"), anonymous({"Authorization: Bearer bad"}));
  EXPECT_EQ(f.status, 401);
}

TEST_F(KubeletServerTest, UnknownPathsAreNotFoundAndHealthzReportsTheSyncLoop) {
  EXPECT_EQ(curl_.fetch(url("/nope"), anonymous()).status, 404);
  EXPECT_EQ(curl_.fetch(url("/healthz/ping"), asAlice()).body, "ok");
  host_->syncOk = false;
  auto f = curl_.fetch(url("/healthz"), asAlice());
  EXPECT_EQ(f.status, 500);
  EXPECT_NE(f.body.find("[-]syncloop failed"), std::string::npos) << f.body;
  EXPECT_EQ(curl_.fetch(url("/healthz/syncloop"), asAlice()).status, 500);
  EXPECT_EQ(curl_
                .fetch(url("/pods"), {.method = "POST",
                                      .caFile = server_->certFile(),
                                      .certFile = certs_.p("client.pem"),
                                      .keyFile = certs_.p("client.key")})
                .status,
            405);
}

TEST_F(KubeletServerTest, RunningPodsAreAPodListOfRuntimePods) {
  auto f = curl_.fetch(url("/runningpods/"), asAlice());
  ASSERT_EQ(f.status, 200);
  auto list = Json::parse(f.body);
  EXPECT_EQ(list["apiVersion"], "v1");
  EXPECT_EQ(list["items"][0]["spec"]["containers"][0]["name"], "app");
}

TEST_F(KubeletServerTest, ContainerLogsDecodeTheCriFile) {
  auto f = curl_.fetch(url("/containerLogs/default/web/app"), asAlice());
  EXPECT_EQ(f.status, 200);
  EXPECT_EQ(f.body, "one\ntwo\n");
  f = curl_.fetch(url("/containerLogs/default/web/app?tailLines=2&timestamps=true"), asAlice());
  EXPECT_EQ(f.body, "2024-01-01T00:00:02.000000000Z two\n");
  f = curl_.fetch(url("/containerLogs/default/web/app?sinceTime=2024-01-01T00:00:02Z&limitBytes=2"),
                  asAlice());
  EXPECT_EQ(f.body, "tw");
  f = curl_.fetch(url("/containerLogs/default/nope/app"), asAlice());
  EXPECT_EQ(f.status, 404);
  EXPECT_EQ(f.body, "pod \"nope\" does not exist");
  f = curl_.fetch(url("/containerLogs/default/web/app?tailLines=-1"), asAlice());
  EXPECT_EQ(f.status, 422);
  f = curl_.fetch(
      url("/containerLogs/default/web/app?sinceSeconds=5&sinceTime=2024-01-01T00:00:02Z"),
      asAlice());
  EXPECT_EQ(f.status, 422);
  f = curl_.fetch(url("/containerLogs/default/web/app?tailLines=x"), asAlice());
  EXPECT_EQ(f.status, 400);
  EXPECT_EQ(f.body, R"({"message": "Unable to decode query."})");
}

TEST_F(KubeletServerTest, FollowedLogsStreamUntilTheContainerExits) {
  std::atomic<bool> gotFirst{false};
  std::thread writer([&] {
    while (!gotFirst)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto fd = openFd(logPath_, O_WRONLY | O_APPEND | O_CLOEXEC);
    ASSERT_TRUE(fd);
    ASSERT_TRUE(writeAll(fd->get(), "2024-01-01T00:00:04Z stdout F three\n"));
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    host_->running = false;
  });
  auto o = asAlice();
  std::string body;
  o.onData = [&](std::string_view d) {
    body += d;
    gotFirst = true;
    return true;
  };
  auto f = curl_.fetch(url("/containerLogs/default/web/app?follow=true"), o);
  writer.join();
  EXPECT_EQ(f.code, CURLE_OK) << f.error;
  EXPECT_EQ(f.status, 200);
  EXPECT_EQ(body, "one\ntwo\nthree\n");
}

TEST_F(KubeletServerTest, StatsSummaryAndResourceMetricsComeFromTheRuntime) {
  auto f = curl_.fetch(url("/stats/summary"), asAlice());
  ASSERT_EQ(f.status, 200) << f.body;
  auto s = Json::parse(f.body);
  EXPECT_EQ(s["node"]["nodeName"], "node-1");
  EXPECT_TRUE(s["node"]["cpu"].contains("usageCoreNanoSeconds"));
  EXPECT_TRUE(s["node"]["memory"].contains("workingSetBytes"));
  auto pod = s["pods"][0];
  EXPECT_EQ(pod["podRef"], (Json{{"name", "web"}, {"namespace", "default"}, {"uid", "uid-1"}}));
  EXPECT_EQ(pod["containers"][0]["name"], "app");
  EXPECT_EQ(pod["containers"][0]["cpu"]["usageCoreNanoSeconds"], 2'500'000'000ULL);
  EXPECT_EQ(pod["memory"]["workingSetBytes"], 4096);  // summed from its containers
  EXPECT_EQ(pod["network"]["name"], "eth0");
  EXPECT_EQ(pod["network"]["rxBytes"], 100);
  EXPECT_EQ(reviews_.sar()["resourceAttributes"]["subresource"], "stats");

  f = curl_.fetch(url("/metrics/resource"), asAlice());
  ASSERT_EQ(f.status, 200);
  EXPECT_NE(f.body.find("container_cpu_usage_seconds_total{container=\"app\",namespace=\"default\","
                        "pod=\"web\"} 2.5 1700000000000\n"),
            std::string::npos)
      << f.body;
  EXPECT_NE(f.body.find("pod_memory_working_set_bytes{namespace=\"default\",pod=\"web\"} 4096"),
            std::string::npos);
  EXPECT_NE(f.body.find("\nnode_memory_working_set_bytes "), std::string::npos);
}

// A WebSocket client over TLS: enough of RFC 6455 to run one exec.
class TlsWebSocket {
 public:
  TlsWebSocket(std::uint16_t port, const std::string& cert, const std::string& key) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_use_certificate_file(ctx_, cert.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM);
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_.get());
    EXPECT_EQ(SSL_connect(ssl_), 1);
  }
  ~TlsWebSocket() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  std::string upgrade(const std::string& path, const std::string& protocol) {
    std::string req = fmt::format(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: {}\r\n\r\n",
        path, protocol);
    SSL_write(ssl_, req.data(), static_cast<int>(req.size()));
    while (buf_.find("\r\n\r\n") == std::string::npos && fill()) {
    }
    auto end = buf_.find("\r\n\r\n");
    std::string head = buf_.substr(0, end + 4);
    reader_.feed(buf_.substr(end + 4));
    return head;
  }
  // Channel data until the server's close frame.
  std::map<int, std::string> collect() {
    std::map<int, std::string> out;
    while (true) {
      auto m = reader_.next();
      if (!m) return out;
      if (!*m) {
        buf_.clear();
        if (!fill()) return out;
        reader_.feed(buf_);
        continue;
      }
      if ((*m)->opcode == shim::ws::Opcode::kClose) return out;
      auto c = shim::ws::decodeChannel(false, (*m)->payload);
      if (c) out[c->channel] += c->data;
    }
  }

 private:
  bool fill() {
    char b[4096];
    int n = SSL_read(ssl_, b, sizeof b);
    if (n <= 0) return false;
    buf_.append(b, static_cast<std::size_t>(n));
    return true;
  }
  UniqueFd fd_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buf_;
  shim::ws::MessageReader reader_{1 << 24, /*peerMasks=*/false};
};

TEST_F(KubeletServerTest, ExecIsProxiedToTheRuntimesStreamingServer) {
  TlsWebSocket ws(server_->port(), certs_.p("client.pem"), certs_.p("client.key"));
  std::string head = ws.upgrade(
      "/exec/default/web/app?command=echo%20out%3B%20echo%20err%20%3E%262&stdout=1&stderr=1",
      "v4.channel.k8s.io");
  ASSERT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
  // The runtime's answer to the client's key passes through unchanged.
  EXPECT_NE(head.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << head;
  EXPECT_NE(head.find("v4.channel.k8s.io"), std::string::npos) << head;
  auto got = ws.collect();
  EXPECT_EQ(got[1], "out\n");
  EXPECT_EQ(got[2], "err\n");
  EXPECT_EQ(Json::parse(got[3])["status"], "Success");
  EXPECT_EQ(reviews_.sar()["resourceAttributes"]["verb"], "get");
  EXPECT_EQ(reviews_.sar()["resourceAttributes"]["subresource"], "proxy");
}

TEST_F(KubeletServerTest, ExecNeedsAnUpgradeAndAKnownContainer) {
  auto f = curl_.fetch(url("/exec/default/web/app?command=true&stdout=1"), asAlice());
  EXPECT_EQ(f.status, 400);
  auto o = asAlice();
  o.headers = {"Connection: Upgrade", "Upgrade: SPDY/3.1"};
  f = curl_.fetch(url("/exec/default/other/app?command=true&stdout=1"), o);
  EXPECT_EQ(f.status, 404);
  f = curl_.fetch(url("/exec/default/web/app?command=true"), o);
  EXPECT_EQ(f.status, 400);
  EXPECT_NE(f.body.find("at least 1 of stdin, stdout, stderr"), std::string::npos);
}

}  // namespace
}  // namespace berth::kubelet::server
