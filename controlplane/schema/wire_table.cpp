#include "controlplane/schema/wire_table.h"

#include <algorithm>
#include <charconv>
#include <unordered_set>

#include <fmt/format.h>

namespace berth::controlplane::schema {

// Generated at build time from types/wire_numbers.k8swire (embed_text.cmake).
namespace embedded {
extern const DescriptionFile kWireFiles[];
extern const std::size_t kWireFileCount;
}  // namespace embedded

namespace {

// Protobuf's largest field number (2^29 - 1).
constexpr std::uint32_t kMaxFieldNumber = 536870911;

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (true) {
    i = line.find_first_not_of(" \t", i);
    if (i == std::string_view::npos) break;
    std::size_t end = line.find_first_of(" \t", i);
    out.push_back(line.substr(i, end - i));
    if (end == std::string_view::npos) break;
    i = end;
  }
  return out;
}

bool isScalar(const TypeRef& ref) {
  return ref.kind != ValueKind::kArray && ref.kind != ValueKind::kMap &&
         ref.kind != ValueKind::kNamed;
}

}  // namespace

class WireTableParser {
 public:
  WireTableParser(const Registry& types, WireTable& table) : types_(types), table_(table) {}

  [[nodiscard]] Status parseFile(const DescriptionFile& file) {
    file_ = file.name;
    line_ = 0;
    package_ = {};
    std::string_view text = file.text;
    while (!text.empty()) {
      ++line_;
      std::size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
      std::vector<std::string_view> tokens = words(line);
      if (tokens.empty() || tokens[0].starts_with('#')) continue;
      if (line.front() == ' ' || line.front() == '\t') {
        if (pending_.empty())
          return std::unexpected(at(line_, "a continuation line outside a type"));
        pending_.insert(pending_.end(), tokens.begin(), tokens.end());
        continue;
      }
      BERTH_TRY(flush());
      if (tokens[0] == "package") {
        if (tokens.size() != 2) return std::unexpected(at(line_, "package needs one name"));
        package_ = tokens[1];
        continue;
      }
      if (package_.empty()) return std::unexpected(at(line_, "a type before any package line"));
      pending_ = std::move(tokens);
      pendingLine_ = line_;
    }
    return flush();
  }

  // Every struct type the descriptions have is in the table.
  [[nodiscard]] Status checkListed() const {
    for (const TypeDef* type : types_.types()) {
      if (type->isStruct() && !listed_.contains(type)) {
        return fail(Code::kInvalidArgument, "{} is not in the wire table (a type without numbers)",
                    type->name);
      }
    }
    return {};
  }

 private:
  Error at(int line, std::string_view message) const {
    return Error(Code::kInvalidArgument, fmt::format("{}:{}: {}", file_, line, message));
  }

  [[nodiscard]] Status flush() {
    if (pending_.empty()) return {};
    std::vector<std::string_view> tokens = std::move(pending_);
    pending_.clear();
    return parseType(tokens);
  }

  [[nodiscard]] Status parseType(std::span<const std::string_view> tokens) {
    std::string name = fmt::format("{}.{}", package_, tokens[0]);
    const TypeDef* type = types_.find(name);
    if (type == nullptr) return std::unexpected(at(pendingLine_, "unknown type " + name));
    if (!type->isStruct()) {
      return std::unexpected(at(pendingLine_, fmt::format("{} is a scalar, not a message", name)));
    }
    if (!listed_.insert(type).second) {
      return std::unexpected(at(pendingLine_, fmt::format("{} listed twice", name)));
    }
    if (tokens.size() == 2 && tokens[1] == "-") return {};  // no protobuf form
    WireMessage& root = table_.messages_.emplace_back();
    root.type = type;
    table_.byType_.emplace(type, &root);
    std::vector<WireMessage*> open{&root};
    std::unordered_set<const Field*> numbered;
    for (std::string_view token : tokens.subspan(1)) {
      if (token == "}") {
        if (open.size() == 1) return std::unexpected(at(pendingLine_, "a } with no {"));
        open.pop_back();
        continue;
      }
      BERTH_TRY(parseField(*type, token, open, numbered));
    }
    if (open.size() != 1) return std::unexpected(at(pendingLine_, "a { with no }"));
    for (const Field& f : type->fields) {
      if (!numbered.contains(&f) && !WireTable::inEnvelope(*type, f)) {
        return std::unexpected(
            at(pendingLine_, fmt::format("{}.{} has no protobuf number", name, f.name)));
      }
    }
    return {};
  }

  // field=N, field=N*, field=N[], name=N{
  [[nodiscard]] Status parseField(const TypeDef& type, std::string_view token,
                                  std::vector<WireMessage*>& open,
                                  std::unordered_set<const Field*>& numbered) {
    std::size_t eq = token.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return std::unexpected(at(pendingLine_, fmt::format("{} is not field=number", token)));
    }
    std::string_view fieldName = token.substr(0, eq);
    std::string_view rest = token.substr(eq + 1);
    WireField wf;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), wf.number);
    if (ec != std::errc() || wf.number == 0 || wf.number > kMaxFieldNumber) {
      return std::unexpected(at(pendingLine_, fmt::format("{}: not a field number", token)));
    }
    std::string_view suffix = rest.substr(static_cast<std::size_t>(end - rest.data()));
    WireMessage& into = *open.back();
    if (std::ranges::any_of(into.fields, [&](const WireField& g) { return g.number == wf.number; }))
      return std::unexpected(at(pendingLine_, fmt::format("{}: number used twice", token)));
    if (suffix == "{") {
      WireMessage& inner = table_.messages_.emplace_back();
      inner.type = &type;
      wf.embedded = &inner;
      into.fields.push_back(wf);
      std::ranges::sort(into.fields, {}, &WireField::number);
      open.push_back(&inner);
      return {};
    }
    wf.field = type.field(fieldName);
    if (wf.field == nullptr) {
      return std::unexpected(
          at(pendingLine_, fmt::format("{} has no field {}", type.name, fieldName)));
    }
    if (!numbered.insert(wf.field).second) {
      return std::unexpected(at(pendingLine_, fmt::format("{} numbered twice", fieldName)));
    }
    if (suffix == "*") {
      wf.pointer = true;
      if (!isScalar(wf.field->type)) {
        return std::unexpected(
            at(pendingLine_, fmt::format("{}: * on a field that is not a scalar", fieldName)));
      }
    } else if (suffix == "[]") {
      wf.wrappedList = true;
      if (wf.field->type.kind != ValueKind::kArray) {
        return std::unexpected(
            at(pendingLine_, fmt::format("{}: [] on a field that is not a list", fieldName)));
      }
    } else if (!suffix.empty()) {
      return std::unexpected(at(pendingLine_, fmt::format("{}: unknown suffix {}", token, suffix)));
    }
    into.fields.push_back(wf);
    std::ranges::sort(into.fields, {}, &WireField::number);
    return {};
  }

  const Registry& types_;
  WireTable& table_;
  std::unordered_set<const TypeDef*> listed_;
  std::string_view file_;
  int line_ = 0;
  std::string_view package_;
  std::vector<std::string_view> pending_;  // the tokens of the type being read, continuations too
  int pendingLine_ = 0;
};

const WireField* WireMessage::byNumber(std::uint32_t number) const {
  auto it = std::ranges::lower_bound(fields, number, {}, &WireField::number);
  return it == fields.end() || it->number != number ? nullptr : &*it;
}

Result<WireTable> WireTable::load(const Registry& types, std::span<const DescriptionFile> files) {
  WireTable table;
  WireTableParser parser(types, table);
  for (const DescriptionFile& f : files)
    BERTH_TRY(parser.parseFile(f));
  BERTH_TRY(parser.checkListed());
  return table;
}

std::span<const DescriptionFile> WireTable::embeddedFiles() {
  return {embedded::kWireFiles, embedded::kWireFileCount};
}

const Result<WireTable>& WireTable::builtin() {
  static const Result<WireTable> table = load(Registry::builtin(), embeddedFiles());
  return table;
}

const WireMessage* WireTable::find(const TypeDef& type) const {
  auto it = byType_.find(&type);
  return it == byType_.end() ? nullptr : it->second;
}

bool WireTable::inEnvelope(const TypeDef& type, const Field& field) {
  return (!type.kinds.empty() || type.everyGroupVersion) &&
         (field.name == "apiVersion" || field.name == "kind");
}

}  // namespace berth::controlplane::schema
