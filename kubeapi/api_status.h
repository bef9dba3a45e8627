#pragma once
// metav1.Status: the body of every API error (and of some successful deletes), as the
// apiserver writes it and clients read it:
//   {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":...,
//    "reason":"NotFound","details":{"name":"x","kind":"pods"},"code":404}
// The builders for the apiserver's own errors, with its exact messages, are in status_errors.h.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::kubeapi {

// metav1.StatusReason values. Kept as strings: a newer server's reason must survive a parse.
namespace reason {
inline constexpr std::string_view kUnknown = "";
inline constexpr std::string_view kUnauthorized = "Unauthorized";
inline constexpr std::string_view kForbidden = "Forbidden";
inline constexpr std::string_view kNotFound = "NotFound";
inline constexpr std::string_view kAlreadyExists = "AlreadyExists";
inline constexpr std::string_view kConflict = "Conflict";
inline constexpr std::string_view kGone = "Gone";
inline constexpr std::string_view kInvalid = "Invalid";
inline constexpr std::string_view kServerTimeout = "ServerTimeout";
inline constexpr std::string_view kStoreReadError = "StorageReadError";
inline constexpr std::string_view kTimeout = "Timeout";
inline constexpr std::string_view kTooManyRequests = "TooManyRequests";
inline constexpr std::string_view kBadRequest = "BadRequest";
inline constexpr std::string_view kMethodNotAllowed = "MethodNotAllowed";
inline constexpr std::string_view kNotAcceptable = "NotAcceptable";
inline constexpr std::string_view kRequestEntityTooLarge = "RequestEntityTooLarge";
inline constexpr std::string_view kUnsupportedMediaType = "UnsupportedMediaType";
inline constexpr std::string_view kInternalError = "InternalError";
inline constexpr std::string_view kExpired = "Expired";
inline constexpr std::string_view kServiceUnavailable = "ServiceUnavailable";
}  // namespace reason

struct StatusCause {
  std::string reason;  // JSON "reason" (metav1.CauseType): "FieldValueRequired", ...
  std::string message;
  std::string field;
  bool operator==(const StatusCause&) const = default;
};

struct StatusDetails {
  std::string name;
  std::string group;
  std::string kind;  // upstream puts the resource here for most errors ("pods")
  std::string uid;
  std::vector<StatusCause> causes;
  int retryAfterSeconds = 0;
  bool empty() const {
    return name.empty() && group.empty() && kind.empty() && uid.empty() && causes.empty() &&
           retryAfterSeconds == 0;
  }
  bool operator==(const StatusDetails&) const = default;
};

struct ApiStatus {
  std::string status = "Failure";  // "Success" or "Failure"
  std::string message;
  std::string reason;
  StatusDetails details;  // omitted from JSON when empty
  int code = 0;           // the HTTP status

  bool isFailure() const { return status != "Success"; }

  // The JSON object (omitempty as upstream: only "metadata":{} is always present).
  nlohmann::json toJson() const;
  // The serialized body with the fields in the Go struct's order, as the apiserver writes it.
  std::string body() const;
  // Reads a Status object; anything but {"kind":"Status",...} is an error.
  [[nodiscard]] static Result<ApiStatus> fromJson(const nlohmann::json& j);

  bool operator==(const ApiStatus&) const = default;
};

// The canonical code an API status maps to: NotFound -> kNotFound, AlreadyExists ->
// kAlreadyExists, Conflict -> kAborted, Invalid/BadRequest -> kInvalidArgument, Unauthorized ->
// kUnauthenticated, Forbidden -> kPermissionDenied, Gone/Expired -> kOutOfRange,
// TooManyRequests -> kResourceExhausted, (Server)Timeout -> kDeadlineExceeded, ... and by
// HTTP code where the reason is unknown.
Code codeForStatus(std::string_view reason, int httpCode);

}  // namespace berth::kubeapi
