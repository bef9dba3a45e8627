#include "kubeapi/field_error.h"

#include <set>

#include <fmt/format.h>

#include "kubeapi/go_format.h"

namespace berth::kubeapi {
namespace {

// fmt's %v / %q / %#v choice of field.Error.ErrorBody for a JSON value.
std::string printValue(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  if (v.is_string()) return goQuote(v.get_ref<const std::string&>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) return goFloat(v.get<double>());
  if (v.is_array()) {
    bool allStrings = true;
    for (const auto& e : v)
      allStrings = allStrings && e.is_string();
    if (allStrings) {
      // %#v of a []string.
      std::string out = "[]string{";
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ", ";
        out += goQuote(v[i].get_ref<const std::string&>());
      }
      return out + "}";
    }
  }
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string_view FieldError::typeString(FieldErrorType t) {
  switch (t) {
    case FieldErrorType::kNotFound:
      return "Not found";
    case FieldErrorType::kRequired:
      return "Required value";
    case FieldErrorType::kDuplicate:
      return "Duplicate value";
    case FieldErrorType::kInvalid:
      return "Invalid value";
    case FieldErrorType::kNotSupported:
      return "Unsupported value";
    case FieldErrorType::kForbidden:
      return "Forbidden";
    case FieldErrorType::kTooLong:
      return "Too long";
    case FieldErrorType::kTooMany:
      return "Too many";
    case FieldErrorType::kInternal:
      return "Internal error";
    case FieldErrorType::kTypeInvalid:
      return "Invalid value";
  }
  return "Invalid value";
}

std::string_view FieldError::causeType(FieldErrorType t) {
  switch (t) {
    case FieldErrorType::kNotFound:
      return "FieldValueNotFound";
    case FieldErrorType::kRequired:
      return "FieldValueRequired";
    case FieldErrorType::kDuplicate:
      return "FieldValueDuplicate";
    case FieldErrorType::kInvalid:
      return "FieldValueInvalid";
    case FieldErrorType::kNotSupported:
      return "FieldValueNotSupported";
    case FieldErrorType::kForbidden:
      return "FieldValueForbidden";
    case FieldErrorType::kTooLong:
      return "FieldValueTooLong";
    case FieldErrorType::kTooMany:
      return "FieldValueTooMany";
    case FieldErrorType::kInternal:
      return "InternalError";
    case FieldErrorType::kTypeInvalid:
      return "FieldValueTypeInvalid";
  }
  return "FieldValueInvalid";
}

std::string FieldError::body() const {
  std::string s(typeString(type));
  bool valueShown = type != FieldErrorType::kRequired && type != FieldErrorType::kForbidden &&
                    type != FieldErrorType::kTooLong && type != FieldErrorType::kInternal &&
                    badValue.has_value();
  if (valueShown)
    s += ": " +
         (rawValue && badValue->is_string() ? badValue->get<std::string>() : printValue(*badValue));
  if (!detail.empty()) s += ": " + detail;
  return s;
}

std::string FieldError::str() const {
  return field + ": " + body();
}

FieldError FieldError::required(const FieldPath& p, std::string detail) {
  return {FieldErrorType::kRequired, p.str(), std::nullopt, std::move(detail)};
}
FieldError FieldError::invalid(const FieldPath& p, nlohmann::json value, std::string detail) {
  return {FieldErrorType::kInvalid, p.str(), std::move(value), std::move(detail)};
}
FieldError FieldError::notFound(const FieldPath& p, nlohmann::json value) {
  return {FieldErrorType::kNotFound, p.str(), std::move(value), {}};
}
FieldError FieldError::duplicate(const FieldPath& p, nlohmann::json value) {
  return {FieldErrorType::kDuplicate, p.str(), std::move(value), {}};
}
FieldError FieldError::forbidden(const FieldPath& p, std::string detail) {
  return {FieldErrorType::kForbidden, p.str(), std::nullopt, std::move(detail)};
}
FieldError FieldError::notSupported(const FieldPath& p, nlohmann::json value,
                                    const std::vector<std::string>& supported) {
  std::string detail;
  if (!supported.empty()) {
    detail = "supported values: ";
    for (size_t i = 0; i < supported.size(); ++i) {
      if (i) detail += ", ";
      detail += goQuote(supported[i]);
    }
  }
  return {FieldErrorType::kNotSupported, p.str(), std::move(value), std::move(detail)};
}
FieldError FieldError::tooLong(const FieldPath& p, long maxLength) {
  std::string detail = maxLength >= 0 ? fmt::format("may not be more than {} {}", maxLength,
                                                    maxLength == 1 ? "byte" : "bytes")
                                      : "value is too long";
  return {FieldErrorType::kTooLong, p.str(), std::nullopt, std::move(detail)};
}
FieldError FieldError::tooMany(const FieldPath& p, long actual, long max) {
  std::string detail =
      max >= 0 ? fmt::format("must have at most {} items", max) : "has too many items";
  std::optional<nlohmann::json> value;
  if (actual >= 0) value = actual;
  return {FieldErrorType::kTooMany, p.str(), std::move(value), std::move(detail)};
}
FieldError FieldError::internal(const FieldPath& p, std::string detail) {
  return {FieldErrorType::kInternal, p.str(), std::nullopt, std::move(detail)};
}

std::string aggregateMessage(const std::vector<std::string>& messages) {
  if (messages.empty()) return {};
  if (messages.size() == 1) return messages[0];
  std::set<std::string> seen;
  std::string result;
  for (const auto& m : messages) {
    if (!seen.insert(m).second) continue;
    if (seen.size() > 1) result += ", ";
    result += m;
  }
  if (seen.size() == 1) return result;
  return "[" + result + "]";
}

std::string aggregateMessage(const FieldErrorList& errs) {
  std::vector<std::string> messages;
  messages.reserve(errs.size());
  for (const auto& e : errs)
    messages.push_back(e.str());
  return aggregateMessage(messages);
}

}  // namespace berth::kubeapi
