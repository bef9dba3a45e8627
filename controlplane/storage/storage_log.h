#pragma once
// The storage layer's logger: the daemon's "storage" logger when it registered one, else
// spdlog's default.
#include <memory>

#include <spdlog/spdlog.h>

#include "common/log.h"

namespace berth::controlplane::storage {

inline std::shared_ptr<spdlog::logger> storageLog() {
  return namedLogger("storage");
}

}  // namespace berth::controlplane::storage
