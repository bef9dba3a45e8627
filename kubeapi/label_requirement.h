#pragma once
// One term of a label selector (apimachinery labels.Requirement): key, operator, values,
// validated as labels.NewRequirement validates them, matched and printed as upstream does.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::kubeapi {

using LabelMap = std::map<std::string, std::string, std::less<>>;

// A read-only view of a set of labels: a LabelMap or a JSON object of strings (an object's
// metadata.labels; null is the empty set). Views never own what they look at.
class LabelsView {
 public:
  LabelsView(const LabelMap& m) : map_(&m) {}         // NOLINT: implicit by design
  LabelsView(const nlohmann::json& j) : json_(&j) {}  // NOLINT
  std::optional<std::string_view> get(std::string_view key) const;

 private:
  const LabelMap* map_ = nullptr;
  const nlohmann::json* json_ = nullptr;
};

enum class SelectorOperator {
  kDoesNotExist,  // !key
  kEquals,        // key=value
  kDoubleEquals,  // key==value
  kIn,            // key in (a,b)
  kNotEquals,     // key!=value
  kNotIn,         // key notin (a,b)
  kExists,        // key
  kGreaterThan,   // key>1 (integers)
  kLessThan,      // key<1
};

class LabelRequirement {
 public:
  // labels.NewRequirement: the key must be a qualified name, the values label values; In and
  // NotIn need values, (Double)Equals and NotEquals exactly one, Exists and DoesNotExist none,
  // Gt and Lt one integer. The error message is apimachinery's aggregate of field errors
  // ("values[0][app]: Invalid value: ...").
  [[nodiscard]] static Result<LabelRequirement> create(std::string key, SelectorOperator op,
                                                       std::vector<std::string> values);

  const std::string& key() const { return key_; }
  SelectorOperator op() const { return op_; }
  const std::vector<std::string>& values() const { return values_; }

  bool matches(const LabelsView& labels) const;
  // "key", "!key", "key=v", "key!=v", "key in (a,b)", "key notin (a,b)", "key>1"; several
  // values sorted.
  std::string str() const;

 private:
  LabelRequirement(std::string key, SelectorOperator op, std::vector<std::string> values)
      : key_(std::move(key)), op_(op), values_(std::move(values)) {}
  bool hasValue(std::string_view v) const;

  std::string key_;
  SelectorOperator op_;
  std::vector<std::string> values_;
};

// Go's strconv.ParseInt(s, 10, 64).
std::optional<std::int64_t> parseGoInt64(std::string_view s);

}  // namespace berth::kubeapi
