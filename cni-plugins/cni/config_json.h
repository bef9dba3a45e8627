#pragma once
// CNI JSON is read the way the reference plugins and libcni read it: Go's encoding/json matches an
// object's keys to struct fields case-insensitively, the exact spelling first. So containerd's
// portMappings, {"HostPort":18080,"ContainerPort":80,"Protocol":"tcp","HostIP":"127.0.0.1"} (a
// Go struct without JSON tags), are hostPort, containerPort, protocol and hostIP. Every network
// configuration, runtimeConfig, prevResult, IPAM section, result and cache file our plugins and
// the runtime library read goes through these two; map keys (capability names, CNI_ARGS) stay
// exact, as in Go.

#include <string>
#include <string_view>

#include "ocispec/json_reader.h"

namespace berth::cni {

[[nodiscard]] inline Result<ocispec::JsonReader> openConfig(const nlohmann::json& value,
                                                            std::string path) {
  return ocispec::JsonReader::open(value, std::move(path), ocispec::KeyMatch::kGoFold);
}

// The member of a configuration object `key` names, or nullptr (absent, null, not an object).
inline const nlohmann::json* member(const nlohmann::json& object, std::string_view key) {
  return ocispec::findMember(object, key, ocispec::KeyMatch::kGoFold);
}

}  // namespace berth::cni
