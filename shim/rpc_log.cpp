#include "shim/rpc_log.h"

#include <chrono>
#include <string_view>

namespace berth::cri {

namespace {

using grpc::experimental::InterceptionHookPoints;

std::string_view codeName(grpc::StatusCode code) {
  static constexpr std::string_view kNames[] = {"OK",
                                                "CANCELLED",
                                                "UNKNOWN",
                                                "INVALID_ARGUMENT",
                                                "DEADLINE_EXCEEDED",
                                                "NOT_FOUND",
                                                "ALREADY_EXISTS",
                                                "PERMISSION_DENIED",
                                                "RESOURCE_EXHAUSTED",
                                                "FAILED_PRECONDITION",
                                                "ABORTED",
                                                "OUT_OF_RANGE",
                                                "UNIMPLEMENTED",
                                                "INTERNAL",
                                                "UNAVAILABLE",
                                                "DATA_LOSS",
                                                "UNAUTHENTICATED"};
  auto i = static_cast<std::size_t>(code);
  return i < std::size(kNames) ? kNames[i] : "?";
}

class RpcLog final : public grpc::experimental::Interceptor {
 public:
  RpcLog(spdlog::logger& logger, const char* method) : logger_(logger), method_(method) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status st = methods->GetSendStatus();
      std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start_;
      logger_.debug("[rpc={} code={} ms={:.1f}]{}{}", method_, codeName(st.error_code()),
                    took.count(), st.error_message().empty() ? "" : " ", st.error_message());
    }
    methods->Proceed();
  }

 private:
  spdlog::logger& logger_;
  const char* method_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

grpc::experimental::Interceptor* RpcLogFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  // No interceptor at all unless debug lines are wanted: nothing is paid per call.
  if (!logger_->should_log(spdlog::level::debug)) return nullptr;
  return new RpcLog(*logger_, info->method());
}

}  // namespace berth::cri
