#pragma once
// The time seam of the auth code: token expiry, bootstrap token expiration and certificate
// validity are decided against an injected clock, so tests never wait or read the wall clock.
#include <chrono>
#include <functional>

namespace berth::controlplane::auth {

using Clock = std::function<std::chrono::system_clock::time_point()>;

inline Clock systemClock() {
  return [] { return std::chrono::system_clock::now(); };
}

}  // namespace berth::controlplane::auth
