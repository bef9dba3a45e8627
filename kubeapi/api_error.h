#pragma once
// What a client gets back when a request fails: the HTTP status, the server's Status (or one
// client-go would make up from a non-Status body), the object the request was about, and a
// canonical code. An ApiError converts to a berth::Error (code + message), so BERTH_TRY works in
// functions returning Result<T>; callers that care about the reason keep the ApiError.
#include <expected>
#include <string>
#include <string_view>

#include "common/result.h"
#include "kubeapi/api_status.h"
#include "kubeapi/group_version.h"

namespace berth::kubeapi {

// The object a request was about, for the error's context.
struct RequestTarget {
  std::string verb;  // HTTP method: "GET", "POST", ...
  GroupResource resource;
  std::string namespace_;
  std::string name;
};

class ApiError {
 public:
  // From a non-2xx response. A body that is a failure Status (whatever its apiVersion, as
  // client-go defaults it to v1) is taken as is; otherwise client-go's generic message for the
  // code ("the server could not find the requested resource (get pods x)") with the body (a
  // text/* body, trimmed and capped at 2048 bytes; else "unknown") as the cause.
  static ApiError fromResponse(int httpStatus, std::string_view body, std::string_view contentType,
                               const RequestTarget& target, int retryAfterSeconds = 0);
  // From a Status the server sent (a watch ERROR event, a failure Status in a 2xx body).
  static ApiError fromStatus(ApiStatus status, const RequestTarget& target = {});
  // No response: the connection failed, timed out, TLS verification failed.
  static ApiError transport(Error error, const RequestTarget& target = {});

  Code code() const { return code_; }
  // 0 when no response arrived.
  int httpStatus() const { return httpStatus_; }
  const std::string& reason() const { return status_.reason; }
  const std::string& message() const { return status_.message; }
  const ApiStatus& status() const { return status_; }
  const RequestTarget& target() const { return target_; }
  int retryAfterSeconds() const { return status_.details.retryAfterSeconds; }

  bool isNotFound() const { return reason() == reason::kNotFound || httpStatus_ == 404; }
  bool isAlreadyExists() const { return reason() == reason::kAlreadyExists; }
  bool isConflict() const { return reason() == reason::kConflict; }
  bool isInvalid() const { return reason() == reason::kInvalid || httpStatus_ == 422; }
  bool isForbidden() const { return reason() == reason::kForbidden || httpStatus_ == 403; }
  bool isUnauthorized() const { return reason() == reason::kUnauthorized || httpStatus_ == 401; }
  // 410 Gone or Expired: a watch or list from a compacted resourceVersion.
  bool isResourceExpired() const {
    return reason() == reason::kExpired || reason() == reason::kGone || httpStatus_ == 410;
  }
  bool isTooManyRequests() const {
    return reason() == reason::kTooManyRequests || httpStatus_ == 429;
  }

  // code + message, the message prefixed with the request when the server's message does not
  // already name it ("get pods x: <transport error>").
  Error toError() const;
  operator Error() const { return toError(); }  // NOLINT: lets BERTH_TRY convert

 private:
  ApiError() = default;
  Code code_ = Code::kUnknown;
  int httpStatus_ = 0;
  ApiStatus status_;
  RequestTarget target_;
};

template <class T>
using ApiResult = std::expected<T, ApiError>;

// client-go's errors.NewGenericServerResponse: the Status made up for a response without one.
ApiStatus genericServerResponse(int code, std::string_view verb, const GroupResource& resource,
                                std::string_view name, std::string_view serverMessage,
                                int retryAfterSeconds, bool isUnexpectedResponse);

}  // namespace berth::kubeapi
