#pragma once
// The logger of the auth code: berth-server's ("server") when registered, else spdlog's default.
#include <memory>

#include <spdlog/spdlog.h>

namespace berth::controlplane::auth {

inline std::shared_ptr<spdlog::logger> authLogger() {
  auto log = spdlog::get("server");
  return log ? log : spdlog::default_logger();
}

}  // namespace berth::controlplane::auth
