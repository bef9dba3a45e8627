#include "ocispec/json_reader.h"

namespace berth::ocispec {

std::string joinPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

std::string indexPath(std::string_view parent, size_t index) {
  return fmt::format("{}[{}]", parent, index);
}

bool isAbsolutePath(std::string_view path) {
  return !path.empty() && path.front() == '/';
}

Status decode(const Json& v, const std::string& path, std::string& out) {
  if (!v.is_string()) return invalidAt(path, "must be a string");
  out = v.get<std::string>();
  return {};
}

Status decode(const Json& v, const std::string& path, bool& out) {
  if (!v.is_boolean()) return invalidAt(path, "must be a boolean");
  out = v.get<bool>();
  return {};
}

namespace {

char asciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// `key` equals the ASCII `name` under Go's case folding (encoding/json foldName).
bool goFoldEquals(std::string_view key, std::string_view name) {
  size_t k = 0;
  for (char want : name) {
    if (k >= key.size()) return false;
    char got = key[k];
    if (static_cast<unsigned char>(got) < 0x80) {
      ++k;
    } else if (key.substr(k, 3) == "\xE2\x84\xAA") {  // U+212A KELVIN SIGN
      got = 'k';
      k += 3;
    } else if (key.substr(k, 2) == "\xC5\xBF") {  // U+017F LATIN SMALL LETTER LONG S
      got = 's';
      k += 2;
    } else {
      return false;
    }
    if (asciiLower(got) != asciiLower(want)) return false;
  }
  return k == key.size();
}

}  // namespace

const Json* findMember(const Json& object, std::string_view key, KeyMatch match) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() && match == KeyMatch::kGoFold) {
    for (auto m = object.begin(); m != object.end(); ++m) {
      if (goFoldEquals(m.key(), key)) {
        it = m;
        break;
      }
    }
  }
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<JsonReader> JsonReader::open(const Json& value, std::string path, KeyMatch match) {
  if (!value.is_object()) return invalidAt(path, "must be an object");
  return JsonReader(value, std::move(path), match);
}

Result<Json> parseDocument(std::string_view text) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ..."; the
    // bracketed id means nothing to a user, the position does.
    std::string_view what = e.what();
    if (auto end = what.find("] "); end != std::string_view::npos) what.remove_prefix(end + 2);
    return fail(Code::kInvalidArgument, "invalid JSON: {}", what);
  }
}

}  // namespace berth::ocispec
