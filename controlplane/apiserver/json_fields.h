#pragma once
// Reading fields of objects kept as JSON, where a missing or mistyped field reads as empty: what
// strategies, admission and controllers do on objects that passed validation or may not have.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace berth::controlplane::apiserver {

// object[key], or null when `object` is not an object or has no such key.
inline const nlohmann::json& jsonField(const nlohmann::json& object, std::string_view key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it != object.end() ? *it : kNull;
}

// object[key] as a string, or "" when it is absent or not a string.
inline std::string jsonString(const nlohmann::json& object, std::string_view key) {
  const nlohmann::json& value = jsonField(object, key);
  return value.is_string() ? value.get<std::string>() : std::string();
}

}  // namespace berth::controlplane::apiserver
