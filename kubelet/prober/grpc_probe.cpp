#include "kubelet/prober/grpc_probe.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "grpc/health/v1/health.grpc.pb.h"
#include "kubeapi/go_duration.h"

namespace berth::kubelet::prober {

namespace health = ::grpc::health::v1;

ProbeOutcome grpcProbe(const std::string& host, int port, const std::string& service,
                       std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::system_clock::now() + timeout;
  const std::string addr = host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                                               : fmt::format("{}:{}", host, port);
  const std::string within = kubeapi::formatGoDuration(timeout);

  grpc::ChannelArguments args;
  args.SetUserAgentPrefix(kubeUserAgent("probe"));
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  // A connection of its own per probe, as grpc.DialContext upstream: a probe must not pass on
  // the strength of another channel's connection.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args);
  if (!channel->WaitForConnected(deadline)) {
    return {HandlerResult::kFailure,
            fmt::format("timeout: failed to connect service \"{}\" within {}: context deadline "
                        "exceeded",
                        addr, within)};
  }

  auto stub = health::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline);
  health::HealthCheckRequest req;
  req.set_service(service);
  health::HealthCheckResponse resp;
  grpc::Status st = stub->Check(&ctx, req, &resp);
  if (!st.ok()) {
    switch (st.error_code()) {
      case grpc::StatusCode::UNIMPLEMENTED:
        return {HandlerResult::kFailure,
                "error: this server does not implement the grpc health protocol "
                "(grpc.health.v1.Health): " +
                    st.error_message()};
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        return {HandlerResult::kFailure,
                fmt::format("timeout: health rpc did not complete within {}", within)};
      default:
        return {HandlerResult::kFailure,
                fmt::format("error: health rpc probe failed: rpc error: code = {} desc = {}",
                            codeName(static_cast<Code>(st.error_code())), st.error_message())};
    }
  }
  if (resp.status() != health::HealthCheckResponse::SERVING) {
    return {HandlerResult::kFailure,
            fmt::format("service unhealthy (responded with \"{}\")",
                        health::HealthCheckResponse::ServingStatus_Name(resp.status()))};
  }
  return {HandlerResult::kSuccess, "service healthy"};
}

}  // namespace berth::kubelet::prober
