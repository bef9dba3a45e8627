#pragma once
// The config.json `spec` writes: runc's template, so tools that edit `runc spec` output with jq
// find the same fields.

#include <nlohmann/json.hpp>

namespace berth::runtime {

nlohmann::ordered_json defaultSpec(bool rootless);
// `features` (runtime-spec features.md).
nlohmann::ordered_json featuresDocument();

}  // namespace berth::runtime
