#include "common/yaml_reader.h"

#include <charconv>

namespace berth::yaml {

namespace {

std::string lineOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return "";
  return fmt::format(" (line {})", mark.line + 1);
}

std::string_view typeName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "undefined";
  }
}

}  // namespace

Result<YAML::Node> parse(std::string_view text) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return fail(Code::kInvalidArgument, "invalid YAML: {}", e.msg);
    return fail(Code::kInvalidArgument, "invalid YAML at line {} column {}: {}", e.mark.line + 1,
                e.mark.column + 1, e.msg);
  }
}

Result<MapReader> MapReader::open(const YAML::Node& node, std::string path) {
  if (node.IsNull()) return MapReader(YAML::Node(YAML::NodeType::Map), std::move(path), {});
  if (!node.IsMap()) {
    return fail(Code::kInvalidArgument, "{}: must be a mapping, not {}{}",
                path.empty() ? "document" : path, typeName(node), lineOf(node));
  }
  std::vector<std::string> keys;
  std::set<std::string, std::less<>> seen;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      return fail(Code::kInvalidArgument, "{}: keys must be scalars{}",
                  path.empty() ? "document" : path, lineOf(kv.first));
    }
    std::string key = kv.first.Scalar();
    std::string full = path.empty() ? key : fmt::format("{}.{}", path, key);
    // yaml-cpp keeps the first of two equal keys silently; a config with both is a mistake.
    if (!seen.insert(key).second) {
      return fail(Code::kInvalidArgument, "{}: duplicate key{}", full, lineOf(kv.first));
    }
    keys.push_back(std::move(key));
  }
  return MapReader(node, std::move(path), std::move(keys));
}

std::string MapReader::pathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

std::optional<YAML::Node> MapReader::keyNode(std::string_view key) const {
  for (const auto& kv : node_) {
    if (kv.first.Scalar() == key) return kv.first;
  }
  return std::nullopt;
}

Error MapReader::keyError(std::string_view key, std::string_view message) const {
  std::string where;
  if (auto k = keyNode(key)) where = lineOf(*k);
  return Error(Code::kInvalidArgument, fmt::format("{}: {}{}", pathOf(key), message, where));
}

bool MapReader::has(std::string_view key) const {
  for (const auto& kv : node_) {
    if (kv.first.Scalar() == key) return !kv.second.IsNull();
  }
  return false;
}

std::optional<YAML::Node> MapReader::take(std::string_view key) {
  consumed_.insert(std::string(key));
  for (const auto& kv : node_) {
    if (kv.first.Scalar() != key) continue;
    if (kv.second.IsNull()) return std::nullopt;
    return kv.second;
  }
  return std::nullopt;
}

Status MapReader::readString(std::string_view key, std::string& out) {
  auto v = take(key);
  if (!v) return {};
  if (!v->IsScalar()) {
    return std::unexpected(keyError(key, fmt::format("must be a string, not {}", typeName(*v))));
  }
  out = v->Scalar();
  return {};
}

Status MapReader::readBool(std::string_view key, bool& out) {
  auto v = take(key);
  if (!v) return {};
  if (v->IsScalar()) {
    const std::string& s = v->Scalar();
    if (s == "true") {
      out = true;
      return {};
    }
    if (s == "false") {
      out = false;
      return {};
    }
  }
  return std::unexpected(keyError(key, "must be true or false"));
}

Status MapReader::readInt(std::string_view key, int64_t& out, int64_t min, int64_t max) {
  auto v = take(key);
  if (!v) return {};
  int64_t value = 0;
  bool ok = false;
  if (v->IsScalar()) {
    const std::string& s = v->Scalar();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    ok = ec == std::errc() && end == s.data() + s.size() && !s.empty();
  }
  if (!ok || value < min || value > max) {
    return std::unexpected(
        keyError(key, fmt::format("must be an integer from {} to {}", min, max)));
  }
  out = value;
  return {};
}

Status MapReader::readStringList(std::string_view key, std::vector<std::string>& out) {
  auto v = take(key);
  if (!v) return {};
  if (!v->IsSequence()) {
    return std::unexpected(
        keyError(key, fmt::format("must be a list of strings, not {}", typeName(*v))));
  }
  std::vector<std::string> items;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const YAML::Node item = (*v)[i];
    if (!item.IsScalar()) {
      return fail(Code::kInvalidArgument, "{}[{}]: must be a string, not {}{}", pathOf(key), i,
                  typeName(item), lineOf(item));
    }
    items.push_back(item.Scalar());
  }
  out = std::move(items);
  return {};
}

Result<std::optional<MapReader>> MapReader::readMap(std::string_view key) {
  auto v = take(key);
  if (!v) return std::optional<MapReader>();
  if (!v->IsMap()) {
    return std::unexpected(keyError(key, fmt::format("must be a mapping, not {}", typeName(*v))));
  }
  return std::optional<MapReader>(BERTH_TRY(open(*v, pathOf(key))));
}

Status MapReader::finish() const {
  for (const auto& key : keys_) {
    if (!consumed_.contains(key)) return std::unexpected(keyError(key, "unknown key"));
  }
  return {};
}

}  // namespace berth::yaml
