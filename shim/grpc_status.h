#pragma once
// The one adapter from berth's Error to grpc::Status. Error codes are gRPC canonical codes
// (common/result.h), so the mapping is 1:1; handlers return toGrpcStatus(error).

#include <string_view>

#include <grpcpp/support/status.h>

#include "common/result.h"

namespace berth::cri {

grpc::Status toGrpcStatus(const Error& error);
grpc::Status toGrpcStatus(const Status& status);

// PullImage's failure as the kubelet reads it. A registry that can't be reached or can't serve
// (kUnavailable, kDeadlineExceeded: refused, unresolvable, timed out, 429/5xx) is UNKNOWN with
// the message starting "RegistryUnavailable: ": the kubelet passes UNKNOWN messages on bare and
// gives that prefix its own reason (RegistryUnavailable, k8s.io/cri-api/pkg/errors), as CRI-O
// does. Everything else keeps its code: NOT_FOUND (no such repository, tag or manifest),
// UNAUTHENTICATED (401), PERMISSION_DENIED (403), FAILED_PRECONDITION (TLS), DATA_LOSS (content
// that does not match its digest), INVALID_ARGUMENT (a bad reference).
grpc::Status pullImageStatus(const Error& error);

}  // namespace berth::cri
