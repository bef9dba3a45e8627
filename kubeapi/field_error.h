#pragma once
// apimachinery's field.Error: a validation failure at a field path, with the exact text
// upstream prints ("spec.containers[0].image: Required value",
// "metadata.name: Invalid value: \"A\": a lowercase RFC 1123 subdomain must ..."), the
// StatusCause type it becomes in a 422 Status ("FieldValueRequired"), and the aggregate message
// of a list ("[a, b]", duplicates dropped).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kubeapi/field_path.h"

namespace berth::kubeapi {

enum class FieldErrorType {
  kNotFound,
  kRequired,
  kDuplicate,
  kInvalid,
  kNotSupported,
  kForbidden,
  kTooLong,
  kTooMany,
  kInternal,
  kTypeInvalid,
};

struct FieldError {
  FieldErrorType type = FieldErrorType::kInvalid;
  std::string field;
  // The offending value as upstream prints it in the body: a string is %q-quoted, numbers and
  // booleans plain, null "null", a list of strings as Go's []string{...}. Unset: not printed.
  std::optional<nlohmann::json> badValue;
  std::string detail;
  // badValue is a string printed as is (a Go value JSON can't express, like []string(nil)).
  bool rawValue = false;

  // "Required value", "Invalid value", ... (field.ErrorType.String).
  static std::string_view typeString(FieldErrorType t);
  // "FieldValueRequired", ... (the StatusCause reason).
  static std::string_view causeType(FieldErrorType t);

  // The message without the field: "Invalid value: \"x\": detail".
  std::string body() const;
  // "<field>: <body>".
  std::string str() const;

  static FieldError required(const FieldPath& p, std::string detail = {});
  static FieldError invalid(const FieldPath& p, nlohmann::json value, std::string detail);
  static FieldError notFound(const FieldPath& p, nlohmann::json value);
  static FieldError duplicate(const FieldPath& p, nlohmann::json value);
  static FieldError forbidden(const FieldPath& p, std::string detail);
  // detail "supported values: \"a\", \"b\"".
  static FieldError notSupported(const FieldPath& p, nlohmann::json value,
                                 const std::vector<std::string>& supported);
  // detail "may not be more than N bytes" (the value is never printed).
  static FieldError tooLong(const FieldPath& p, long maxLength);
  // detail "must have at most N items", the actual count as the value.
  static FieldError tooMany(const FieldPath& p, long actual, long max);
  static FieldError internal(const FieldPath& p, std::string detail);
};

using FieldErrorList = std::vector<FieldError>;

// utilerrors.Aggregate's message: "" for none, the one message, or "[m1, m2]" without repeats.
std::string aggregateMessage(const FieldErrorList& errs);
// Same over plain messages.
std::string aggregateMessage(const std::vector<std::string>& messages);

}  // namespace berth::kubeapi
