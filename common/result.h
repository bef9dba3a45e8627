#pragma once
// Errors are values: Result<T> = std::expected<T, Error>. Error carries a gRPC canonical code (so a
// CRI handler maps 1:1), the errno where there is one, and a message that grows context prefixes
// on its way up ("create cgroup /kubepods/pod1: mkdir: Permission denied").

#include <cerrno>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace berth {

// grpc::StatusCode numbering.
enum class Code : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

std::string_view codeName(Code code);

class Error {
 public:
  Error(Code code, std::string message, int sysErrno = 0)
      : code_(code), errno_(sysErrno), message_(std::move(message)) {}

  Code code() const { return code_; }
  // The errno that caused the error, or 0.
  int sysErrno() const { return errno_; }
  const std::string& message() const { return message_; }

  // Prefixes context: "<context>: <message>".
  Error context(std::string_view prefix) && {
    message_ = fmt::format("{}: {}", prefix, message_);
    return std::move(*this);
  }
  Error context(std::string_view prefix) const& { return Error(*this).context(prefix); }

 private:
  Code code_;
  int errno_;
  std::string message_;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = Result<void>;

inline std::unexpected<Error> fail(Code code, std::string message) {
  return std::unexpected(Error(code, std::move(message)));
}
template <class... Args>
std::unexpected<Error> fail(Code code, fmt::format_string<Args...> f, Args&&... args) {
  return std::unexpected(Error(code, fmt::format(f, std::forward<Args>(args)...)));
}

// Maps an errno to the closest canonical code.
Code codeForErrno(int err);

// An Error from errno: "<what>: <strerror(err)>".
Error errnoError(int err, std::string_view what);
inline std::unexpected<Error> failErrno(int err, std::string_view what) {
  return std::unexpected(errnoError(err, what));
}
// Same, reading errno now.
inline std::unexpected<Error> failErrno(std::string_view what) {
  return failErrno(errno, what);
}

template <class T>
Result<T> withContext(Result<T>&& r, std::string_view prefix) {
  if (!r) return std::unexpected(std::move(r).error().context(prefix));
  return std::move(r);
}

}  // namespace berth

// Propagates the error of a Result-returning expression, else yields its value. GNU statement
// expression (g++ and clang): `auto fd = BERTH_TRY(openFile(p));`.
#define BERTH_TRY(expr)                                                         \
  ({                                                                            \
    auto&& berth_try_r_ = (expr);                                               \
    if (!berth_try_r_) return std::unexpected(std::move(berth_try_r_).error()); \
    std::move(berth_try_r_).value();                                            \
  })

// Same with a context prefix added to the error.
#define BERTH_TRY_CTX(expr, ctx)                                                             \
  ({                                                                                         \
    auto&& berth_try_r_ = (expr);                                                            \
    if (!berth_try_r_) return std::unexpected(std::move(berth_try_r_).error().context(ctx)); \
    std::move(berth_try_r_).value();                                                         \
  })
