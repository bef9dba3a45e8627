#include "shim/grpc_status.h"

#include <gtest/gtest.h>

namespace berth::cri {
namespace {

// What the kubelet gets from PullImage for each cause a pull can fail on (the messages are the
// images library's; the table pins the codes and the RegistryUnavailable prefix).
TEST(PullImageStatus, EachCauseHasItsCodeAndTheKubeletsReason) {
  struct Case {
    const char* cause;
    Code code;
    grpc::StatusCode want;
    bool registryUnavailable;
  };
  const Case cases[] = {
      {"connection refused", Code::kUnavailable, grpc::StatusCode::UNKNOWN, true},
      {"a registry that went quiet", Code::kDeadlineExceeded, grpc::StatusCode::UNKNOWN, true},
      {"HTTP 503", Code::kUnavailable, grpc::StatusCode::UNKNOWN, true},
      {"TLS handshake", Code::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION, false},
      {"HTTP 401", Code::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED, false},
      {"HTTP 403", Code::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED, false},
      {"HTTP 404", Code::kNotFound, grpc::StatusCode::NOT_FOUND, false},
      {"digest mismatch", Code::kDataLoss, grpc::StatusCode::DATA_LOSS, false},
      {"invalid reference", Code::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT, false},
      {"schema 1", Code::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED, false},
      {"anything else", Code::kUnknown, grpc::StatusCode::UNKNOWN, false},
  };
  const std::string message = "pull 127.0.0.1:5000/busybox:latest: http://127.0.0.1:5000: cause";
  for (const auto& c : cases) {
    grpc::Status st = pullImageStatus(Error(c.code, message));
    EXPECT_EQ(st.error_code(), c.want) << c.cause;
    EXPECT_EQ(st.error_message(), (c.registryUnavailable ? "RegistryUnavailable: " : "") + message)
        << c.cause;
  }
}

}  // namespace
}  // namespace berth::cri
