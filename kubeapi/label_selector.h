#pragma once
// Label selectors as apimachinery's labels package parses, matches and prints them:
//   env=prod,tier!=cache,app in (web,api),!canary,version>2
// Parse errors carry upstream's messages ("unable to parse requirement: <nil>: Invalid value:
// \"a b\": name part must consist of ...", "found ')', expected: identifier"). Requirements are
// kept sorted by key, so str() is canonical.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubeapi/label_requirement.h"

namespace berth::kubeapi {

class LabelSelector {
 public:
  // Matches every object (labels.Everything(); also what "" parses to).
  static LabelSelector everything() { return LabelSelector(); }
  // Matches no object (labels.Nothing(); a null metav1.LabelSelector).
  static LabelSelector nothing();

  [[nodiscard]] static Result<LabelSelector> parse(std::string_view selector);
  // metav1.LabelSelectorAsSelector: matchLabels and matchExpressions (In, NotIn, Exists,
  // DoesNotExist); null -> nothing(), {} -> everything().
  [[nodiscard]] static Result<LabelSelector> fromLabelSelector(const nlohmann::json& selector);
  // labels.SelectorFromSet: key=value for each entry (validated).
  [[nodiscard]] static Result<LabelSelector> fromSet(const LabelMap& set);

  // labels.Selector.Add: a new selector with the requirement added, kept sorted by key.
  LabelSelector add(LabelRequirement r) const;

  bool matches(const LabelsView& labels) const;
  // True for everything(): no requirement (and not nothing()).
  bool empty() const { return !nothing_ && requirements_.empty(); }
  bool matchesNothing() const { return nothing_; }
  // "" for everything() and nothing().
  std::string str() const;
  // The value a selector requires for `key` with = or == or a one-value in (labels.Selector
  // RequiresExactMatch), for index lookups.
  std::optional<std::string> requiresExactMatch(std::string_view key) const;

  const std::vector<LabelRequirement>& requirements() const { return requirements_; }

 private:
  std::vector<LabelRequirement> requirements_;
  bool nothing_ = false;
};

}  // namespace berth::kubeapi
