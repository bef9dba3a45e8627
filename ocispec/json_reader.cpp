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

Result<JsonReader> JsonReader::open(const Json& value, std::string path) {
  if (!value.is_object()) return invalidAt(path, "must be an object");
  return JsonReader(value, std::move(path));
}

const Json* JsonReader::find(std::string_view key) const {
  auto it = object_->find(key);
  if (it == object_->end() || it->is_null()) return nullptr;
  return &*it;
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
