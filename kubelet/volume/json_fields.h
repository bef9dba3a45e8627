#pragma once
// Reads of volume-source fields from pod JSON with errors that name the field
// ("items[1].mode: ..."), for the plugins' payload builders.

#include <sys/types.h>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::kubelet::volume {

// A required non-empty string.
[[nodiscard]] Result<std::string> stringField(const nlohmann::json& obj, std::string_view key,
                                              std::string_view where);
// A file mode (int32 in the API) between 0 and 0777; fallback when absent.
[[nodiscard]] Result<mode_t> modeField(const nlohmann::json& obj, std::string_view key,
                                       mode_t fallback, std::string_view where);
// A bool; false when absent or not a bool.
bool boolField(const nlohmann::json& obj, std::string_view key);

}  // namespace berth::kubelet::volume
