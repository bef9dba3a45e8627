#pragma once
// `events`: cgroup statistics in runc's JSON (libcontainer/types Event/Stats), once (--stats) or
// every interval, plus OOM events, until the container stops.

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "runtime/cgroup_manager.h"

namespace berth::runtime {

// runc's types.Stats for the container's cgroup (v1 or v2 files).
nlohmann::ordered_json collectStats(const CgroupManager& cgroup);

// {"type":"stats","id":...,"data":{...}} on one line.
std::string statsEvent(const std::string& id, const CgroupManager& cgroup);

// Prints a stats event every `interval` and {"type":"oom","id":...} on each OOM kill, until
// the process `pid` exits.
[[nodiscard]] Status streamEvents(const std::string& id, pid_t pid, const CgroupManager& cgroup,
                                  std::chrono::milliseconds interval);

}  // namespace berth::runtime
