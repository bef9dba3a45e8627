#pragma once
// Starts berth-monitor for one container and waits for its start-up report (monitor_protocol.h):
// the monitor forks itself away (it outlives berth-cri), runs the runtime's `create` and writes
// {"pid":N} or {"error":"..."} on the sync fd.
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace berth::cri {

struct MonitorLaunch {
  std::filesystem::path monitorPath;  // berth-monitor
  std::string id;
  std::filesystem::path bundle;
  std::string runtimePath;
  std::vector<std::string> runtimeArgs;  // global flags
  std::filesystem::path logPath;         // the CRI log
  std::filesystem::path exitFile;
  std::filesystem::path socketDir;
  std::filesystem::path monitorLog;  // the monitor's own stderr
  bool terminal = false;
  bool stdin = false;
  bool stdinOnce = false;
};

// The container's init pid once it is created. Errors carry what the monitor (or the runtime it
// ran) reported.
[[nodiscard]] Result<pid_t> launchMonitor(const MonitorLaunch& launch);

}  // namespace berth::cri
