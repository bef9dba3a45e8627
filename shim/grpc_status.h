#pragma once
// The one adapter from berth's Error to grpc::Status. Error codes are gRPC canonical codes
// (common/result.h), so the mapping is 1:1; handlers return toGrpcStatus(error).

#include <string_view>

#include <grpcpp/support/status.h>

#include "common/result.h"

namespace berth::cri {

grpc::Status toGrpcStatus(const Error& error);
grpc::Status toGrpcStatus(const Status& status);

}  // namespace berth::cri
