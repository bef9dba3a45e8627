#pragma once
// The kubelet's logger: the daemon registers it as "kubelet"; library code (and tests) that run
// without the daemon get spdlog's default.
#include <memory>

#include "common/log.h"

namespace berth::kubelet {

inline std::shared_ptr<spdlog::logger> kubeletLog() {
  return namedLogger("kubelet");
}

}  // namespace berth::kubelet
