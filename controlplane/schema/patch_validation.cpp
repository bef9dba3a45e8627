// fieldValidation of patch documents: what the apiserver's strict decode of the patch body
// itself reports, before the patch is applied.
#include <fmt/format.h>

#include "controlplane/schema/field_checker.h"
#include "controlplane/schema/patch.h"
#include "controlplane/schema/registry.h"

namespace berth::controlplane::schema {
namespace {

// The apiserver decodes a JSON patch into []handlers.jsonPatchOp; describing that struct gives
// its strict and type errors their upstream words.
constexpr std::string_view kJsonPatchOp = R"(
package io.k8s.apiserver.pkg.endpoints.handlers
type jsonPatchOp : One operation of a JSON patch
  op    string : add, remove, replace, move, copy or test
  path  string : The JSON pointer the operation applies to
  from  string : The source of a move or copy
  value any    : The value to add, replace with or test
type any scalar=object : Any JSON value
)";

const TypeDef& jsonPatchOp() {
  static const Registry registry = [] {
    DescriptionFile file{"json_patch_op", kJsonPatchOp};
    auto r = Registry::load(std::span(&file, 1));
    if (!r) std::abort();  // a constant above; the unit tests load it
    return std::move(*r);
  }();
  return *registry.find("io.k8s.apiserver.pkg.endpoints.handlers.jsonPatchOp");
}

}  // namespace

Result<std::vector<std::string>> patchStrictErrors(PatchType type, std::string_view patch) {
  if (type == PatchType::kJson) {
    TypeRef op{ValueKind::kNamed, &jsonPatchOp()};
    FieldChecker checker(TypeRef{ValueKind::kArray, nullptr, &op});
    if (auto err = feedJson(patch, checker))
      return fail(Code::kInvalidArgument, "error decoding patch: {}", *err);
    if (checker.fatalError())
      return fail(Code::kInvalidArgument, "error decoding patch: {}", *checker.fatalError());
    std::vector<std::string> out;
    for (const std::string& e : checker.strictErrors())
      out.push_back("json patch " + e);
    return out;
  }
  // Merge and strategic merge patches decode into map[string]interface{}: only duplicates.
  static const TypeDef anyObject = [] {
    TypeDef t;
    t.name = "any";
    t.scalar = Scalar::kObject;
    return t;
  }();
  std::size_t first = patch.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && patch[first] != '{') {
    char c = patch[first];
    std::string_view kind = c == '['                 ? "array"
                            : c == '"'               ? "string"
                            : (c == 't' || c == 'f') ? "bool"
                            : c == 'n'               ? "null"
                                                     : "number";
    if (kind != "null")
      return fail(Code::kInvalidArgument,
                  "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                  kind);
  }
  FieldChecker checker(TypeRef{ValueKind::kNamed, &anyObject});
  checker.checkFreeFormDuplicates();
  if (auto err = feedJson(patch, checker)) return fail(Code::kInvalidArgument, "{}", *err);
  return checker.strictErrors();
}

}  // namespace berth::controlplane::schema
