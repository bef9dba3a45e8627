#include "tests/bench/tools/bench_util.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "common/file_util.h"

namespace berth::bench {

int envInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

// VmRSS of a process, in MiB.
double rssMiB(pid_t pid) {
  std::string status = readFile(fmt::format("/proc/{}/status", pid)).value_or("");
  auto at = status.find("VmRSS:");
  if (at == std::string::npos) return -1;
  return std::atof(status.c_str() + at + 6) / 1024.0;
}

// utime + stime of a process, in seconds.
double cpuSeconds(pid_t pid) {
  std::string stat = readFile(fmt::format("/proc/{}/stat", pid)).value_or("");
  auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields;
  std::size_t pos = close + 2;
  while (pos < stat.size()) {
    auto space = stat.find(' ', pos);
    fields.push_back(stat.substr(pos, space - pos));
    if (space == std::string::npos) break;
    pos = space + 1;
  }
  // fields[0] is the state (field 3); utime and stime are fields 14 and 15.
  if (fields.size() < 13) return 0;
  return (std::atof(fields[11].c_str()) + std::atof(fields[12].c_str())) /
         static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// CPU share (of one core) the process used over `window`.
double idleCpuPercent(pid_t pid, std::chrono::seconds window) {
  double before = cpuSeconds(pid);
  std::this_thread::sleep_for(window);
  return 100.0 * (cpuSeconds(pid) - before) / static_cast<double>(window.count());
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i =
      std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

}  // namespace berth::bench
