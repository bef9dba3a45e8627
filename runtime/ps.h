#pragma once
// `ps` output filtered to a container's processes, as runc does: run ps(1) with the given
// arguments (default -ef) and keep the header and the lines whose PID column is one of ours.

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"

namespace berth::runtime {

[[nodiscard]] Result<std::string> psTable(const std::vector<pid_t>& pids,
                                          const std::vector<std::string>& psArgs);
// The filtering step alone (unit-tested): ps output in, our lines out.
[[nodiscard]] Result<std::string> filterPsOutput(const std::string& psOutput,
                                                 const std::vector<pid_t>& pids);

}  // namespace berth::runtime
