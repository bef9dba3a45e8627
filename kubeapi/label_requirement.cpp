#include "kubeapi/label_requirement.h"

#include <algorithm>
#include <charconv>

#include "kubeapi/field_error.h"
#include "kubeapi/validation.h"

namespace berth::kubeapi {

std::optional<std::string_view> LabelsView::get(std::string_view key) const {
  if (map_) {
    auto it = map_->find(key);
    if (it == map_->end()) return std::nullopt;
    return std::string_view(it->second);
  }
  if (!json_ || !json_->is_object()) return std::nullopt;
  auto it = json_->find(key);
  if (it == json_->end() || !it->is_string()) return std::nullopt;
  return std::string_view(it->get_ref<const std::string&>());
}

std::optional<std::int64_t> parseGoInt64(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || s.front() == '+') return std::nullopt;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

Result<LabelRequirement> LabelRequirement::create(std::string key, SelectorOperator op,
                                                  std::vector<std::string> values) {
  FieldErrorList errs;
  FieldPath path;  // nil, as the parser and LabelSelectorAsSelector pass it
  if (auto msgs = isQualifiedName(key); !msgs.empty()) {
    std::string joined;
    for (size_t i = 0; i < msgs.size(); ++i)
      joined += (i ? "; " : "") + msgs[i];
    errs.push_back(FieldError::invalid(path.child("key"), key, joined));
  }
  FieldPath valuePath = path.child("values");
  switch (op) {
    case SelectorOperator::kIn:
    case SelectorOperator::kNotIn:
      if (values.empty()) {
        // Only a LabelSelector object gets here, whose empty list is a nil slice in Go.
        auto e = FieldError::invalid(valuePath, "[]string(nil)",
                                     "for 'in', 'notin' operators, values set can't be empty");
        e.rawValue = true;
        errs.push_back(std::move(e));
      }
      break;
    case SelectorOperator::kEquals:
    case SelectorOperator::kDoubleEquals:
    case SelectorOperator::kNotEquals:
      if (values.size() != 1)
        errs.push_back(FieldError::invalid(valuePath, values,
                                           "exact-match compatibility requires one single value"));
      break;
    case SelectorOperator::kExists:
    case SelectorOperator::kDoesNotExist:
      if (!values.empty())
        errs.push_back(FieldError::invalid(
            valuePath, values, "values set must be empty for exists and does not exist"));
      break;
    case SelectorOperator::kGreaterThan:
    case SelectorOperator::kLessThan:
      if (values.size() != 1)
        errs.push_back(FieldError::invalid(
            valuePath, values, "for 'Gt', 'Lt' operators, exactly one value is required"));
      for (size_t i = 0; i < values.size(); ++i) {
        if (!parseGoInt64(values[i]))
          errs.push_back(FieldError::invalid(valuePath.index(i), values[i],
                                             "for 'Gt', 'Lt' operators, the value must be an "
                                             "integer"));
      }
      break;
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (auto msgs = isValidLabelValue(values[i]); !msgs.empty()) {
      std::string joined;
      for (size_t k = 0; k < msgs.size(); ++k)
        joined += (k ? "; " : "") + msgs[k];
      errs.push_back(FieldError::invalid(valuePath.index(i).key(key), values[i], joined));
    }
  }
  if (!errs.empty()) return fail(Code::kInvalidArgument, aggregateMessage(errs));
  return LabelRequirement(std::move(key), op, std::move(values));
}

bool LabelRequirement::hasValue(std::string_view v) const {
  return std::find(values_.begin(), values_.end(), v) != values_.end();
}

bool LabelRequirement::matches(const LabelsView& labels) const {
  auto value = labels.get(key_);
  switch (op_) {
    case SelectorOperator::kIn:
    case SelectorOperator::kEquals:
    case SelectorOperator::kDoubleEquals:
      return value && hasValue(*value);
    case SelectorOperator::kNotIn:
    case SelectorOperator::kNotEquals:
      return !value || !hasValue(*value);
    case SelectorOperator::kExists:
      return value.has_value();
    case SelectorOperator::kDoesNotExist:
      return !value;
    case SelectorOperator::kGreaterThan:
    case SelectorOperator::kLessThan: {
      if (!value || values_.size() != 1) return false;
      auto have = parseGoInt64(*value);
      auto want = parseGoInt64(values_[0]);
      if (!have || !want) return false;
      return op_ == SelectorOperator::kGreaterThan ? *have > *want : *have < *want;
    }
  }
  return false;
}

std::string LabelRequirement::str() const {
  std::string out;
  if (op_ == SelectorOperator::kDoesNotExist) out += '!';
  out += key_;
  switch (op_) {
    case SelectorOperator::kEquals:
      out += '=';
      break;
    case SelectorOperator::kDoubleEquals:
      out += "==";
      break;
    case SelectorOperator::kNotEquals:
      out += "!=";
      break;
    case SelectorOperator::kIn:
      out += " in ";
      break;
    case SelectorOperator::kNotIn:
      out += " notin ";
      break;
    case SelectorOperator::kGreaterThan:
      out += '>';
      break;
    case SelectorOperator::kLessThan:
      out += '<';
      break;
    case SelectorOperator::kExists:
    case SelectorOperator::kDoesNotExist:
      return out;
  }
  bool set = op_ == SelectorOperator::kIn || op_ == SelectorOperator::kNotIn;
  if (set) out += '(';
  if (values_.size() == 1) {
    out += values_[0];
  } else {
    auto sorted = values_;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i) {
      if (i) out += ',';
      out += sorted[i];
    }
  }
  if (set) out += ')';
  return out;
}

}  // namespace berth::kubeapi
