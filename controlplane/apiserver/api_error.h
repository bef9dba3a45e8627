#pragma once
// A failed API request as the apiserver answers it: an HTTP code and a metav1.Status body
// (kubeapi::ApiStatus, built with the apiserver's messages by kubeapi/status_errors.h). Handlers
// return ApiResult<T>; only the HTTP layer turns an ApiError into bytes.
#include <expected>
#include <string_view>

#include "common/result.h"
#include "kubeapi/api_status.h"
#include "kubeapi/field_error.h"
#include "kubeapi/group_version.h"
#include "kubeapi/status_errors.h"

namespace berth::controlplane::apiserver {

using ApiError = kubeapi::ApiStatus;
using kubeapi::FieldError;
using kubeapi::GroupKind;
using kubeapi::GroupResource;
using FieldErrors = kubeapi::FieldErrorList;

template <class T>
using ApiResult = std::expected<T, ApiError>;

inline std::unexpected<ApiError> apiFail(ApiError e) {
  return std::unexpected(std::move(e));
}

// A storage or other internal Error as the API reports it: kNotFound, kAlreadyExists, kAborted
// (a compare-and-swap lost), kOutOfRange (compacted), kUnavailable and kDeadlineExceeded get their
// API meaning, everything else is a 500.
ApiError apiErrorFrom(const Error& error, const GroupResource& resource, std::string_view name);

// 404 for a path the server doesn't serve: "the server could not find the requested resource".
ApiError pathNotFound();

}  // namespace berth::controlplane::apiserver
