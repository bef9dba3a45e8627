#pragma once
// Where `berth up` finds the daemons it starts: next to its own executable first (an install in
// /usr/bin, or build/bin in a build tree), then /usr/libexec/berth (helpers not meant for people:
// berth-monitor, berth-pod-init), then PATH. The CNI plugins sit in ../lib/berth/cni beside the
// executable's directory when installed, in ../cni-bin in a build tree.
#include <filesystem>
#include <string>

#include "common/result.h"

namespace berth::cmd {

[[nodiscard]] Result<std::filesystem::path> findExecutable(const std::string& name);
[[nodiscard]] Result<std::filesystem::path> findCniBinDir();

}  // namespace berth::cmd
