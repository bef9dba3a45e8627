#include "kubelet/prober/grpc_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <mutex>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <gtest/gtest.h>

#include "common/free_port_for_test.h"
#include "common/unique_fd.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "runtime/v1/api.grpc.pb.h"

namespace berth::kubelet::prober {
namespace {

using namespace std::chrono_literals;
namespace health = ::grpc::health::v1;

struct GrpcServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  ~GrpcServer() {
    if (server) server->Shutdown(std::chrono::system_clock::now() + 1s);
  }
};

// Any other service (all its methods unimplemented): a sync server needs one to start.
class OtherService final : public ::runtime::v1::RuntimeService::Service {};

// A gRPC server on 127.0.0.1 with `service` (null: one that is not the health service) and,
// when asked, gRPC's own implementation of the health service.
std::unique_ptr<GrpcServer> startServer(grpc::Service* service, bool defaultHealth) {
  static OtherService other;
  grpc::EnableDefaultHealthCheckService(defaultHealth);  // read by BuildAndStart
  auto s = std::make_unique<GrpcServer>();
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &s->port);
  b.RegisterService(service ? service : &other);
  s->server = b.BuildAndStart();
  grpc::EnableDefaultHealthCheckService(false);
  EXPECT_TRUE(s->server);
  EXPECT_NE(s->port, 0);
  return s;
}

// A health service of ours, for what gRPC's cannot do: answer slowly, show the User-Agent.
class ScriptedHealth final : public health::Health::Service {
 public:
  grpc::Status Check(grpc::ServerContext* ctx, const health::HealthCheckRequest* req,
                     health::HealthCheckResponse* resp) override {
    {
      std::lock_guard lock(mu_);
      auto ua = ctx->client_metadata().find("user-agent");
      if (ua != ctx->client_metadata().end())
        userAgent_.assign(ua->second.data(), ua->second.size());
    }
    if (req->service() == "slow") std::this_thread::sleep_for(1500ms);
    resp->set_status(req->service() == "down" ? health::HealthCheckResponse::NOT_SERVING
                                              : health::HealthCheckResponse::SERVING);
    return grpc::Status::OK;
  }
  std::string userAgent() {
    std::lock_guard lock(mu_);
    return userAgent_;
  }

 private:
  std::mutex mu_;
  std::string userAgent_;
};

TEST(GrpcProbeTest, GrpcHealthServiceServingAndNot) {
  auto s = startServer(nullptr, true);
  ASSERT_TRUE(s->server);
  s->server->GetHealthCheckService()->SetServingStatus("db", false);

  ProbeOutcome ok = grpcProbe("127.0.0.1", s->port, "", 2s);
  EXPECT_EQ(ok.result, HandlerResult::kSuccess) << ok.output;
  EXPECT_EQ(ok.output, "service healthy");

  ProbeOutcome down = grpcProbe("127.0.0.1", s->port, "db", 2s);
  EXPECT_EQ(down.result, HandlerResult::kFailure);
  EXPECT_EQ(down.output, "service unhealthy (responded with \"NOT_SERVING\")");

  ProbeOutcome unknown = grpcProbe("127.0.0.1", s->port, "nope", 2s);
  EXPECT_EQ(unknown.result, HandlerResult::kFailure);
  EXPECT_EQ(unknown.output.rfind("error: health rpc probe failed: rpc error: code = NOT_FOUND", 0),
            0u)
      << unknown.output;
}

TEST(GrpcProbeTest, OurServiceSeesTheUserAgentAndSlowAnswerTimesOut) {
  ScriptedHealth svc;
  auto s = startServer(&svc, false);
  ASSERT_TRUE(s->server);
  ProbeOutcome ok = grpcProbe("127.0.0.1", s->port, "app", 2s);
  EXPECT_EQ(ok.result, HandlerResult::kSuccess) << ok.output;
  EXPECT_EQ(svc.userAgent().rfind("kube-probe/1.32", 0), 0u) << svc.userAgent();

  ProbeOutcome down = grpcProbe("127.0.0.1", s->port, "down", 2s);
  EXPECT_EQ(down.output, "service unhealthy (responded with \"NOT_SERVING\")");

  ProbeOutcome slow = grpcProbe("127.0.0.1", s->port, "slow", 500ms);
  EXPECT_EQ(slow.result, HandlerResult::kFailure);
  EXPECT_EQ(slow.output, "timeout: health rpc did not complete within 500ms");
}

TEST(GrpcProbeTest, ServerWithoutHealthServiceIsUnimplemented) {
  auto s = startServer(nullptr, false);
  ASSERT_TRUE(s->server);
  ProbeOutcome o = grpcProbe("127.0.0.1", s->port, "", 2s);
  EXPECT_EQ(o.result, HandlerResult::kFailure);
  EXPECT_EQ(o.output.rfind("error: this server does not implement the grpc health protocol "
                           "(grpc.health.v1.Health): ",
                           0),
            0u)
      << o.output;
}

TEST(GrpcProbeTest, NothingListeningTimesOutConnecting) {
  auto port = berth::testing::freeLoopbackPort();
  ASSERT_TRUE(port);
  ProbeOutcome o = grpcProbe("127.0.0.1", *port, "", 500ms);
  EXPECT_EQ(o.result, HandlerResult::kFailure);
  EXPECT_EQ(o.output, "timeout: failed to connect service \"127.0.0.1:" + std::to_string(*port) +
                          "\" within 500ms: context deadline exceeded");
}

}  // namespace
}  // namespace berth::kubelet::prober
