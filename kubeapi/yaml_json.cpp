#include "kubeapi/yaml_json.h"

#include <charconv>
#include <optional>
#include <regex>
#include <set>

#include <yaml-cpp/yaml.h>

namespace berth::kubeapi {
namespace {

using json = nlohmann::json;

std::optional<bool> yaml11Bool(const std::string& s) {
  static const std::set<std::string> kTrue = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                              "True", "TRUE", "on",  "On",  "ON"};
  static const std::set<std::string> kFalse = {"n",     "N",     "no",  "No",  "NO", "false",
                                               "False", "FALSE", "off", "Off", "OFF"};
  if (kTrue.contains(s)) return true;
  if (kFalse.contains(s)) return false;
  return std::nullopt;
}

json plainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (auto b = yaml11Bool(s)) return *b;
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (std::regex_match(s, kInt)) {
    int64_t v = 0;
    const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
    if (std::from_chars(begin, s.data() + s.size(), v).ec == std::errc()) return v;
    return std::strtod(s.c_str(), nullptr);  // beyond int64: a float, as go-yaml
  }
  if (std::regex_match(s, kFloat)) return std::strtod(s.c_str(), nullptr);
  return s;
}

Result<json> convert(const YAML::Node& node, DuplicateKeys duplicates) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return json(nullptr);
    case YAML::NodeType::Scalar:
      // Quoted scalars have the tag "!"; plain ones "?" (resolved by their text).
      if (node.Tag() == "?") return plainScalar(node.Scalar());
      return json(node.Scalar());
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node)
        out.push_back(BERTH_TRY(convert(item, duplicates)));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) return fail(Code::kInvalidArgument, "keys must be strings");
        const std::string& key = kv.first.Scalar();
        if (duplicates == DuplicateKeys::kReject && out.contains(key)) {
          return fail(Code::kInvalidArgument, "duplicate field \"{}\"", key);
        }
        out[key] = BERTH_TRY_CTX(convert(kv.second, duplicates), key);
      }
      return out;
    }
  }
  return json(nullptr);
}

}  // namespace

Result<json> yamlToJson(std::string_view text, DuplicateKeys duplicates) {
  try {
    return convert(YAML::Load(std::string(text)), duplicates);
  } catch (const YAML::Exception& e) {
    return fail(Code::kInvalidArgument, "invalid YAML at line {} column {}: {}", e.mark.line + 1,
                e.mark.column + 1, e.msg);
  }
}

}  // namespace berth::kubeapi
