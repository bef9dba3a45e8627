#pragma once
// The storage layer's logger: the daemon's "storage" logger when it registered one, else
// spdlog's default.
#include <memory>

#include <spdlog/spdlog.h>

namespace berth::controlplane::storage {

inline std::shared_ptr<spdlog::logger> storageLog() {
  auto log = spdlog::get("storage");
  return log ? log : spdlog::default_logger();
}

}  // namespace berth::controlplane::storage
