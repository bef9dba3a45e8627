#pragma once
// The walk behind field validation: it takes a JSON document as parse events (from the SAX
// parser for a body, from a DOM walk for a parsed object), follows the described types alongside,
// builds the decoded value, and records strict errors and the first fatal decode error the way
// the Go decoder words them. Internal to field_validation.cpp.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/schema/type_def.h"

namespace berth::controlplane::schema {

class FieldChecker {
 public:
  explicit FieldChecker(const TypeDef& root) : FieldChecker(TypeRef{ValueKind::kNamed, &root}) {}
  // Any root type (a list of operations for a JSON patch).
  explicit FieldChecker(const TypeRef& root) : rootRef_(root) {}
  // Report duplicate keys in free-form values too, as decoding into map[string]interface{} does
  // (a patch document).
  void checkFreeFormDuplicates() { freeDuplicates_ = true; }

  // Scalars; `literal` is the number's text for a number.
  void null();
  void boolean(bool value);
  void number(nlohmann::json value, std::string_view literal, bool integral);
  void string(std::string value);
  void startObject();
  void key(std::string key);
  void endObject();
  void startArray();
  void endArray();

  nlohmann::json takeResult() { return std::move(result_); }
  const std::vector<std::string>& strictErrors() const { return strict_; }
  const std::optional<std::string>& fatalError() const { return fatal_; }

 private:
  enum class Container : std::uint8_t { kStruct, kMap, kArray, kFree };
  struct Frame {
    Container container = Container::kFree;
    nlohmann::json value;           // what is being built
    const TypeRef* type = nullptr;  // the container's type (kStruct, kMap, kArray)
    std::string goType;             // its Go type, for element errors
    bool dropped = false;           // an unknown field or a mistyped value: parsed, not kept
    std::string pendingKey;         // object: the key whose value comes next
    const Field* pendingField = nullptr;
    bool pendingDrop = false;
    std::unordered_set<std::string> seen;  // keys seen, for duplicates
    std::size_t pathLength = 0;            // strictPath_ length when the frame started
    std::size_t goFieldsLength = 0;
    const TypeDef* goStruct = nullptr;  // the innermost struct, for type errors
    int index = 0;
  };
  // What the next value should be.
  struct Expected {
    const TypeRef* type = nullptr;  // nullptr: free-form or dropped
    std::string goType;
    bool drop = false;
  };

  struct ScalarScope;
  void startContainer(bool array);
  Expected expectedValue();
  void beginValue();  // extends the paths for an array item
  void place(nlohmann::json value, bool keep);
  void typeError(std::string_view jsonKind, const std::string& goType);
  void strictError(std::string_view kind, std::string_view path);
  std::string childPath(std::string_view key) const;
  std::string elementGoType(const std::string& containerGo, const TypeRef& elem) const;

  const TypeRef rootRef_;
  std::vector<Frame> stack_;
  nlohmann::json result_;
  std::string strictPath_;
  std::vector<std::string> goFields_;
  const TypeDef* goStruct_ = nullptr;
  std::vector<std::string> strict_;
  std::unordered_set<std::string> strictSeen_;
  std::optional<std::string> fatal_;
  bool freeDuplicates_ = false;
};

// Feeds a JSON text to the checker through nlohmann's SAX parser (so duplicate keys and
// document order are seen); the parse error, if any.
std::optional<std::string> feedJson(std::string_view text, FieldChecker& checker);
// Feeds a parsed value (object keys in sorted order).
void feedValue(const nlohmann::json& value, FieldChecker& checker);

}  // namespace berth::controlplane::schema
