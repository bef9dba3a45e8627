#pragma once
// metav1.Time and metav1.MicroTime as the API writes and reads them: RFC 3339 in UTC,
// "2024-05-01T10:20:30Z" (seconds, truncated) and "2024-05-01T10:20:30.123456Z" (microseconds).
// Parsing accepts any RFC 3339 time as Go's time.Parse(time.RFC3339) does: an optional
// fraction (any number of digits, nanoseconds kept) and "Z" or a "+hh:mm"/"-hh:mm" offset.
// An unset time is std::nullopt, written as JSON null.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::kubeapi {

using Time = std::chrono::sys_time<std::chrono::nanoseconds>;

inline Time now() {
  return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

std::string formatTime(Time t);
std::string formatMicroTime(Time t);
[[nodiscard]] Result<Time> parseTime(std::string_view s);

// JSON: null (or "") <-> nullopt.
nlohmann::json timeToJson(const std::optional<Time>& t);
nlohmann::json microTimeToJson(const std::optional<Time>& t);
[[nodiscard]] Result<std::optional<Time>> timeFromJson(const nlohmann::json& j);

}  // namespace berth::kubeapi
