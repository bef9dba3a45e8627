#pragma once
// The integer fields of ReplicaSets and Deployments the controllers read, as Go reads them from
// their structs: absent (omitempty) is 0; spec.replicas, a pointer defaulted by the server, is 1
// when absent.
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kubeapi/json_fields.h"

namespace berth::controlplane::controllers {

inline std::int64_t intField(const nlohmann::json& object, std::string_view key,
                             std::int64_t fallback = 0) {
  const nlohmann::json& v = kubeapi::jsonField(object, key);
  return v.is_number_integer() ? v.get<std::int64_t>() : fallback;
}
inline const nlohmann::json& specOf(const nlohmann::json& obj) {
  return kubeapi::jsonField(obj, "spec");
}
inline const nlohmann::json& statusOf(const nlohmann::json& obj) {
  return kubeapi::jsonField(obj, "status");
}
inline std::int32_t specReplicas(const nlohmann::json& obj) {
  return static_cast<std::int32_t>(intField(specOf(obj), "replicas", 1));
}
inline std::int32_t minReadySeconds(const nlohmann::json& obj) {
  return static_cast<std::int32_t>(intField(specOf(obj), "minReadySeconds"));
}
inline std::int32_t statusInt(const nlohmann::json& obj, std::string_view key) {
  return static_cast<std::int32_t>(intField(statusOf(obj), key));
}

}  // namespace berth::controlplane::controllers
