#pragma once
// Reading fields of objects kept as JSON, where a missing or mistyped field reads as empty: what
// the server's strategies and every client's sync code do on objects that passed validation or
// may not have.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace berth::kubeapi {

// object[key], or null when `object` is not an object or has no such key.
inline const nlohmann::json& jsonField(const nlohmann::json& object, std::string_view key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it != object.end() ? *it : kNull;
}

// object[key] as a string, or `fallback` when it is absent or not a string.
inline std::string jsonString(const nlohmann::json& object, std::string_view key,
                              std::string_view fallback = {}) {
  const nlohmann::json& value = jsonField(object, key);
  return value.is_string() ? value.get<std::string>() : std::string(fallback);
}

// object[key] when it is an array, else an empty array.
inline const nlohmann::json& jsonArray(const nlohmann::json& object, std::string_view key) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  const nlohmann::json& value = jsonField(object, key);
  return value.is_array() ? value : kEmpty;
}

// object[key] as a bool, or `fallback`.
inline bool jsonBool(const nlohmann::json& object, std::string_view key, bool fallback = false) {
  const nlohmann::json& value = jsonField(object, key);
  return value.is_boolean() ? value.get<bool>() : fallback;
}

}  // namespace berth::kubeapi
