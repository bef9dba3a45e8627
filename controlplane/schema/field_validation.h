#pragma once
// Field validation as the apiserver's decoder does it (sigs.k8s.io/json into the typed object):
// unknown and duplicate fields are strict errors, `unknown field "spec.foo"`, reported
// according to fieldValidation; a value of the wrong type (or a bad quantity, base64 or time)
// fails the decode whatever the mode, in Go's words:
//   json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type
//   []v1.Container
// Unknown fields are dropped from the decoded object, as the typed decode drops them.
//
// Where the lead uses it:
//   create/update body -> decodeBody(); 400 "<Kind> in version \"v1\" cannot be handled as a
//     <Kind>: <message>" on error, warnings as 299 Warning headers.
//   patch -> the patch body's duplicates come from decodeFields() of the patch document against
//     a free-form type; the patched object is checked with checkFields() (errors sorted, as
//     upstream's unstructured converter sorts them) and a strict failure is a 422 on "patch".
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controlplane/schema/type_def.h"

namespace berth::controlplane::schema {

enum class FieldValidation { kIgnore, kWarn, kStrict };

// The fieldValidation query parameter; empty means Warn (the apiserver's default). Anything else
// is an error with upstream's message.
[[nodiscard]] Result<FieldValidation> parseFieldValidation(std::string_view value);

struct FieldCheck {
  nlohmann::json object;  // the value with unknown fields dropped
  // `unknown field "spec.foo"`, `duplicate field "metadata.name"`: document order for a body,
  // sorted for checkFields; deduplicated, at most 100.
  std::vector<std::string> strictErrors;
};

// Parses `body` (JSON) as a `type`. Errors (kInvalidArgument) are the decode failures: malformed
// JSON, a value of the wrong type, a bad quantity, base64 or time.
[[nodiscard]] Result<FieldCheck> decodeFields(std::string_view body, const TypeDef& type);
// The same for a parsed object (a patch result, a YAML body): no duplicates can be seen.
[[nodiscard]] Result<FieldCheck> checkFields(const nlohmann::json& object, const TypeDef& type);

// "strict decoding error: unknown field \"a\", duplicate field \"b\"".
std::string strictDecodingError(std::span<const std::string> errors);

struct DecodedBody {
  nlohmann::json object;
  std::vector<std::string> warnings;  // Warn mode: one per strict error
};

// A create or update body under `mode`: Strict fails on any strict error (message
// strictDecodingError(...)), Warn returns them as warnings, Ignore drops them.
[[nodiscard]] Result<DecodedBody> decodeBody(std::string_view body, const TypeDef& type,
                                             FieldValidation mode);

}  // namespace berth::controlplane::schema
