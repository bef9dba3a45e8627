#pragma once
// Reading JSON objects into plain structs while tracking where we are, so every error can start
// with the JSON path of the offending value ("linux.namespaces[1].type: ..."). Absent and null
// properties are treated alike, as Go's encoding/json does for the runtime-spec types.

#include <algorithm>
#include <array>
#include <concepts>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::ocispec {

using Json = nlohmann::json;

// "a.b" + "c" -> "a.b.c"; a top-level key has no leading dot.
std::string joinPath(std::string_view parent, std::string_view key);
// "a.b" + 2 -> "a.b[2]".
std::string indexPath(std::string_view parent, size_t index);

// All parse errors are kInvalidArgument and start with the path.
inline std::unexpected<Error> invalidAt(std::string_view path, std::string_view what) {
  return fail(Code::kInvalidArgument, "{}: {}", path.empty() ? "document" : path, what);
}
template <class... Args>
std::unexpected<Error> invalidAt(std::string_view path, fmt::format_string<Args...> f,
                                 Args&&... args) {
  return invalidAt(path, std::string_view(fmt::format(f, std::forward<Args>(args)...)));
}

template <class T, size_t N>
bool isOneOf(const std::array<T, N>& allowed, std::string_view value) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

bool isAbsolutePath(std::string_view path);

// ---- Scalar and container decoding; each overload names the JSON type it wants. ----

Status decode(const Json& v, const std::string& path, std::string& out);
Status decode(const Json& v, const std::string& path, bool& out);
// Declared before any definition so that nested containers find each other.
template <std::integral T>
requires(!std::same_as<T, bool>) Status decode(const Json& v, const std::string& path, T& out);
template <class T>
Status decode(const Json& v, const std::string& path, std::optional<T>& out);
template <class T>
Status decode(const Json& v, const std::string& path, std::vector<T>& out);
template <class T>
Status decode(const Json& v, const std::string& path, std::map<std::string, T>& out);

// "an unsigned 32-bit integer", "a signed 64-bit integer".
template <std::integral T>
std::string integerKind() {
  return fmt::format("{} {}-bit integer", std::is_signed_v<T> ? "a signed" : "an unsigned",
                     sizeof(T) * 8);
}

// Floats are rejected even when integral (1.0), as Go's decoder does for integer fields: a config
// runc refuses is refused here too, instead of being rounded into something else.
template <std::integral T>
requires(!std::same_as<T, bool>) Status decode(const Json& v, const std::string& path, T& out) {
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (std::in_range<T>(u)) {
      out = static_cast<T>(u);
      return {};
    }
  } else if (v.is_number_integer()) {
    auto s = v.get<int64_t>();
    if (std::in_range<T>(s)) {
      out = static_cast<T>(s);
      return {};
    }
  }
  return invalidAt(path, "must be " + integerKind<T>());
}

template <class T>
Status decode(const Json& v, const std::string& path, std::optional<T>& out) {
  T value{};
  BERTH_TRY(decode(v, path, value));
  out = std::move(value);
  return {};
}

template <class T>
Status decode(const Json& v, const std::string& path, std::vector<T>& out) {
  if (!v.is_array()) return invalidAt(path, "must be an array");
  out.clear();
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    T item{};
    BERTH_TRY(decode(v[i], indexPath(path, i), item));
    out.push_back(std::move(item));
  }
  return {};
}

template <class T>
Status decode(const Json& v, const std::string& path, std::map<std::string, T>& out) {
  if (!v.is_object()) return invalidAt(path, "must be an object");
  out.clear();
  for (const auto& [key, item] : v.items()) {
    T value{};
    BERTH_TRY(decode(item, joinPath(path, key), value));
    out.emplace(key, std::move(value));
  }
  return {};
}

template <class T>
struct OptionalValue {
  using type = T;
};
template <class T>
struct OptionalValue<std::optional<T>> {
  using type = T;
};

// How the names a reader asks for are matched to an object's keys.
enum class KeyMatch {
  kExact,
  // Go's encoding/json for struct fields (what the CNI reference plugins and libcni decode
  // with): the key spelled exactly as asked first, else a key equal to it under case folding.
  // Names are ASCII; a key's non-ASCII rune matches only where Go folds it to ASCII (U+212A
  // KELVIN SIGN is 'k', U+017F LONG S is 's'). Map keys (decode into std::map) stay exact, as
  // in Go. Go takes the last of two keys that match one field; nlohmann's objects keep no
  // order, so the exact spelling wins then.
  kGoFold,
};

// The member of `object` that `key` names, or nullptr when there is none or it is null.
const Json* findMember(const Json& object, std::string_view key, KeyMatch match);

// A view of one JSON object at a known path. Borrows the document, which must outlive it.
// Readers opened for nested objects keep the key matching of the one they came from.
class JsonReader {
 public:
  // Fails with "<path>: must be an object" unless `value` is one.
  [[nodiscard]] static Result<JsonReader> open(const Json& value, std::string path,
                                               KeyMatch match = KeyMatch::kExact);

  const std::string& path() const { return path_; }
  std::string pathOf(std::string_view key) const { return joinPath(path_, key); }
  // Present and not null.
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // "<path>.<key>: <what>".
  std::unexpected<Error> invalid(std::string_view key, std::string_view what) const {
    return invalidAt(pathOf(key), what);
  }
  template <class... Args>
  std::unexpected<Error> invalid(std::string_view key, fmt::format_string<Args...> f,
                                 Args&&... args) const {
    return invalidAt(pathOf(key), std::string_view(fmt::format(f, std::forward<Args>(args)...)));
  }

  // A REQUIRED property: absent or null is "<path>.<key>: required".
  template <class T>
  [[nodiscard]] Status required(std::string_view key, T& out) const {
    const Json* v = find(key);
    if (v == nullptr) return invalid(key, "required");
    return decode(*v, pathOf(key), out);
  }

  // An OPTIONAL property: `out` keeps its default when absent.
  template <class T>
  [[nodiscard]] Status optional(std::string_view key, T& out) const {
    const Json* v = find(key);
    if (v == nullptr) return {};
    return decode(*v, pathOf(key), out);
  }

  // Nested objects go through `read(const JsonReader&, T&) -> Status`, one function per struct.
  // `out` is a T or a std::optional<T>; it keeps its default when the property is absent.
  template <class Out, class Read>
  [[nodiscard]] Status object(std::string_view key, Out& out, Read&& read) const {
    const Json* v = find(key);
    if (v == nullptr) return {};
    auto child = BERTH_TRY(open(*v, pathOf(key), match_));
    typename OptionalValue<Out>::type value{};
    BERTH_TRY(read(child, value));
    out = std::move(value);
    return {};
  }

  template <class T, class Read>
  [[nodiscard]] Status objects(std::string_view key, std::vector<T>& out, Read&& read) const {
    const Json* v = find(key);
    if (v == nullptr) return {};
    if (!v->is_array()) return invalid(key, "must be an array");
    out.clear();
    for (size_t i = 0; i < v->size(); ++i) {
      auto child = BERTH_TRY(open((*v)[i], indexPath(pathOf(key), i), match_));
      T value{};
      BERTH_TRY(read(child, value));
      out.push_back(std::move(value));
    }
    return {};
  }

  template <class T, class Read>
  [[nodiscard]] Status objectMap(std::string_view key, std::map<std::string, T>& out,
                                 Read&& read) const {
    const Json* v = find(key);
    if (v == nullptr) return {};
    if (!v->is_object()) return invalid(key, "must be an object");
    out.clear();
    for (const auto& [name, item] : v->items()) {
      auto child = BERTH_TRY(open(item, joinPath(pathOf(key), name), match_));
      T value{};
      BERTH_TRY(read(child, value));
      out.emplace(name, std::move(value));
    }
    return {};
  }

 private:
  JsonReader(const Json& object, std::string path, KeyMatch match)
      : object_(&object), path_(std::move(path)), match_(match) {}
  const Json* find(std::string_view key) const { return findMember(*object_, key, match_); }

  const Json* object_;
  std::string path_;
  KeyMatch match_;
};

// Parses text into a document; a syntax error carries the parser's line and column.
[[nodiscard]] Result<Json> parseDocument(std::string_view text);

}  // namespace berth::ocispec
