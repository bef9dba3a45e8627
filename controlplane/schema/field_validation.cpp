#include "controlplane/schema/field_validation.h"

#include <algorithm>

#include <fmt/format.h>

#include "controlplane/schema/field_checker.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

}  // namespace

Result<FieldValidation> parseFieldValidation(std::string_view value) {
  if (value.empty() || value == "Warn") return FieldValidation::kWarn;
  if (value == "Strict") return FieldValidation::kStrict;
  if (value == "Ignore") return FieldValidation::kIgnore;
  return fail(Code::kInvalidArgument,
              "fieldValidation: Unsupported value: \"{}\": supported values: \"\", \"Ignore\", "
              "\"Strict\", \"Warn\"",
              value);
}

Result<FieldCheck> decodeFields(std::string_view body, const TypeDef& type) {
  FieldChecker checker(type);
  if (auto err = feedJson(body, checker)) return fail(Code::kInvalidArgument, "{}", *err);
  if (checker.fatalError()) return fail(Code::kInvalidArgument, "{}", *checker.fatalError());
  return FieldCheck{checker.takeResult(), checker.strictErrors()};
}

Result<FieldCheck> checkFields(const json& object, const TypeDef& type) {
  FieldChecker checker(type);
  feedValue(object, checker);
  if (checker.fatalError()) return fail(Code::kInvalidArgument, "{}", *checker.fatalError());
  FieldCheck out{checker.takeResult(), checker.strictErrors()};
  std::ranges::sort(out.strictErrors);
  return out;
}

std::string strictDecodingError(std::span<const std::string> errors) {
  return fmt::format("strict decoding error: {}", fmt::join(errors, ", "));
}

Result<DecodedBody> decodeBody(std::string_view body, const TypeDef& type, FieldValidation mode) {
  FieldCheck check = BERTH_TRY(decodeFields(body, type));
  DecodedBody out{std::move(check.object), {}};
  if (check.strictErrors.empty() || mode == FieldValidation::kIgnore) return out;
  if (mode == FieldValidation::kStrict)
    return fail(Code::kInvalidArgument, "{}", strictDecodingError(check.strictErrors));
  out.warnings = std::move(check.strictErrors);
  return out;
}

}  // namespace berth::controlplane::schema
