#pragma once
// RFC 3339 times as the API carries them (metav1.Time, bootstrap token `expiration`): parsed with
// any offset and fraction, printed in UTC with second precision. Kept here until kubeapi/'s own
// time helpers are on this branch.
#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth::controlplane::auth {

[[nodiscard]] Result<std::chrono::system_clock::time_point> parseRfc3339(std::string_view text);
// "2006-01-02T15:04:05Z"
std::string formatRfc3339(std::chrono::system_clock::time_point time);

}  // namespace berth::controlplane::auth
