#pragma once
// A gRPC server interceptor that logs each CRI call at debug level, one line when its status is
// sent: `[rpc=/runtime.v1.RuntimeService/Version code=OK ms=0.1] message`. Nothing is formatted
// unless the logger is at debug or below.

#include <memory>

#include <grpcpp/support/server_interceptor.h>
#include <spdlog/spdlog.h>

namespace berth::cri {

class RpcLogFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcLogFactory(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace berth::cri
