#include "shim/grpc_status.h"

#include <fmt/format.h>

namespace berth::cri {

namespace {

// Code mirrors grpc::StatusCode value for value.
static_assert(static_cast<int>(Code::kCancelled) == grpc::StatusCode::CANCELLED);
static_assert(static_cast<int>(Code::kInvalidArgument) == grpc::StatusCode::INVALID_ARGUMENT);
static_assert(static_cast<int>(Code::kNotFound) == grpc::StatusCode::NOT_FOUND);
static_assert(static_cast<int>(Code::kFailedPrecondition) == grpc::StatusCode::FAILED_PRECONDITION);
static_assert(static_cast<int>(Code::kUnimplemented) == grpc::StatusCode::UNIMPLEMENTED);
static_assert(static_cast<int>(Code::kUnauthenticated) == grpc::StatusCode::UNAUTHENTICATED);

}  // namespace

grpc::Status toGrpcStatus(const Error& error) {
  // kOk carried by an Error is a bug upstream of here; never report success for it.
  auto code = error.code() == Code::kOk ? grpc::StatusCode::UNKNOWN
                                        : static_cast<grpc::StatusCode>(error.code());
  return grpc::Status(code, error.message());
}

grpc::Status toGrpcStatus(const Status& status) {
  return status ? grpc::Status::OK : toGrpcStatus(status.error());
}

grpc::Status pullImageStatus(const Error& error) {
  if (error.code() == Code::kUnavailable || error.code() == Code::kDeadlineExceeded) {
    return grpc::Status(grpc::StatusCode::UNKNOWN, "RegistryUnavailable: " + error.message());
  }
  return toGrpcStatus(error);
}

}  // namespace berth::cri
