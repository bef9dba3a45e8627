#pragma once
// What the C++ benchmarks share: integer knobs from the environment and a process's RSS and CPU
// time from /proc.
#include <sys/types.h>

#include <chrono>
#include <vector>

namespace berth::bench {

// $name as an integer, `fallback` when unset.
int envInt(const char* name, int fallback);
// VmRSS of a process, in MiB (-1 when it is gone).
double rssMiB(pid_t pid);
// utime + stime of a process, in seconds.
double cpuSeconds(pid_t pid);
// CPU share (of one core) the process used over `window` (sleeps that long).
double idleCpuPercent(pid_t pid, std::chrono::seconds window);
// The p-quantile (0..1) of `v`, 0 when empty.
double percentile(std::vector<double> v, double p);

}  // namespace berth::bench
