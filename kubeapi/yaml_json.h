#pragma once
// YAML to JSON as sigs.k8s.io/yaml converts it: go-yaml v2 resolves plain scalars with YAML 1.1's
// rules (yes/no/on/off are booleans), quoted scalars stay strings. JSON is YAML, so JSON input
// reads back as itself. Read by the kubelet's config file and its static pod manifests.
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::kubeapi {

enum class DuplicateKeys {
  kReject,    // YAMLToJSONStrict: a duplicate key is an error
  kLastWins,  // YAMLToJSON
};

// One document; errors (kInvalidArgument) name the line and column, or the key path.
[[nodiscard]] Result<nlohmann::json> yamlToJson(std::string_view text,
                                                DuplicateKeys duplicates = DuplicateKeys::kReject);

}  // namespace berth::kubeapi
