// RFC 6902 JSON patch and RFC 7386 merge patch with evanphx/json-patch's (v4) behaviour, which
// the apiserver uses: negative array indices count from the end, "replace" of a missing object
// key adds it, "test" of a missing key passes when the operation has no value, and its error
// messages.
#include <charconv>

#include <fmt/format.h>

#include "controlplane/schema/patch.h"
#include "controlplane/schema/patch_internal.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxOperations = 10000;  // the apiserver's maxJSONPatchOperations

std::string decodeKey(std::string_view key) {
  std::string out;
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (key[i] == '~' && i + 1 < key.size() && (key[i + 1] == '1' || key[i + 1] == '0')) {
      out += key[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      out += key[i];
    }
  }
  return out;
}

// strconv.Atoi: an optional sign and decimal digits.
std::optional<long long> atoi(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string atoiError(std::string_view s) {
  return fmt::format("strconv.Atoi: parsing \"{}\": invalid syntax", s);
}

std::string invalidIndex(long long idx) {
  return fmt::format("Unable to access invalid index: {}: invalid index referenced", idx);
}

// The container a path's last token lives in (evanphx's findObject), or nullptr.
json* findContainer(json& doc, std::string_view path, std::string& key) {
  std::vector<std::string_view> parts;
  std::string_view rest = path;
  while (true) {
    std::size_t slash = rest.find('/');
    parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (parts.size() < 2) return nullptr;
  json* cur = &doc;
  for (std::size_t i = 1; i + 1 < parts.size(); ++i) {
    std::string part = decodeKey(parts[i]);
    json* next = nullptr;
    if (cur->is_object()) {
      auto it = cur->find(part);
      if (it != cur->end()) next = &*it;
    } else if (cur->is_array()) {
      auto idx = atoi(part);
      long long n = static_cast<long long>(cur->size());
      if (idx && *idx < 0 && *idx >= -n) *idx += n;
      if (idx && *idx >= 0 && *idx < n) next = &(*cur)[static_cast<std::size_t>(*idx)];
    }
    if (next == nullptr || !(next->is_object() || next->is_array())) return nullptr;
    cur = next;
  }
  key = decodeKey(parts.back());
  return cur;
}

// get: an object's missing key is "no value" (not an error); an array needs a valid index.
Result<std::optional<json>> getIn(const json& con, const std::string& key) {
  if (con.is_object()) {
    auto it = con.find(key);
    if (it == con.end()) return std::optional<json>();
    return std::optional<json>(*it);
  }
  auto idx = atoi(key);
  if (!idx) return fail(Code::kFailedPrecondition, atoiError(key));
  long long n = static_cast<long long>(con.size());
  if (*idx < 0) {
    if (*idx < -n) return fail(Code::kFailedPrecondition, invalidIndex(*idx));
    *idx += n;
  }
  if (*idx >= n) return fail(Code::kFailedPrecondition, invalidIndex(*idx));
  return std::optional<json>(con[static_cast<std::size_t>(*idx)]);
}

Status addIn(json& con, const std::string& key, json value) {
  if (con.is_object()) {
    con[key] = std::move(value);
    return {};
  }
  if (key == "-") {
    con.push_back(std::move(value));
    return {};
  }
  auto idx = atoi(key);
  if (!idx)
    return fail(Code::kFailedPrecondition, "value was not a proper array index: '{}': {}", key,
                atoiError(key));
  long long size = static_cast<long long>(con.size()) + 1;
  if (*idx >= size) return fail(Code::kFailedPrecondition, invalidIndex(*idx));
  if (*idx < 0) {
    if (*idx < -size) return fail(Code::kFailedPrecondition, invalidIndex(*idx));
    *idx += size;
  }
  con.insert(con.begin() + *idx, std::move(value));
  return {};
}

Status removeIn(json& con, const std::string& key) {
  if (con.is_object()) {
    if (con.erase(key) == 0)
      return fail(Code::kFailedPrecondition, "Unable to remove nonexistent key: {}: missing value",
                  key);
    return {};
  }
  auto idx = atoi(key);
  if (!idx) return fail(Code::kFailedPrecondition, atoiError(key));
  long long n = static_cast<long long>(con.size());
  if (*idx >= n) return fail(Code::kFailedPrecondition, invalidIndex(*idx));
  if (*idx < 0) {
    if (*idx < -n) return fail(Code::kFailedPrecondition, invalidIndex(*idx));
    *idx += n;
  }
  con.erase(con.begin() + *idx);
  return {};
}

Status setIn(json& con, const std::string& key, json value) {
  if (con.is_object()) {
    con[key] = std::move(value);
    return {};
  }
  auto idx = atoi(key);
  if (!idx) return fail(Code::kFailedPrecondition, atoiError(key));
  long long n = static_cast<long long>(con.size());
  if (*idx < 0) {
    if (*idx < -n) return fail(Code::kFailedPrecondition, invalidIndex(*idx));
    *idx += n;
  }
  con[static_cast<std::size_t>(*idx)] = std::move(value);
  return {};
}

Error wrap(Error e, std::string_view prefix) {
  return Error(e.code(), fmt::format("{}{}", prefix, e.message()));
}

// A string member of an operation ("op", "path", "from"); nullopt when absent.
std::optional<std::string> member(const json& op, const char* name) {
  auto it = op.find(name);
  if (it == op.end() || it->is_null() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

Status applyOperation(json& doc, const json& op) {
  std::string kind = member(op, "op").value_or("unknown");
  auto path = member(op, "path");
  std::optional<json> value;
  if (auto it = op.find("value"); it != op.end()) value = *it;
  std::string key;
  auto missingPath = [&](std::string_view what) {
    return fail(Code::kFailedPrecondition, "{} operation failed to decode path: {}", what,
                "operation missing path field: missing value");
  };
  if (kind == "add") {
    if (!path)
      return fail(Code::kFailedPrecondition, "add operation failed to decode path: missing value");
    json* con = findContainer(doc, *path, key);
    if (con == nullptr)
      return fail(Code::kFailedPrecondition,
                  "add operation does not apply: doc is missing path: \"{}\": missing value",
                  *path);
    if (auto s = addIn(*con, key, value.value_or(nullptr)); !s)
      return std::unexpected(wrap(s.error(), fmt::format("error in add for path: '{}': ", *path)));
    return {};
  }
  if (kind == "remove") {
    if (!path)
      return fail(Code::kFailedPrecondition,
                  "remove operation failed to decode path: missing value");
    json* con = findContainer(doc, *path, key);
    if (con == nullptr)
      return fail(Code::kFailedPrecondition,
                  "remove operation does not apply: doc is missing path: \"{}\": missing value",
                  *path);
    if (auto s = removeIn(*con, key); !s)
      return std::unexpected(
          wrap(s.error(), fmt::format("error in remove for path: '{}': ", *path)));
    return {};
  }
  if (kind == "replace") {
    if (!path) return missingPath("replace");
    if (path->empty()) {
      if (!value || !(value->is_object() || value->is_array()))
        return fail(Code::kFailedPrecondition,
                    "replace operation value must be object or array: %!w(<nil>)");
      doc = *value;
      return {};
    }
    json* con = findContainer(doc, *path, key);
    if (con == nullptr)
      return fail(Code::kFailedPrecondition,
                  "replace operation does not apply: doc is missing path: {}: missing value",
                  *path);
    if (auto got = getIn(*con, key); !got)
      return fail(Code::kFailedPrecondition,
                  "replace operation does not apply: doc is missing key: {}: missing value", *path);
    if (auto s = setIn(*con, key, value.value_or(nullptr)); !s)
      return std::unexpected(
          wrap(s.error(), fmt::format("error in remove for path: '{}': ", *path)));
    return {};
  }
  if (kind == "move" || kind == "copy") {
    auto from = member(op, "from");
    if (!from)
      return fail(
          Code::kFailedPrecondition,
          "{} operation failed to decode from: operation, missing from field: missing value", kind);
    json* con = findContainer(doc, *from, key);
    if (con == nullptr)
      return fail(Code::kFailedPrecondition,
                  "{} operation does not apply: doc is missing from path: {}: missing value", kind,
                  *from);
    auto got = getIn(*con, key);
    if (!got)
      return std::unexpected(
          wrap(got.error(), kind == "move" ? fmt::format("error in move for path: '{}': ", key)
                                           : fmt::format("error in copy for from: '{}': ", *from)));
    json moved = got->value_or(nullptr);
    if (kind == "move")
      if (auto s = removeIn(*con, key); !s)
        return std::unexpected(wrap(s.error(), fmt::format("error in move for path: '{}': ", key)));
    if (!path) return missingPath(kind);
    con = findContainer(doc, *path, key);
    if (con == nullptr)
      return fail(Code::kFailedPrecondition,
                  "{} operation does not apply: doc is missing destination path: {}: missing value",
                  kind, *path);
    if (auto s = addIn(*con, key, std::move(moved)); !s)
      return std::unexpected(
          wrap(s.error(), kind == "move" ? fmt::format("error in move for path: '{}': ", *path)
                                         : "error while adding value during copy: "));
    return {};
  }
  if (kind == "test") {
    if (!path) return missingPath("test");
    auto failed = [&] {
      return fail(Code::kFailedPrecondition, "testing value {} failed: test failed", *path);
    };
    if (path->empty()) return value && *value == doc ? Status{} : failed();
    json* con = findContainer(doc, *path, key);
    if (con == nullptr)
      return fail(Code::kFailedPrecondition,
                  "test operation does not apply: is missing path: {}: missing value", *path);
    auto got = getIn(*con, key);
    if (!got)
      return std::unexpected(
          wrap(got.error(), fmt::format("error in test for path: '{}': ", *path)));
    if (!*got) return !value || value->is_null() ? Status{} : failed();
    if (!value) return failed();
    return **got == *value ? Status{} : failed();
  }
  return fail(Code::kFailedPrecondition, "Unexpected kind: {}", kind);
}

// RFC 7386 with evanphx's details: a new value has its nested nulls pruned, a replaced one only
// when what it replaces is not an object.
void mergeObjects(json& doc, const json& patch) {
  for (const auto& [k, v] : patch.items()) {
    if (v.is_null()) {
      doc.erase(k);
      continue;
    }
    auto it = doc.find(k);
    if (it == doc.end() || it->is_null()) {
      json copy = v;
      pruneNullMembers(copy);
      doc[k] = std::move(copy);
    } else if (!it->is_object()) {
      json copy = v;
      pruneNullMembers(copy);
      *it = std::move(copy);
    } else if (!v.is_object()) {
      *it = v;
    } else {
      mergeObjects(*it, v);
    }
  }
}

}  // namespace

void pruneNullMembers(json& v) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end();) {
      if (it->is_null()) {
        it = v.erase(it);
      } else {
        pruneNullMembers(*it);
        ++it;
      }
    }
  } else if (v.is_array()) {
    for (json& item : v)
      pruneNullMembers(item);
  }
}

std::optional<PatchType> patchTypeFromContentType(std::string_view contentType) {
  std::string_view media = contentType.substr(0, contentType.find(';'));
  while (!media.empty() && media.back() == ' ')
    media.remove_suffix(1);
  if (media == "application/json-patch+json") return PatchType::kJson;
  if (media == "application/merge-patch+json") return PatchType::kMerge;
  if (media == "application/strategic-merge-patch+json") return PatchType::kStrategicMerge;
  if (media == "application/apply-patch+yaml") return PatchType::kApply;
  return std::nullopt;
}

Result<json> applyJsonPatch(const json& document, std::string_view patch) {
  json ops = json::parse(patch, nullptr, false);
  if (ops.is_discarded())
    return fail(Code::kInvalidArgument, "invalid character in the JSON patch");
  if (!ops.is_array())
    return fail(Code::kInvalidArgument,
                "json: cannot unmarshal {} into Go value of type "
                "jsonpatch.Patch",
                ops.is_object()   ? "object"
                : ops.is_string() ? "string"
                                  : "number");
  for (const json& op : ops)
    if (!op.is_object())
      return fail(Code::kInvalidArgument,
                  "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
                  op.is_array()    ? "array"
                  : op.is_string() ? "string"
                                   : "number");
  if (ops.size() > kMaxOperations)
    return fail(Code::kResourceExhausted,
                "The allowed maximum operations in a JSON patch is {}, got {}", kMaxOperations,
                ops.size());
  json doc = document;
  for (const json& op : ops)
    BERTH_TRY(applyOperation(doc, op));
  return doc;
}

Result<json> applyMergePatch(const json& document, std::string_view patch) {
  json p = json::parse(patch, nullptr, false);
  if (p.is_discarded() || p.is_null()) return fail(Code::kInvalidArgument, "Invalid JSON Patch");
  if (!document.is_object()) return fail(Code::kInvalidArgument, "Invalid JSON Document");
  if (!p.is_object()) {
    // Not a document: the result is the patch itself (nulls pruned from an array's objects).
    if (!p.is_array()) return fail(Code::kInvalidArgument, "Invalid JSON Patch");
    pruneNullMembers(p);
    return p;
  }
  json doc = document;
  mergeObjects(doc, p);
  return doc;
}

}  // namespace berth::controlplane::schema
