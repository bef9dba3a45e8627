#include "kubeapi/label_selector.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "kubeapi/validation.h"

namespace berth::kubeapi {
namespace {

enum class Tok {
  kError,
  kEnd,
  kClosedPar,
  kComma,
  kDoesNotExist,
  kDoubleEquals,
  kEquals,
  kGreaterThan,
  kIdentifier,
  kIn,
  kLessThan,
  kNotEquals,
  kNotIn,
  kOpenPar,
};

struct Item {
  Tok tok;
  std::string literal;
};

std::optional<Tok> tokenFor(std::string_view s) {
  static const std::pair<std::string_view, Tok> kTokens[] = {
      {")", Tok::kClosedPar},     {",", Tok::kComma},    {"!", Tok::kDoesNotExist},
      {"==", Tok::kDoubleEquals}, {"=", Tok::kEquals},   {">", Tok::kGreaterThan},
      {"in", Tok::kIn},           {"<", Tok::kLessThan}, {"!=", Tok::kNotEquals},
      {"notin", Tok::kNotIn},     {"(", Tok::kOpenPar},
  };
  for (const auto& [text, tok] : kTokens)
    if (text == s) return tok;
  return std::nullopt;
}

bool isWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool isSpecialSymbol(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

// The labels lexer: identifiers run to whitespace or a special symbol; symbols are matched
// greedily ("!=" before "!").
class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Item next() {
    while (pos_ < s_.size() && isWhitespace(s_[pos_]))
      ++pos_;
    if (pos_ >= s_.size()) return {Tok::kEnd, ""};
    if (isSpecialSymbol(s_[pos_])) return symbol();
    size_t start = pos_;
    while (pos_ < s_.size() && !isWhitespace(s_[pos_]) && !isSpecialSymbol(s_[pos_]))
      ++pos_;
    std::string word(s_.substr(start, pos_ - start));
    if (auto tok = tokenFor(word)) return {*tok, word};
    return {Tok::kIdentifier, word};
  }

 private:
  Item symbol() {
    std::string buffer;
    std::optional<Item> last;
    while (pos_ < s_.size() && isSpecialSymbol(s_[pos_])) {
      buffer.push_back(s_[pos_]);
      if (auto tok = tokenFor(buffer)) {
        last = Item{*tok, buffer};
        ++pos_;
      } else if (last) {
        break;
      } else {
        ++pos_;
      }
    }
    if (!last) return {Tok::kError, fmt::format("error expected: keyword found '{}'", buffer)};
    return *last;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

enum class Context { kKeyAndOperator, kValues };

class Parser {
 public:
  explicit Parser(std::string_view s) {
    Lexer lexer(s);
    while (true) {
      Item item = lexer.next();
      bool end = item.tok == Tok::kEnd;
      items_.push_back(std::move(item));
      if (end) break;
    }
  }

  Result<std::vector<LabelRequirement>> parse() {
    std::vector<LabelRequirement> reqs;
    while (true) {
      auto [tok, lit] = lookahead(Context::kValues);
      switch (tok) {
        case Tok::kIdentifier:
        case Tok::kDoesNotExist: {
          auto r = parseRequirement();
          if (!r)
            return fail(Code::kInvalidArgument, "unable to parse requirement: {}",
                        r.error().message());
          reqs.push_back(std::move(*r));
          auto [t, l] = consume(Context::kValues);
          if (t == Tok::kEnd) return reqs;
          if (t == Tok::kComma) {
            auto [t2, l2] = lookahead(Context::kValues);
            if (t2 != Tok::kIdentifier && t2 != Tok::kDoesNotExist)
              return fail(Code::kInvalidArgument, "found '{}', expected: identifier after ','", l2);
            continue;
          }
          return fail(Code::kInvalidArgument, "found '{}', expected: ',' or 'end of string'", l);
        }
        case Tok::kEnd:
          return reqs;
        default:
          return fail(Code::kInvalidArgument,
                      "found '{}', expected: !, identifier, or 'end of string'", lit);
      }
    }
  }

 private:
  // In a values context the keywords "in" and "notin" are plain identifiers.
  std::pair<Tok, std::string> lookahead(Context ctx) const {
    const Item& item = items_[pos_];
    Tok tok = item.tok;
    if (ctx == Context::kValues && (tok == Tok::kIn || tok == Tok::kNotIn)) tok = Tok::kIdentifier;
    return {tok, item.literal};
  }
  std::pair<Tok, std::string> consume(Context ctx) {
    auto r = lookahead(ctx);
    if (pos_ + 1 < items_.size()) ++pos_;
    return r;
  }

  Result<LabelRequirement> parseRequirement() {
    std::optional<SelectorOperator> op;
    auto [tok, lit] = consume(Context::kValues);
    if (tok == Tok::kDoesNotExist) {
      op = SelectorOperator::kDoesNotExist;
      std::tie(tok, lit) = consume(Context::kValues);
    }
    if (tok != Tok::kIdentifier)
      return fail(Code::kInvalidArgument, "found '{}', expected: identifier", lit);
    std::string key = lit;
    if (auto msgs = isQualifiedName(key); !msgs.empty()) {
      std::string joined;
      for (size_t i = 0; i < msgs.size(); ++i)
        joined += (i ? "; " : "") + msgs[i];
      return fail(Code::kInvalidArgument, FieldError::invalid(FieldPath(), key, joined).str());
    }
    if (auto [t, l] = lookahead(Context::kValues); t == Tok::kEnd || t == Tok::kComma) {
      if (!op) op = SelectorOperator::kExists;
    }
    if (op) return LabelRequirement::create(std::move(key), *op, {});
    auto binary = BERTH_TRY(parseOperator());
    std::set<std::string> values;
    if (binary == SelectorOperator::kIn || binary == SelectorOperator::kNotIn) {
      values = BERTH_TRY(parseValues());
    } else {
      values = BERTH_TRY(parseExactValue());
    }
    return LabelRequirement::create(std::move(key), binary, {values.begin(), values.end()});
  }

  Result<SelectorOperator> parseOperator() {
    auto [tok, lit] = consume(Context::kKeyAndOperator);
    switch (tok) {
      case Tok::kIn:
        return SelectorOperator::kIn;
      case Tok::kEquals:
        return SelectorOperator::kEquals;
      case Tok::kDoubleEquals:
        return SelectorOperator::kDoubleEquals;
      case Tok::kGreaterThan:
        return SelectorOperator::kGreaterThan;
      case Tok::kLessThan:
        return SelectorOperator::kLessThan;
      case Tok::kNotIn:
        return SelectorOperator::kNotIn;
      case Tok::kNotEquals:
        return SelectorOperator::kNotEquals;
      default:
        return fail(Code::kInvalidArgument, "found '{}', expected: in, notin, =, ==, !=, gt, lt",
                    lit);
    }
  }

  Result<std::set<std::string>> parseValues() {
    auto [tok, lit] = consume(Context::kValues);
    if (tok != Tok::kOpenPar) return fail(Code::kInvalidArgument, "found '{}' expected: '('", lit);
    std::tie(tok, lit) = lookahead(Context::kValues);
    switch (tok) {
      case Tok::kIdentifier:
      case Tok::kComma: {
        auto s = BERTH_TRY(parseIdentifiersList());
        // Upstream reports the token that opened the list here, not the one found.
        if (consume(Context::kValues).first != Tok::kClosedPar)
          return fail(Code::kInvalidArgument, "found '{}', expected: ')'", lit);
        return s;
      }
      case Tok::kClosedPar:
        consume(Context::kValues);
        return std::set<std::string>{""};
      default:
        return fail(Code::kInvalidArgument, "found '{}', expected: ',', ')' or identifier", lit);
    }
  }

  Result<std::set<std::string>> parseIdentifiersList() {
    std::set<std::string> s;
    while (true) {
      auto [tok, lit] = consume(Context::kValues);
      if (tok == Tok::kIdentifier) {
        s.insert(lit);
        auto [t2, l2] = lookahead(Context::kValues);
        if (t2 == Tok::kComma) continue;
        if (t2 == Tok::kClosedPar) return s;
        return fail(Code::kInvalidArgument, "found '{}', expected: ',' or ')'", l2);
      }
      if (tok == Tok::kComma) {
        if (s.empty()) s.insert("");  // "(,"
        auto t2 = lookahead(Context::kValues).first;
        if (t2 == Tok::kClosedPar) {
          s.insert("");  // ",)"
          return s;
        }
        if (t2 == Tok::kComma) {
          consume(Context::kValues);
          s.insert("");  // ",,"
        }
        continue;
      }
      return fail(Code::kInvalidArgument, "found '{}', expected: ',', or identifier", lit);
    }
  }

  Result<std::set<std::string>> parseExactValue() {
    auto t = lookahead(Context::kValues).first;
    if (t == Tok::kEnd || t == Tok::kComma) return std::set<std::string>{""};
    auto [tok, lit] = consume(Context::kValues);
    if (tok == Tok::kIdentifier) return std::set<std::string>{lit};
    return fail(Code::kInvalidArgument, "found '{}', expected: identifier", lit);
  }

  std::vector<Item> items_;
  size_t pos_ = 0;
};

void sortByKey(std::vector<LabelRequirement>& reqs) {
  std::stable_sort(reqs.begin(), reqs.end(),
                   [](const auto& a, const auto& b) { return a.key() < b.key(); });
}

}  // namespace

LabelSelector LabelSelector::nothing() {
  LabelSelector s;
  s.nothing_ = true;
  return s;
}

Result<LabelSelector> LabelSelector::parse(std::string_view selector) {
  Parser parser(selector);
  LabelSelector s;
  s.requirements_ = BERTH_TRY(parser.parse());
  sortByKey(s.requirements_);
  return s;
}

Result<LabelSelector> LabelSelector::fromLabelSelector(const nlohmann::json& selector) {
  if (selector.is_null()) return nothing();
  if (!selector.is_object()) return fail(Code::kInvalidArgument, "label selector is not an object");
  LabelSelector s;
  if (auto ml = selector.find("matchLabels"); ml != selector.end() && ml->is_object()) {
    for (const auto& [k, v] : ml->items()) {
      if (!v.is_string()) return fail(Code::kInvalidArgument, "matchLabels[{}] is not a string", k);
      s.requirements_.push_back(BERTH_TRY(
          LabelRequirement::create(k, SelectorOperator::kEquals, {v.get<std::string>()})));
    }
  }
  if (auto me = selector.find("matchExpressions"); me != selector.end() && me->is_array()) {
    for (const auto& expr : *me) {
      auto text = [&](const char* field) {
        auto it = expr.is_object() ? expr.find(field) : expr.end();
        return it != expr.end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      std::string key = text("key");
      std::string op = text("operator");
      SelectorOperator sop;
      if (op == "In")
        sop = SelectorOperator::kIn;
      else if (op == "NotIn")
        sop = SelectorOperator::kNotIn;
      else if (op == "Exists")
        sop = SelectorOperator::kExists;
      else if (op == "DoesNotExist")
        sop = SelectorOperator::kDoesNotExist;
      else
        return fail(Code::kInvalidArgument, "\"{}\" is not a valid label selector operator", op);
      std::vector<std::string> values;
      if (auto vs = expr.is_object() ? expr.find("values") : expr.end();
          vs != expr.end() && vs->is_array()) {
        for (const auto& v : *vs)
          if (v.is_string()) values.push_back(v.get<std::string>());
      }
      s.requirements_.push_back(BERTH_TRY(LabelRequirement::create(key, sop, std::move(values))));
    }
  }
  sortByKey(s.requirements_);
  return s;
}

Result<LabelSelector> LabelSelector::fromSet(const LabelMap& set) {
  LabelSelector s;
  for (const auto& [k, v] : set)
    s.requirements_.push_back(
        BERTH_TRY(LabelRequirement::create(k, SelectorOperator::kEquals, {v})));
  return s;
}

LabelSelector LabelSelector::add(LabelRequirement r) const {
  LabelSelector s = *this;
  s.nothing_ = false;
  s.requirements_.push_back(std::move(r));
  sortByKey(s.requirements_);
  return s;
}

bool LabelSelector::matches(const LabelsView& labels) const {
  if (nothing_) return false;
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&](const auto& r) { return r.matches(labels); });
}

std::string LabelSelector::str() const {
  std::string out;
  for (size_t i = 0; i < requirements_.size(); ++i) {
    if (i) out += ',';
    out += requirements_[i].str();
  }
  return out;
}

std::optional<std::string> LabelSelector::requiresExactMatch(std::string_view key) const {
  for (const auto& r : requirements_) {
    if (r.key() != key) continue;
    switch (r.op()) {
      case SelectorOperator::kEquals:
      case SelectorOperator::kDoubleEquals:
      case SelectorOperator::kIn:
        if (r.values().size() == 1) return r.values()[0];
        return std::nullopt;
      default:
        return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace berth::kubeapi
