#include "controlplane/schema/description_parser.h"

#include <algorithm>
#include <charconv>

namespace berth::controlplane::schema {
namespace {

constexpr std::string_view kSpaces = " \t";

std::string_view trim(std::string_view s) {
  std::size_t b = s.find_first_not_of(kSpaces);
  if (b == std::string_view::npos) return {};
  std::size_t e = s.find_last_not_of(kSpaces);
  return s.substr(b, e - b + 1);
}

struct SplitLine {
  std::vector<std::string_view> tokens;
  std::string_view description;
  bool hasDescription = false;
};

// Tokens are separated by blanks; a double-quoted part (JSON escapes) may hold blanks; a lone
// ":" ends the tokens and the rest of the line is the description.
Result<SplitLine> splitLine(std::string_view line) {
  SplitLine out;
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    if (i >= line.size()) break;
    if (line[i] == ':' && (i + 1 == line.size() || line[i + 1] == ' ')) {
      out.description = trim(line.substr(i + 1));
      out.hasDescription = true;
      break;
    }
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      if (line[i] == '"') {
        ++i;
        while (i < line.size() && line[i] != '"')
          i += line[i] == '\\' ? 2 : 1;
        if (i >= line.size()) return fail(Code::kInvalidArgument, "unterminated quote");
      }
      ++i;
    }
    out.tokens.push_back(line.substr(start, i - start));
  }
  return out;
}

std::vector<std::string_view> splitOn(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    std::size_t p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

// "key=value" -> (key, value); a bare flag -> (flag, "").
std::pair<std::string_view, std::string_view> attr(std::string_view token) {
  std::size_t eq = token.find('=');
  if (eq == std::string_view::npos) return {token, {}};
  return {token.substr(0, eq), token.substr(eq + 1)};
}

std::string_view unquote(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

Result<ListType> listType(std::string_view v) {
  if (v == "atomic") return ListType::kAtomic;
  if (v == "set") return ListType::kSet;
  if (v == "map") return ListType::kMap;
  return fail(Code::kInvalidArgument, "list type {} is not atomic, set or map", v);
}

Result<MapType> mapType(std::string_view v) {
  if (v == "atomic") return MapType::kAtomic;
  if (v == "granular") return MapType::kGranular;
  return fail(Code::kInvalidArgument, "map type {} is not atomic or granular", v);
}

Result<Scalar> scalarKind(std::string_view v) {
  if (v == "quantity") return Scalar::kQuantity;
  if (v == "intorstring") return Scalar::kIntOrString;
  if (v == "time") return Scalar::kTime;
  if (v == "microtime") return Scalar::kMicroTime;
  if (v == "object") return Scalar::kObject;
  return fail(Code::kInvalidArgument, "unknown scalar {}", v);
}

Result<nlohmann::json> jsonValue(std::string_view key, std::string_view v) {
  nlohmann::json j = nlohmann::json::parse(v, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(Code::kInvalidArgument, "{}: {} is not JSON", key, v);
  return j;
}

}  // namespace

Error DescriptionParser::at(std::string_view message) const {
  return Error(Code::kInvalidArgument, fmt::format("{}:{}: {}", file_, line_, message));
}

Status DescriptionParser::parseFile(const DescriptionFile& file) {
  file_ = file.name;
  line_ = 0;
  package_ = {};
  aliases_.clear();
  current_ = nullptr;
  currentColumnsType_.clear();
  std::string_view text = file.text;
  while (!text.empty()) {
    ++line_;
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (auto s = parseLine(line); !s) return s;
  }
  return {};
}

Status DescriptionParser::parseLine(std::string_view line) {
  std::string_view body = trim(line);
  if (body.empty() || body.front() == '#') return {};
  auto split = splitLine(body);
  if (!split) return std::unexpected(at(split.error().message()));
  const auto& tokens = split->tokens;
  if (tokens.empty()) return std::unexpected(at("a description with nothing before it"));
  bool indented = line.front() == ' ' || line.front() == '\t';
  if (indented) {
    if (current_ != nullptr) return parseField(tokens, split->description);
    if (!currentColumnsType_.empty()) return parseColumn(tokens, split->description);
    return std::unexpected(at("an indented line outside a type or columns block"));
  }
  current_ = nullptr;
  currentColumnsType_.clear();
  std::string_view word = tokens[0];
  if (word == "package" && tokens.size() == 2) {
    package_ = tokens[1];
    return {};
  }
  if (word == "use" && tokens.size() == 3) {
    aliases_[tokens[1]] = tokens[2];
    return {};
  }
  if (word == "columns" && tokens.size() == 2) {
    if (package_.empty()) return std::unexpected(at("columns before any package line"));
    currentColumnsType_ = qualify(tokens[1], package_, aliases_);
    return {};
  }
  if (word == "type" && tokens.size() >= 2) {
    if (!split->hasDescription || split->description.empty())
      return std::unexpected(at(fmt::format("type {} has no description", tokens[1])));
    return parseType(std::span(tokens).subspan(1), split->description);
  }
  return std::unexpected(at(fmt::format("unknown line starting with {}", word)));
}

Status DescriptionParser::parseType(std::span<const std::string_view> tokens,
                                    std::string_view description) {
  if (package_.empty()) return std::unexpected(at("type before any package line"));
  TypeDef& t = registry_.types_.emplace_back();
  t.name = fmt::format("{}.{}", package_, tokens[0]);
  t.description = description;
  if (!registry_.byName_.emplace(t.name, &t).second)
    return std::unexpected(at(fmt::format("type {} described twice", t.name)));
  registry_.order_.push_back(&t);
  for (std::string_view token : tokens.subspan(1)) {
    auto [key, value] = attr(token);
    if (key == "kind" && value == "*") {
      t.everyGroupVersion = true;
    } else if (key == "kind") {
      auto parts = splitOn(value, '/');
      if (parts.size() == 2) {
        t.kinds.push_back({"", parts[0], parts[1]});
      } else if (parts.size() == 3) {
        t.kinds.push_back({parts[0], parts[1], parts[2]});
      } else {
        return std::unexpected(at(fmt::format("kind={} is not [group/]version/Kind", value)));
      }
    } else if (key == "scalar") {
      auto s = scalarKind(value);
      if (!s) return std::unexpected(at(s.error().message()));
      t.scalar = *s;
    } else if (key == "map") {
      auto m = mapType(value);
      if (!m) return std::unexpected(at(m.error().message()));
      t.mapType = *m;
    } else if (key == "unpublished") {
      t.published = false;
    } else if (key == "union") {
      // union=<discriminator>:<field>=<value>,...
      std::size_t colon = value.find(':');
      if (colon == std::string_view::npos) return std::unexpected(at("union= needs a ':'"));
      Union u{value.substr(0, colon), {}};
      for (std::string_view m : splitOn(value.substr(colon + 1), ',')) {
        auto [f, v] = attr(m);
        u.members.emplace_back(f, v);
      }
      t.unions.push_back(std::move(u));
    } else {
      return std::unexpected(at(fmt::format("unknown type attribute {}", token)));
    }
  }
  current_ = &t;
  return {};
}

Status DescriptionParser::parseField(std::span<const std::string_view> tokens,
                                     std::string_view description) {
  if (tokens.size() < 2) return std::unexpected(at("a field needs a name and a type"));
  if (description.empty())
    return std::unexpected(at(fmt::format("field {} has no description", tokens[0])));
  if (current_->scalar != Scalar::kNone)
    return std::unexpected(at(fmt::format("scalar type {} has a field", current_->name)));
  Field f;
  f.name = tokens[0];
  f.description = description;
  for (std::string_view token : tokens.subspan(2)) {
    auto [key, value] = attr(token);
    if (key == "required") {
      f.required = true;
    } else if (key == "always") {
      f.always = true;
    } else if (key == "merge") {
      f.patchMergeKey = value;
    } else if (key == "patch") {
      f.patchStrategy = value;
    } else if (key == "list") {
      auto l = listType(value);
      if (!l) return std::unexpected(at(l.error().message()));
      f.listType = *l;
    } else if (key == "keys") {
      f.listMapKeys = splitOn(value, ',');
    } else if (key == "map") {
      auto m = mapType(value);
      if (!m) return std::unexpected(at(m.error().message()));
      f.mapType = *m;
    } else if (key == "enum") {
      // enum=A|B|"" ; values with blanks: enum="a b|c d"
      if (value.size() > 2 && value.front() == '"' && value.back() == '"') value = unquote(value);
      for (std::string_view v : splitOn(value, '|'))
        f.enumValues.push_back(unquote(v));
    } else if (key == "default" || key == "server-default") {
      auto j = jsonValue(key, value);
      if (!j) return std::unexpected(at(j.error().message()));
      (key == "default" ? f.defaultValue : f.serverDefault) = std::move(*j);
    } else if (key == "go") {
      f.goType = value;
    } else {
      return std::unexpected(at(fmt::format("unknown field attribute {}", token)));
    }
  }
  if (std::ranges::any_of(current_->fields, [&](const Field& g) { return g.name == f.name; }))
    return std::unexpected(at(fmt::format("field {} described twice", f.name)));
  pending_.push_back(
      {current_, current_->fields.size(), tokens[1], package_, aliases_, file_, line_});
  current_->fields.push_back(std::move(f));
  return {};
}

Status DescriptionParser::parseColumn(std::span<const std::string_view> tokens,
                                      std::string_view description) {
  if (tokens.size() < 2) return std::unexpected(at("a column needs a name and a type"));
  PrinterColumn c;
  c.name = unquote(tokens[0]);
  c.type = tokens[1];
  c.description = description;
  for (std::string_view token : tokens.subspan(2)) {
    auto [key, value] = attr(token);
    if (key == "format") {
      c.format = value;
    } else if (key == "priority") {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), c.priority);
      if (ec != std::errc() || p != value.data() + value.size())
        return std::unexpected(at(fmt::format("priority={} is not a number", value)));
    } else if (key == "path") {
      c.jsonPath = value;
    } else if (key == "cell") {
      c.cell = value;
    } else {
      return std::unexpected(at(fmt::format("unknown column attribute {}", token)));
    }
  }
  if (c.jsonPath.empty() == c.cell.empty())
    return std::unexpected(at(fmt::format("column {} needs one of path= and cell=", c.name)));
  pendingColumns_.emplace_back(currentColumnsType_, c);
  return {};
}

std::string DescriptionParser::qualify(
    std::string_view name, std::string_view package,
    const std::unordered_map<std::string_view, std::string_view>& aliases) {
  std::size_t dot = name.find('.');
  if (dot == std::string_view::npos) return fmt::format("{}.{}", package, name);
  auto it = aliases.find(name.substr(0, dot));
  if (it == aliases.end()) return std::string(name);
  return fmt::format("{}.{}", it->second, name.substr(dot + 1));
}

Result<TypeRef> DescriptionParser::resolveExpr(const Pending& p, std::string_view expr) {
  static constexpr std::pair<std::string_view, ValueKind> kPrimitives[] = {
      {"string", ValueKind::kString}, {"int32", ValueKind::kInt32}, {"int64", ValueKind::kInt64},
      {"double", ValueKind::kDouble}, {"bool", ValueKind::kBool},   {"bytes", ValueKind::kBytes},
  };
  for (auto [word, kind] : kPrimitives)
    if (expr == word) return TypeRef{kind};
  for (auto [prefix, kind] : {std::pair<std::string_view, ValueKind>{"[]", ValueKind::kArray},
                              {"map[string]", ValueKind::kMap}}) {
    if (expr.starts_with(prefix)) {
      auto elem = resolveExpr(p, expr.substr(prefix.size()));
      if (!elem) return elem;
      return TypeRef{kind, nullptr, &registry_.refs_.emplace_back(*elem)};
    }
  }
  std::string name = qualify(expr, p.package, p.aliases);
  const TypeDef* def = registry_.find(name);
  if (def == nullptr) return fail(Code::kInvalidArgument, "unknown type {}", expr);
  return TypeRef{ValueKind::kNamed, def};
}

Status DescriptionParser::resolve() {
  for (const Pending& p : pending_) {
    auto ref = resolveExpr(p, p.expr);
    if (!ref)
      return fail(Code::kInvalidArgument, "{}:{}: {}", p.file, p.line, ref.error().message());
    p.owner->fields[p.field].type = *ref;
  }
  for (TypeDef& t : registry_.types_) {
    t.byName.resize(t.fields.size());
    for (std::size_t i = 0; i < t.fields.size(); ++i)
      t.byName[i] = static_cast<std::uint16_t>(i);
    std::ranges::sort(t.byName, {}, [&](std::uint16_t i) { return t.fields[i].name; });
  }
  for (TypeDef& t : registry_.types_) {
    for (const GroupVersionKind& k : t.kinds) {
      std::string key = fmt::format("{}/{}/{}", k.group, k.version, k.kind);
      if (!registry_.byKind_.emplace(key, &t).second)
        return fail(Code::kInvalidArgument, "kind {} described by two types", key);
    }
    // A merge key or list-map key must be a field of the list's items.
    for (const Field& f : t.fields) {
      std::vector<std::string_view> keys = f.listMapKeys;
      if (!f.patchMergeKey.empty()) keys.push_back(f.patchMergeKey);
      if (keys.empty()) continue;
      const TypeRef* elem = f.type.kind == ValueKind::kArray ? f.type.elem : nullptr;
      if (elem == nullptr || elem->kind != ValueKind::kNamed || !elem->def->isStruct())
        return fail(Code::kInvalidArgument,
                    "{}.{}: a merge key on a field that is not a list of "
                    "objects",
                    t.name, f.name);
      for (std::string_view k : keys)
        if (elem->def->field(k) == nullptr)
          return fail(Code::kInvalidArgument, "{}.{}: merge key {} is not a field of {}", t.name,
                      f.name, k, elem->def->name);
    }
  }
  for (auto& [typeName, column] : pendingColumns_) {
    auto it = registry_.byName_.find(typeName);
    if (it == registry_.byName_.end())
      return fail(Code::kInvalidArgument, "columns for unknown type {}", typeName);
    it->second->columns.push_back(column);
  }
  return {};
}

}  // namespace berth::controlplane::schema
