#pragma once
// Field selectors as apimachinery's fields package parses, matches and prints them:
//   metadata.name=x,spec.nodeName!=,status.phase==Running
// Terms are sorted, values unescaped ("\," "\=" "\\"; anything else after '\' is an error, as
// is an unescaped ',' or '=' in a value). Matching is against a field set the caller builds
// from the object (which fields a resource supports is the server's business).
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace berth::kubeapi {

using FieldSet = std::map<std::string, std::string, std::less<>>;

struct FieldTerm {
  std::string field;
  std::string value;
  bool notEqual = false;  // "!=" (else "=" or "==")
  bool operator==(const FieldTerm&) const = default;
};

class FieldSelector {
 public:
  static FieldSelector everything() { return FieldSelector(); }
  // fields.ParseSelector; errors are upstream's ("invalid selector: 'x'; can't understand 'x'",
  // "invalid field selector: invalid escape sequence: \\x").
  [[nodiscard]] static Result<FieldSelector> parse(std::string_view selector);
  // fields.OneTermEqualSelector.
  static FieldSelector oneTermEqual(std::string field, std::string value);

  // A field missing from the set has the value "" (fields.Set.Get).
  bool matches(const FieldSet& fields) const;
  bool empty() const { return terms_.empty(); }
  // "a=b,c!=d" with values escaped.
  std::string str() const;
  // The value an "=" term requires for `field` (fields.Selector.RequiresExactMatch).
  std::optional<std::string> requiresExactMatch(std::string_view field) const;
  const std::vector<FieldTerm>& terms() const { return terms_; }

 private:
  std::vector<FieldTerm> terms_;
};

// fields.EscapeValue / UnescapeValue.
std::string escapeFieldValue(std::string_view s);
[[nodiscard]] Result<std::string> unescapeFieldValue(std::string_view s);

}  // namespace berth::kubeapi
