#include "controlplane/apiserver/api_error.h"

namespace berth::controlplane::apiserver {

ApiError apiErrorFrom(const Error& error, const GroupResource& resource, std::string_view name) {
  switch (error.code()) {
    case Code::kNotFound:
      return kubeapi::notFoundStatus(resource, name);
    case Code::kAlreadyExists:
      return kubeapi::alreadyExistsStatus(resource, name);
    case Code::kAborted:
      return kubeapi::optimisticLockConflictStatus(resource, name);
    case Code::kOutOfRange:
      return kubeapi::resourceExpiredStatus(error.message());
    case Code::kUnavailable:
      return kubeapi::serviceUnavailableStatus(error.message());
    case Code::kDeadlineExceeded:
      return kubeapi::timeoutStatus(error.message(), 1);
    case Code::kInvalidArgument:
      return kubeapi::badRequestStatus(error.message());
    default:
      return kubeapi::internalErrorStatus(error.message());
  }
}

ApiError pathNotFound() {
  ApiError e = kubeapi::notFoundStatus({}, "");
  e.message = "the server could not find the requested resource";
  e.details = {};
  return e;
}

}  // namespace berth::controlplane::apiserver
