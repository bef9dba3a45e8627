#pragma once
// berth-server's logger ("server"), for the control plane's libraries; spdlog's default when the
// binary linking them registered none.
#include <memory>

#include <spdlog/spdlog.h>

#include "common/log.h"

namespace berth::controlplane {

inline std::shared_ptr<spdlog::logger> serverLogger() {
  return namedLogger("server");
}

}  // namespace berth::controlplane
