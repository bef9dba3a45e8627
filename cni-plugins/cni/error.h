#pragma once
// The CNI error object (SPEC.md "Error"): {"cniVersion", "code", "msg", "details"}, written to
// stdout with a non-zero exit. Codes 1-99 are the spec's well-known ones; 100+ are ours.

#include <expected>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::cni {

enum ErrorCode : int {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnvironment = 4,
  kIoFailure = 5,
  kDecodeFailure = 6,
  kInvalidNetworkConfig = 7,
  kTryAgainLater = 11,
  kNotAvailable = 50,         // STATUS: the plugin cannot service ADD requests
  kLimitedConnectivity = 51,  // STATUS: not available, existing attachments may suffer
  kInternal = 100,            // any other plugin failure (what the reference skel reports)
};

struct CniError {
  int code = kInternal;
  std::string msg;
  std::string details;

  nlohmann::ordered_json toJson(const std::string& cniVersion) const;
  static CniError fromJson(const nlohmann::json& j);
};

template <class T>
using CniResult = std::expected<T, CniError>;
using CniStatus = CniResult<void>;

inline std::unexpected<CniError> cniFail(int code, std::string msg) {
  return std::unexpected(CniError{code, std::move(msg), {}});
}
template <class... Args>
std::unexpected<CniError> cniFail(int code, fmt::format_string<Args...> f, Args&&... args) {
  return std::unexpected(CniError{code, fmt::format(f, std::forward<Args>(args)...), {}});
}

// A berth::Error as a CNI error: kInvalidArgument is an invalid network config (7), anything else
// the given code.
CniError toCniError(const Error& e, int otherwise = kInternal);
template <class T>
CniResult<T> asCni(Result<T>&& r, int otherwise = kInternal) {
  if (!r) return std::unexpected(toCniError(r.error(), otherwise));
  if constexpr (std::is_void_v<T>) {
    return {};
  } else {
    return std::move(r).value();
  }
}

}  // namespace berth::cni

// BERTH_TRY for CniResult (the error type differs from berth::Error).
#define CNI_TRY(expr)                                                       \
  ({                                                                        \
    auto&& cni_try_r_ = (expr);                                             \
    if (!cni_try_r_) return std::unexpected(std::move(cni_try_r_).error()); \
    std::move(cni_try_r_).value();                                          \
  })
// A berth::Result inside a CniResult function, with the code for errors that aren't bad config.
#define CNI_TRY_ERR(expr, code)                                                                  \
  ({                                                                                             \
    auto&& cni_try_r_ = (expr);                                                                  \
    if (!cni_try_r_) return std::unexpected(::berth::cni::toCniError(cni_try_r_.error(), code)); \
    std::move(cni_try_r_).value();                                                               \
  })
