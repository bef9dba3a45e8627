#include "kubeapi/field_selector.h"

#include <algorithm>

namespace berth::kubeapi {
namespace {

// Splits on commas not escaped by a backslash; the backslashes stay in the terms.
std::vector<std::string> splitTerms(std::string_view s) {
  std::vector<std::string> terms;
  if (s.empty()) return terms;
  size_t start = 0;
  bool inSlash = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (inSlash) {
      inSlash = false;
    } else if (s[i] == '\\') {
      inSlash = true;
    } else if (s[i] == ',') {
      terms.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  terms.emplace_back(s.substr(start));
  return terms;
}

// The first operator in the term splits it; "!=" and "==" are tried before "=" at each place.
bool splitTerm(std::string_view term, std::string& lhs, std::string& op, std::string& rhs) {
  for (size_t i = 0; i < term.size(); ++i) {
    std::string_view rest = term.substr(i);
    for (std::string_view candidate : {"!=", "==", "="}) {
      if (rest.starts_with(candidate)) {
        lhs = term.substr(0, i);
        op = candidate;
        rhs = rest.substr(candidate.size());
        return true;
      }
    }
  }
  return false;
}

}  // namespace

std::string escapeFieldValue(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == ',' || c == '=') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

Result<std::string> unescapeFieldValue(std::string_view s) {
  if (s.find_first_of("\\,=") == std::string_view::npos) return std::string(s);
  std::string out;
  bool inSlash = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (inSlash) {
      if (c != '\\' && c != ',' && c != '=') {
        // The sequence is the backslash and the whole (UTF-8) character after it.
        size_t n = 1;
        while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80)
          ++n;
        return fail(Code::kInvalidArgument, "invalid field selector: invalid escape sequence: \\{}",
                    s.substr(i, n));
      }
      out.push_back(c);
      inSlash = false;
      continue;
    }
    if (c == '\\') {
      inSlash = true;
    } else if (c == ',' || c == '=') {
      // Upstream prints the rune with %v: its code point.
      return fail(Code::kInvalidArgument,
                  "invalid field selector: unescaped character in value: {}", static_cast<int>(c));
    } else {
      out.push_back(c);
    }
  }
  if (inSlash)
    return fail(Code::kInvalidArgument, "invalid field selector: invalid escape sequence: \\");
  return out;
}

Result<FieldSelector> FieldSelector::parse(std::string_view selector) {
  auto parts = splitTerms(selector);
  std::sort(parts.begin(), parts.end());
  FieldSelector s;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    std::string lhs, op, rhs;
    if (!splitTerm(part, lhs, op, rhs))
      return fail(Code::kInvalidArgument, "invalid selector: '{}'; can't understand '{}'", selector,
                  part);
    auto value = BERTH_TRY(unescapeFieldValue(rhs));
    s.terms_.push_back({std::move(lhs), std::move(value), op == "!="});
  }
  return s;
}

FieldSelector FieldSelector::oneTermEqual(std::string field, std::string value) {
  FieldSelector s;
  s.terms_.push_back({std::move(field), std::move(value), false});
  return s;
}

bool FieldSelector::matches(const FieldSet& fields) const {
  for (const auto& t : terms_) {
    auto it = fields.find(t.field);
    std::string_view have = it == fields.end() ? std::string_view() : std::string_view(it->second);
    if ((have == t.value) == t.notEqual) return false;
  }
  return true;
}

std::string FieldSelector::str() const {
  std::string out;
  for (size_t i = 0; i < terms_.size(); ++i) {
    if (i) out += ',';
    out += terms_[i].field + (terms_[i].notEqual ? "!=" : "=") + escapeFieldValue(terms_[i].value);
  }
  return out;
}

std::optional<std::string> FieldSelector::requiresExactMatch(std::string_view field) const {
  for (const auto& t : terms_)
    if (t.field == field && !t.notEqual) return t.value;
  return std::nullopt;
}

}  // namespace berth::kubeapi
