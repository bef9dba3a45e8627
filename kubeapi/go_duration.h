#pragma once
// Go's time.Duration text, which metav1.Duration and many config fields use: "1h2m3.5s",
// "300ms", "1.5µs", "0s" (time.Duration.String) and time.ParseDuration's grammar and messages
// ("time: invalid duration \"x\"", "time: missing unit in duration \"1\"", "time: unknown unit
// \"d\" in duration \"1d\"").
#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth::kubeapi {

std::string formatGoDuration(std::chrono::nanoseconds d);
[[nodiscard]] Result<std::chrono::nanoseconds> parseGoDuration(std::string_view s);

}  // namespace berth::kubeapi
