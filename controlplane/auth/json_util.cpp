#include "controlplane/auth/json_util.h"

namespace berth::controlplane::auth::json {

const nlohmann::json* member(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const nlohmann::json* path(const nlohmann::json& object,
                           std::initializer_list<std::string_view> keys) {
  const nlohmann::json* at = &object;
  for (auto key : keys) {
    at = member(*at, key);
    if (at == nullptr) return nullptr;
  }
  return at;
}

std::string string(const nlohmann::json& object, std::string_view key) {
  const auto* value = member(object, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

std::string stringAt(const nlohmann::json& object, std::initializer_list<std::string_view> keys) {
  const auto* value = path(object, keys);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

std::string meta(const nlohmann::json& object, std::string_view key) {
  return stringAt(object, {"metadata", key});
}

std::vector<std::string> strings(const nlohmann::json& object, std::string_view key) {
  std::vector<std::string> values;
  for (const auto& value : array(object, key)) {
    if (value.is_string()) values.push_back(value.get<std::string>());
  }
  return values;
}

const nlohmann::json& array(const nlohmann::json& object, std::string_view key) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  const auto* value = member(object, key);
  return value != nullptr && value->is_array() ? *value : kEmpty;
}

bool boolean(const nlohmann::json& object, std::string_view key, bool otherwise) {
  const auto* value = member(object, key);
  return value != nullptr && value->is_boolean() ? value->get<bool>() : otherwise;
}

}  // namespace berth::controlplane::auth::json
