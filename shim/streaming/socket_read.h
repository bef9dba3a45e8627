#pragma once
// The read step both transports' reader loops share (SPDY, WebSocket): wait for the socket, but
// never long, so a close asked for from another thread (a deadline on the steady clock) is seen.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/result.h"

namespace berth::shim {

// Milliseconds on the steady clock, the unit of close deadlines.
std::int64_t steadyMs();

// Reads what the socket has within 500 ms or until `closeDeadlineMs` (0: none). The byte count;
// 0 at EOF or once the deadline passed (the loop ends); nullopt when nothing came yet (try again).
[[nodiscard]] Result<std::optional<std::size_t>> readSocketStep(int fd, char* buf, std::size_t size,
                                                                std::int64_t closeDeadlineMs);

}  // namespace berth::shim
