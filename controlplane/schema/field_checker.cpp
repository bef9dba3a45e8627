#include "controlplane/schema/field_checker.h"

#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "controlplane/schema/go_values.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxStrictErrors = 100;  // sigs.k8s.io/json stops collecting there

bool isStruct(const TypeRef* t) {
  return t != nullptr && t->kind == ValueKind::kNamed && t->def->isStruct();
}
Scalar scalarOf(const TypeRef* t) {
  return t != nullptr && t->kind == ValueKind::kNamed ? t->def->scalar : Scalar::kNone;
}
bool isFree(const TypeRef* t) {
  return t == nullptr || scalarOf(t) == Scalar::kObject;
}

// strconv.ParseInt(literal, 10, 64) followed by the field's overflow check.
bool fitsInteger(std::string_view literal, ValueKind kind) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), v);
  if (ec != std::errc() || p != literal.data() + literal.size()) return false;
  if (kind == ValueKind::kInt32)
    return v >= std::numeric_limits<std::int32_t>::min() &&
           v <= std::numeric_limits<std::int32_t>::max();
  return true;
}

}  // namespace

std::string FieldChecker::elementGoType(const std::string& containerGo, const TypeRef& elem) const {
  if (containerGo.starts_with("[]")) return containerGo.substr(2);
  if (containerGo.starts_with("map[")) return containerGo.substr(containerGo.find(']') + 1);
  return goTypeName(elem);  // a named list or map type (v1.ResourceList)
}

std::string FieldChecker::childPath(std::string_view key) const {
  return strictPath_.empty() ? std::string(key) : fmt::format("{}.{}", strictPath_, key);
}

void FieldChecker::strictError(std::string_view kind, std::string_view path) {
  std::string message = fmt::format("{} {}", kind, goQuote(path));
  if (strict_.size() >= kMaxStrictErrors || !strictSeen_.insert(message).second) return;
  strict_.push_back(std::move(message));
}

void FieldChecker::typeError(std::string_view jsonKind, const std::string& goType) {
  if (fatal_) return;
  if (goFields_.empty() || goStruct_ == nullptr) {
    fatal_ = fmt::format("json: cannot unmarshal {} into Go value of type {}", jsonKind, goType);
    return;
  }
  fatal_ = fmt::format("json: cannot unmarshal {} into Go struct field {}.{} of type {}", jsonKind,
                       goStruct_->shortName(), fmt::join(goFields_, "."), goType);
}

FieldChecker::Expected FieldChecker::expectedValue() {
  if (stack_.empty()) return {&rootRef_, goTypeName(rootRef_), false};
  Frame& f = stack_.back();
  switch (f.container) {
    case Container::kStruct: {
      if (f.pendingDrop || f.pendingField == nullptr) return {nullptr, "", true};
      const Field& field = *f.pendingField;
      return {&field.type,
              field.goType.empty() ? goTypeName(field.type) : std::string(field.goType), false};
    }
    case Container::kMap:
    case Container::kArray:
      return {f.type->elem, elementGoType(f.goType, *f.type->elem), f.dropped};
    case Container::kFree:
      return {nullptr, "", f.dropped};
  }
  return {};
}

// Before a value: the paths name it (a struct field, a map key, a list index).
void FieldChecker::beginValue() {
  if (stack_.empty()) return;
  Frame& f = stack_.back();
  switch (f.container) {
    case Container::kStruct:
      strictPath_ = childPath(f.pendingKey);
      goFields_.push_back(f.pendingKey);
      goStruct_ = f.type->def;
      break;
    case Container::kMap:
      strictPath_ = childPath(f.pendingKey);
      break;
    case Container::kArray:
      strictPath_ += fmt::format("[{}]", f.index);
      break;
    case Container::kFree:
      // Only a patch document's free-form values have paths worth naming (its duplicates).
      if (freeDuplicates_ && !f.dropped)
        strictPath_ = f.value.is_array() ? fmt::format("{}[{}]", strictPath_, f.index)
                                         : childPath(f.pendingKey);
      break;
  }
}

void FieldChecker::place(json value, bool keep) {
  if (stack_.empty()) {
    result_ = std::move(value);
    return;
  }
  Frame& f = stack_.back();
  if (!keep || f.dropped) {
    if (f.container == Container::kArray) ++f.index;
    return;
  }
  switch (f.container) {
    case Container::kStruct:
      if (!f.pendingDrop && !value.is_null()) f.value[f.pendingKey] = std::move(value);
      break;
    case Container::kMap:
      f.value[f.pendingKey] = value.is_null() ? goZeroValue(*f.type->elem) : std::move(value);
      break;
    case Container::kArray:
      f.value.push_back(value.is_null() ? goZeroValue(*f.type->elem) : std::move(value));
      ++f.index;
      break;
    case Container::kFree:
      if (f.value.is_array()) {
        f.value.push_back(std::move(value));
        ++f.index;
      } else {
        f.value[f.pendingKey] = std::move(value);
      }
      break;
  }
}

// A scalar value's stretch of the paths: what beginValue added is undone when it ends.
struct FieldChecker::ScalarScope {
  FieldChecker& c;
  std::size_t path = c.strictPath_.size();
  std::size_t fields = c.goFields_.size();
  const TypeDef* goStruct = c.goStruct_;
  explicit ScalarScope(FieldChecker& checker) : c(checker) { c.beginValue(); }
  ~ScalarScope() {
    c.strictPath_.resize(path);
    c.goFields_.resize(fields);
    c.goStruct_ = goStruct;
  }
};

void FieldChecker::null() {
  place(nullptr, true);
}

void FieldChecker::boolean(bool value) {
  Expected e = expectedValue();
  if (e.drop || isFree(e.type)) return place(value, !e.drop);
  std::optional<ScalarScope> scope(std::in_place, *this);
  switch (scalarOf(e.type)) {
    case Scalar::kQuantity:
      fatal_ = fatal_ ? fatal_ : quantityError(value ? "true" : "false");
      break;
    case Scalar::kIntOrString:
      typeError("bool", "int32");
      break;
    case Scalar::kTime:
    case Scalar::kMicroTime:
      typeError("bool", "string");
      break;
    default:
      if (e.type->kind != ValueKind::kBool) typeError("bool", e.goType);
  }
  scope.reset();
  place(value, true);
}

void FieldChecker::number(json value, std::string_view literal, bool integral) {
  Expected e = expectedValue();
  if (e.drop || isFree(e.type)) return place(std::move(value), !e.drop);
  std::optional<ScalarScope> scope(std::in_place, *this);
  switch (scalarOf(e.type)) {
    case Scalar::kQuantity:
      // A quantity may be written as a number; it is kept as its text.
      if (auto err = quantityError(literal); err && !fatal_) fatal_ = err;
      value = std::string(literal);
      break;
    case Scalar::kIntOrString:
      if (!integral || !fitsInteger(literal, ValueKind::kInt32))
        typeError(fmt::format("number {}", literal), "int32");
      break;
    case Scalar::kTime:
    case Scalar::kMicroTime:
      typeError("number", "string");
      break;
    default:
      switch (e.type->kind) {
        case ValueKind::kInt32:
        case ValueKind::kInt64:
          if (!fitsInteger(literal, e.type->kind))
            typeError(fmt::format("number {}", literal), e.goType);
          break;
        case ValueKind::kDouble:
          break;
        default:
          typeError("number", e.goType);
      }
  }
  scope.reset();
  place(std::move(value), true);
}

void FieldChecker::string(std::string value) {
  Expected e = expectedValue();
  if (e.drop || isFree(e.type)) return place(std::move(value), !e.drop);
  std::optional<ScalarScope> scope(std::in_place, *this);
  switch (scalarOf(e.type)) {
    case Scalar::kQuantity:
      if (auto err = quantityError(value); err && !fatal_) fatal_ = err;
      break;
    case Scalar::kIntOrString:
      break;
    case Scalar::kTime:
    case Scalar::kMicroTime:
      if (auto err = timeError(value, scalarOf(e.type) == Scalar::kMicroTime); err && !fatal_)
        fatal_ = err;
      break;
    default:
      if (e.type->kind == ValueKind::kBytes) {
        if (auto at = base64ErrorOffset(value); at && !fatal_)
          fatal_ = fmt::format("illegal base64 data at input byte {}", *at);
      } else if (e.type->kind != ValueKind::kString) {
        typeError("string", e.goType);
      }
  }
  scope.reset();
  place(std::move(value), true);
}

// An object or an array begins: a struct, a map or a list frame, a free-form one, or a mistyped
// value parsed and dropped.
void FieldChecker::startContainer(bool array) {
  Expected e = expectedValue();
  Frame f;
  f.pathLength = strictPath_.size();
  f.goFieldsLength = goFields_.size();
  f.goStruct = goStruct_;
  f.value = array ? json::array() : json::object();
  if (e.drop || isFree(e.type)) {
    f.dropped = e.drop;
    if (freeDuplicates_ && !e.drop) beginValue();
    stack_.push_back(std::move(f));
    return;
  }
  beginValue();
  f.type = e.type;
  f.goType = e.goType;
  std::string_view kind = array ? "array" : "object";
  if (array && e.type->kind == ValueKind::kArray) {
    f.container = Container::kArray;
  } else if (!array && isStruct(e.type)) {
    f.container = Container::kStruct;
  } else if (!array && e.type->kind == ValueKind::kMap) {
    f.container = Container::kMap;
  } else {
    switch (scalarOf(e.type)) {
      case Scalar::kQuantity:
        if (!fatal_) fatal_ = quantityError(array ? "[" : "{");
        break;
      case Scalar::kIntOrString:
        typeError(kind, "int32");
        break;
      case Scalar::kTime:
      case Scalar::kMicroTime:
        typeError(kind, "string");
        break;
      default:
        typeError(kind, e.goType);
    }
    f.dropped = true;
  }
  stack_.push_back(std::move(f));
}

void FieldChecker::startObject() {
  startContainer(false);
}

void FieldChecker::key(std::string key) {
  Frame& f = stack_.back();
  f.pendingField = nullptr;
  f.pendingDrop = false;
  if (f.dropped || f.container == Container::kFree) {
    if (freeDuplicates_ && !f.dropped && !f.seen.insert(key).second)
      strictError("duplicate field", childPath(key));
    f.pendingKey = std::move(key);
    return;
  }
  if (f.container == Container::kStruct) {
    f.pendingField = f.type->def->field(key);
    if (f.pendingField == nullptr) {
      strictError("unknown field", childPath(key));
      f.pendingDrop = true;
    } else if (!f.seen.insert(key).second) {
      strictError("duplicate field", childPath(key));
    }
  } else if (!f.seen.insert(key).second) {  // a map
    strictError("duplicate field", childPath(key));
  }
  f.pendingKey = std::move(key);
}

void FieldChecker::endObject() {
  Frame f = std::move(stack_.back());
  stack_.pop_back();
  strictPath_.resize(f.pathLength);
  goFields_.resize(f.goFieldsLength);
  goStruct_ = f.goStruct;
  place(std::move(f.value), !f.dropped);
}

void FieldChecker::startArray() {
  startContainer(true);
}

void FieldChecker::endArray() {
  endObject();
}

namespace {

// nlohmann's SAX interface feeding the checker, so duplicate keys and document order are seen.
class SaxAdapter : public nlohmann::json_sax<json> {
 public:
  explicit SaxAdapter(FieldChecker& c) : c_(c) {}

  bool null() override {
    c_.null();
    return true;
  }
  bool boolean(bool v) override {
    c_.boolean(v);
    return true;
  }
  bool number_integer(number_integer_t v) override {
    c_.number(v, std::to_string(v), true);
    return true;
  }
  bool number_unsigned(number_unsigned_t v) override {
    c_.number(v, std::to_string(v), true);
    return true;
  }
  bool number_float(number_float_t v, const string_t& literal) override {
    c_.number(v, literal, false);
    return true;
  }
  bool string(string_t& v) override {
    c_.string(std::move(v));
    return true;
  }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override {
    c_.startObject();
    return true;
  }
  bool key(string_t& k) override {
    c_.key(std::move(k));
    return true;
  }
  bool end_object() override {
    c_.endObject();
    return true;
  }
  bool start_array(std::size_t) override {
    c_.startArray();
    return true;
  }
  bool end_array() override {
    c_.endArray();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    std::string_view what = e.what();
    // "[json.exception.parse_error.101] parse error at ..." -> "parse error at ..."
    if (auto close = what.find("] "); close != std::string_view::npos)
      what.remove_prefix(close + 2);
    error_ = std::string(what);
    return false;
  }
  const std::string& error() const { return error_; }

 private:
  FieldChecker& c_;
  std::string error_;
};

}  // namespace

void feedValue(const json& j, FieldChecker& c) {
  switch (j.type()) {
    case json::value_t::null:
      c.null();
      break;
    case json::value_t::boolean:
      c.boolean(j.get<bool>());
      break;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      c.number(j, j.dump(), true);
      break;
    case json::value_t::number_float:
      c.number(j, j.dump(), false);
      break;
    case json::value_t::string:
      c.string(j.get<std::string>());
      break;
    case json::value_t::object:
      c.startObject();
      for (const auto& [k, v] : j.items()) {
        c.key(k);
        feedValue(v, c);
      }
      c.endObject();
      break;
    case json::value_t::array:
      c.startArray();
      for (const json& v : j)
        feedValue(v, c);
      c.endArray();
      break;
    default:
      c.null();
  }
}

std::optional<std::string> feedJson(std::string_view text, FieldChecker& c) {
  SaxAdapter sax(c);
  if (json::sax_parse(text, &sax)) return std::nullopt;
  return sax.error();
}

}  // namespace berth::controlplane::schema
