#include "kubeapi/status_errors.h"

#include <fmt/format.h>

#include "kubeapi/go_format.h"

namespace berth::kubeapi {
namespace {

ApiStatus failure(int code, std::string_view why, std::string message) {
  ApiStatus s;
  s.code = code;
  s.reason = why;
  s.message = std::move(message);
  return s;
}

StatusDetails detailsFor(const GroupResource& r, std::string_view name) {
  StatusDetails d;
  d.group = r.group;
  d.kind = r.resource;
  d.name = name;
  return d;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

}  // namespace

ApiStatus notFoundStatus(const GroupResource& resource, std::string_view name) {
  auto s = failure(404, reason::kNotFound,
                   fmt::format("{} {} not found", resource.str(), goQuote(name)));
  s.details = detailsFor(resource, name);
  return s;
}

ApiStatus alreadyExistsStatus(const GroupResource& resource, std::string_view name) {
  auto s = failure(409, reason::kAlreadyExists,
                   fmt::format("{} {} already exists", resource.str(), goQuote(name)));
  s.details = detailsFor(resource, name);
  return s;
}

ApiStatus generateNameConflictStatus(const GroupResource& resource, std::string_view name,
                                     int retryAfterSeconds) {
  auto s = failure(409, reason::kAlreadyExists,
                   fmt::format("{} {} already exists, the server was not able to generate a "
                               "unique name for the object",
                               resource.str(), goQuote(name)));
  s.details = detailsFor(resource, name);
  s.details.retryAfterSeconds = retryAfterSeconds;
  return s;
}

ApiStatus conflictStatus(const GroupResource& resource, std::string_view name,
                         std::string_view why) {
  auto s = failure(409, reason::kConflict,
                   fmt::format("Operation cannot be fulfilled on {} {}: {}", resource.str(),
                               goQuote(name), why));
  s.details = detailsFor(resource, name);
  return s;
}

ApiStatus optimisticLockConflictStatus(const GroupResource& resource, std::string_view name) {
  return conflictStatus(resource, name, kOptimisticLockErrorMsg);
}

ApiStatus applyConflictStatus(std::vector<StatusCause> causes, std::string message) {
  auto s = failure(409, reason::kConflict, std::move(message));
  s.details.causes = std::move(causes);
  return s;
}

ApiStatus invalidStatus(const GroupKind& kind, std::string_view name, const FieldErrorList& errs) {
  ApiStatus s = failure(422, reason::kInvalid, "");
  s.details.group = kind.group;
  s.details.kind = kind.kind;
  s.details.name = name;
  for (const auto& e : errs)
    s.details.causes.push_back({std::string(FieldError::causeType(e.type)), e.body(), e.field});
  if (errs.empty()) {
    s.message = fmt::format("{} {} is invalid", kind.str(), goQuote(name));
  } else {
    s.message =
        fmt::format("{} {} is invalid: {}", kind.str(), goQuote(name), aggregateMessage(errs));
  }
  return s;
}

ApiStatus badRequestStatus(std::string message) {
  return failure(400, reason::kBadRequest, std::move(message));
}

ApiStatus unauthorizedStatus(std::string message) {
  if (message.empty()) message = "not authorized";
  return failure(401, reason::kUnauthorized, std::move(message));
}

ApiStatus forbiddenStatus(const GroupResource& resource, std::string_view name,
                          std::string_view why) {
  std::string message;
  if (resource.empty()) {
    message = fmt::format("forbidden: {}", why);
  } else if (name.empty()) {
    message = fmt::format("{} is forbidden: {}", resource.str(), why);
  } else {
    message = fmt::format("{} {} is forbidden: {}", resource.str(), goQuote(name), why);
  }
  auto s = failure(403, reason::kForbidden, std::move(message));
  s.details = detailsFor(resource, name);
  return s;
}

ApiStatus methodNotSupportedStatus(const GroupResource& resource, std::string_view action) {
  auto s = failure(
      405, reason::kMethodNotAllowed,
      fmt::format("{} is not supported on resources of kind {}", action, goQuote(resource.str())));
  s.details.group = resource.group;
  s.details.kind = resource.resource;
  return s;
}

ApiStatus goneStatus(std::string message) {
  return failure(410, reason::kGone, std::move(message));
}

ApiStatus resourceExpiredStatus(std::string message) {
  return failure(410, reason::kExpired, std::move(message));
}

ApiStatus tooOldResourceVersionStatus(std::int64_t requested, std::int64_t oldest) {
  return resourceExpiredStatus(fmt::format("too old resource version: {} ({})", requested, oldest));
}

ApiStatus timeoutStatus(std::string_view message, int retryAfterSeconds) {
  auto s = failure(504, reason::kTimeout, fmt::format("Timeout: {}", message));
  s.details.retryAfterSeconds = retryAfterSeconds;
  return s;
}

ApiStatus serverTimeoutStatus(const GroupResource& resource, std::string_view operation,
                              int retryAfterSeconds) {
  auto s = failure(500, reason::kServerTimeout,
                   fmt::format("The {} operation against {} could not be completed at this "
                               "time, please try again.",
                               operation, resource.str()));
  s.details = detailsFor(resource, operation);
  s.details.retryAfterSeconds = retryAfterSeconds;
  return s;
}

ApiStatus tooManyRequestsStatus(std::string_view message, int retryAfterSeconds) {
  auto s = failure(429, reason::kTooManyRequests, fmt::format("Too many requests: {}", message));
  s.details.retryAfterSeconds = retryAfterSeconds;
  return s;
}

ApiStatus requestEntityTooLargeStatus(std::string_view message) {
  return failure(413, reason::kRequestEntityTooLarge,
                 fmt::format("Request entity too large: {}", message));
}

ApiStatus unsupportedMediaTypeStatus(const std::vector<std::string>& accepted) {
  return failure(415, reason::kUnsupportedMediaType,
                 "the body of the request was in an unknown format - accepted media types "
                 "include: " +
                     join(accepted, ", "));
}

ApiStatus notAcceptableStatus(const std::vector<std::string>& accepted) {
  return failure(406, reason::kNotAcceptable,
                 "only the following media types are accepted: " + join(accepted, ", "));
}

ApiStatus internalErrorStatus(std::string_view message) {
  auto s =
      failure(500, reason::kInternalError, fmt::format("Internal error occurred: {}", message));
  s.details.causes.push_back({"", std::string(message), ""});
  return s;
}

ApiStatus serviceUnavailableStatus(std::string message) {
  return failure(503, reason::kServiceUnavailable, std::move(message));
}

ApiStatus successStatus(const GroupResource& resource, std::string_view name,
                        std::string_view uid) {
  ApiStatus s;
  s.status = "Success";
  s.details = detailsFor(resource, name);
  s.details.uid = uid;
  return s;
}

}  // namespace berth::kubeapi
