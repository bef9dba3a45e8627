#pragma once
// Where the controllers log: the daemon's "controllers" logger (berth-controller-manager
// registers it), else the process's default one (`berth up`'s).
#include "common/log.h"

namespace berth::controlplane::controllers {

inline std::shared_ptr<spdlog::logger> controllerLog() {
  return namedLogger("controllers");
}

}  // namespace berth::controlplane::controllers
