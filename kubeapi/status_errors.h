#pragma once
// The apiserver's error Statuses, each with upstream's code, reason, details and message
// (k8s.io/apimachinery/pkg/api/errors). Examples of what they print:
//   notFound({"", "pods"}, "x")           404 NotFound      pods "x" not found
//   alreadyExists({"apps","deployments"}) 409 AlreadyExists deployments.apps "x" already exists
//   optimisticLockConflict(pods, "x")     409 Conflict      Operation cannot be fulfilled on pods
//                                         "x": the object has been modified; please apply your
//                                         changes to the latest version and try again
//   invalid({"", "Pod"}, "x", errs)       422 Invalid       Pod "x" is invalid: spec.containers[0]
//                                         .image: Required value
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kubeapi/api_status.h"
#include "kubeapi/field_error.h"
#include "kubeapi/group_version.h"

namespace berth::kubeapi {

// The message of an optimistic-concurrency conflict (registry.OptimisticLockErrorMsg).
inline constexpr std::string_view kOptimisticLockErrorMsg =
    "the object has been modified; please apply your changes to the latest version and try again";

ApiStatus notFoundStatus(const GroupResource& resource, std::string_view name);
ApiStatus alreadyExistsStatus(const GroupResource& resource, std::string_view name);
// generateName produced a name that exists: AlreadyExists with a retry hint.
ApiStatus generateNameConflictStatus(const GroupResource& resource, std::string_view name,
                                     int retryAfterSeconds);
// "Operation cannot be fulfilled on <resource> \"<name>\": <why>".
ApiStatus conflictStatus(const GroupResource& resource, std::string_view name,
                         std::string_view why);
ApiStatus optimisticLockConflictStatus(const GroupResource& resource, std::string_view name);
// Server-side apply conflicts: the causes name the conflicting fields and managers.
ApiStatus applyConflictStatus(std::vector<StatusCause> causes, std::string message);
// "<Kind> \"<name>\" is invalid: <aggregate>", one cause per field error.
ApiStatus invalidStatus(const GroupKind& kind, std::string_view name, const FieldErrorList& errs);
ApiStatus badRequestStatus(std::string message);
// An empty message becomes "not authorized"; the apiserver's authentication failure passes
// "Unauthorized".
ApiStatus unauthorizedStatus(std::string message);
// "forbidden: <why>", "<resource> is forbidden: <why>" or "<resource> \"<name>\" is forbidden:
// <why>" as the resource and name are given.
ApiStatus forbiddenStatus(const GroupResource& resource, std::string_view name,
                          std::string_view why);
// "<action> is not supported on resources of kind \"<resource>\"".
ApiStatus methodNotSupportedStatus(const GroupResource& resource, std::string_view action);
ApiStatus goneStatus(std::string message);
ApiStatus resourceExpiredStatus(std::string message);
// A watch or list from a compacted revision: "too old resource version: <asked> (<oldest>)".
ApiStatus tooOldResourceVersionStatus(std::int64_t requested, std::int64_t oldest);
// "Timeout: <message>" (504).
ApiStatus timeoutStatus(std::string_view message, int retryAfterSeconds);
// 500 ServerTimeout: "The <operation> operation against <resource> could not be completed at
// this time, please try again.".
ApiStatus serverTimeoutStatus(const GroupResource& resource, std::string_view operation,
                              int retryAfterSeconds);
// "Too many requests: <message>" (429).
ApiStatus tooManyRequestsStatus(std::string_view message, int retryAfterSeconds);
// "Request entity too large: <message>" (413).
ApiStatus requestEntityTooLargeStatus(std::string_view message);
// 415: "the body of the request was in an unknown format - accepted media types include: ...".
ApiStatus unsupportedMediaTypeStatus(const std::vector<std::string>& accepted);
// 406: "only the following media types are accepted: ...".
ApiStatus notAcceptableStatus(const std::vector<std::string>& accepted);
// "Internal error occurred: <message>" (500), the message also as the one cause.
ApiStatus internalErrorStatus(std::string_view message);
ApiStatus serviceUnavailableStatus(std::string message);

// A successful delete's Status: {"status":"Success","details":{"name","group","kind","uid"}}.
ApiStatus successStatus(const GroupResource& resource, std::string_view name, std::string_view uid);

}  // namespace berth::kubeapi
