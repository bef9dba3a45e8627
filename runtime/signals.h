#pragma once
// Signal names and numbers as `kill` accepts them: "KILL", "SIGKILL", "9", "RTMIN+3".

#include <string>

#include "common/result.h"

namespace berth::runtime {

[[nodiscard]] Result<int> parseSignal(const std::string& text);

}  // namespace berth::runtime
