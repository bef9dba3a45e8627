#pragma once
// Capability names (CAP_SYS_ADMIN) to numbers, through libcap.

#include <string>
#include <vector>

#include "common/result.h"

namespace berth::runtime {

// The capability number of a CAP_* name, or -1 when this kernel/libcap does not know it.
int capabilityFromName(const std::string& name);
// Highest capability number the running kernel supports.
int lastCapability();
// Every capability name this kernel supports, CAP_ prefixed and upper-case (for `features`).
std::vector<std::string> knownCapabilities();

}  // namespace berth::runtime
