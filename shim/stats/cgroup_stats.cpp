#include "shim/stats/cgroup_stats.h"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string_view>

#include "common/file_util.h"

namespace berth::cri::stats {

namespace fs = std::filesystem;

namespace {

// Above this a limit means "none": the kernel rounds its unlimited value down to whole pages
// (containerd and cAdvisor use the same bound).
constexpr uint64_t kUnlimited = uint64_t{1} << 62;

bool limited(uint64_t limit) {
  return limit <= kUnlimited;
}

uint64_t minusFloor(uint64_t a, uint64_t b) {
  return a > b ? a - b : 0;
}

// A file that is not there is nullopt (an older kernel, a controller without the feature).
Result<std::optional<std::string>> readOptional(const fs::path& file) {
  auto text = readFile(file);
  if (text) return std::optional<std::string>(std::move(*text));
  if (text.error().sysErrno() == ENOENT) return std::nullopt;
  return std::unexpected(std::move(text).error());
}

Result<uint64_t> parseNumber(std::string_view text, const fs::path& file) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.remove_suffix(1);
  if (text == "max") return UINT64_MAX;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    return fail(Code::kInternal, "{}: {:?} is not a number", file.string(), text);
  return value;
}

// A single-value file ("123\n", "max\n"); nullopt when it does not exist.
Result<std::optional<uint64_t>> readNumber(const fs::path& file) {
  auto text = BERTH_TRY(readOptional(file));
  if (!text) return std::nullopt;
  return BERTH_TRY(parseNumber(*text, file));
}

// A flat keyed file ("key value" per line: memory.stat, cpu.stat, cpuacct.stat); empty when it
// does not exist.
Result<std::map<std::string, uint64_t, std::less<>>> readKeyed(const fs::path& file) {
  std::map<std::string, uint64_t, std::less<>> out;
  auto text = BERTH_TRY(readOptional(file));
  if (!text) return out;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    auto space = line.find(' ');
    if (space == std::string::npos)
      return fail(Code::kInternal, "{}: line {:?} is not \"key value\"", file.string(), line);
    out[line.substr(0, space)] = BERTH_TRY(parseNumber(line.substr(space + 1), file));
  }
  return out;
}

uint64_t valueOr0(const std::map<std::string, uint64_t, std::less<>>& m, std::string_view key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

// The directory of the hierarchy holding `controller` ("" when no hierarchy does).
std::string dirFor(const runtime::CgroupManager& cg, std::string_view controller) {
  if (cg.unified()) return cg.paths().empty() ? "" : cg.paths().begin()->second;
  for (const auto& [name, dir] : cg.paths()) {
    std::string_view rest = name;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      if (rest.substr(0, comma) == controller) return dir;
      rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
    }
  }
  return {};
}

// A pressure file, or nullopt where there is none to read: the file is missing (no PSI in the
// kernel) or PSI is off (psi=0 on the command line: reading fails with EOPNOTSUPP).
Result<std::optional<PsiStats>> readPsi(const fs::path& file) {
  auto text = readFile(file);
  if (!text) {
    int e = text.error().sysErrno();
    if (e == ENOENT || e == EOPNOTSUPP) return std::nullopt;
    return std::unexpected(std::move(text).error());
  }
  return BERTH_TRY(parsePsi(*text, file.string()));
}

MemoryUsage memoryUsage(uint64_t usage, uint64_t limit, uint64_t inactiveFile, int64_t ts) {
  MemoryUsage m;
  m.timestamp = ts;
  m.usageBytes = usage;
  m.workingSetBytes = minusFloor(usage, inactiveFile);
  if (limited(limit)) m.availableBytes = minusFloor(limit, m.workingSetBytes);
  return m;
}

// cgroup v1: cpuacct.usage (ns) and cpuacct.stat (USER_HZ ticks).
Result<std::optional<CpuUsage>> cpuV1(const fs::path& dir, int64_t ts) {
  auto usage = BERTH_TRY(readNumber(dir / "cpuacct.usage"));
  if (!usage) return std::nullopt;
  auto stat = BERTH_TRY(readKeyed(dir / "cpuacct.stat"));
  uint64_t nsPerTick = 1'000'000'000 / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
  return CpuUsage{.timestamp = ts,
                  .usageCoreNanoSeconds = *usage,
                  .userNanoSeconds = valueOr0(stat, "user") * nsPerTick,
                  .systemNanoSeconds = valueOr0(stat, "system") * nsPerTick};
}

// cgroup v2: cpu.stat (µs), there whether or not the cpu controller is enabled.
Result<std::optional<CpuUsage>> cpuV2(const fs::path& dir, int64_t ts) {
  auto stat = BERTH_TRY(readKeyed(dir / "cpu.stat"));
  if (!stat.contains("usage_usec")) return std::nullopt;
  return CpuUsage{.timestamp = ts,
                  .usageCoreNanoSeconds = valueOr0(stat, "usage_usec") * 1000,
                  .userNanoSeconds = valueOr0(stat, "user_usec") * 1000,
                  .systemNanoSeconds = valueOr0(stat, "system_usec") * 1000};
}

// Where each version keeps the memory numbers. v1: hierarchical totals from memory.stat, swap
// from memory.memsw.* (memory + swap, where swap accounting is on). v2: memory.current/max,
// memory.stat (anon as RSS, as cAdvisor), memory.swap.* (swap alone).
struct MemoryFiles {
  const char* usage;
  const char* limit;
  const char* inactiveFile;  // memory.stat keys
  const char* rss;
  const char* pgfault;
  const char* pgmajfault;
  const char* swapUsage;
  const char* swapLimit;
  bool swapIncludesMemory;
};
constexpr MemoryFiles kMemoryV1{.usage = "memory.usage_in_bytes",
                                .limit = "memory.limit_in_bytes",
                                .inactiveFile = "total_inactive_file",
                                .rss = "total_rss",
                                .pgfault = "total_pgfault",
                                .pgmajfault = "total_pgmajfault",
                                .swapUsage = "memory.memsw.usage_in_bytes",
                                .swapLimit = "memory.memsw.limit_in_bytes",
                                .swapIncludesMemory = true};
constexpr MemoryFiles kMemoryV2{.usage = "memory.current",
                                .limit = "memory.max",
                                .inactiveFile = "inactive_file",
                                .rss = "anon",
                                .pgfault = "pgfault",
                                .pgmajfault = "pgmajfault",
                                .swapUsage = "memory.swap.current",
                                .swapLimit = "memory.swap.max",
                                .swapIncludesMemory = false};

Status readMemory(const fs::path& dir, const MemoryFiles& f, int64_t ts, CgroupStats& out) {
  auto usage = BERTH_TRY(readNumber(dir / f.usage));
  if (!usage) return {};
  uint64_t limit = BERTH_TRY(readNumber(dir / f.limit)).value_or(UINT64_MAX);
  auto stat = BERTH_TRY(readKeyed(dir / "memory.stat"));
  MemoryUsage m = memoryUsage(*usage, limit, valueOr0(stat, f.inactiveFile), ts);
  m.rssBytes = valueOr0(stat, f.rss);
  m.pageFaults = valueOr0(stat, f.pgfault);
  m.majorPageFaults = valueOr0(stat, f.pgmajfault);
  out.memory = m;
  auto swap = BERTH_TRY(readNumber(dir / f.swapUsage));
  if (!swap) return {};
  uint64_t swapLimit = BERTH_TRY(readNumber(dir / f.swapLimit)).value_or(UINT64_MAX);
  SwapUsage s{.timestamp = ts};
  if (f.swapIncludesMemory) {
    s.swapUsageBytes = minusFloor(*swap, *usage);
    if (limited(swapLimit) && limited(limit))
      s.swapAvailableBytes = minusFloor(minusFloor(swapLimit, limit), s.swapUsageBytes);
  } else {
    s.swapUsageBytes = *swap;
    if (limited(swapLimit)) s.swapAvailableBytes = minusFloor(swapLimit, *swap);
  }
  out.swap = s;
  return {};
}

}  // namespace

Result<PsiStats> parsePsi(const std::string& text, const std::string& file) {
  PsiStats out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    char kind[8] = {};
    PsiData d;
    unsigned long long totalUs = 0;
    int used = 0;
    if (std::sscanf(line.c_str(), "%7s avg10=%lf avg60=%lf avg300=%lf total=%llu%n", kind, &d.avg10,
                    &d.avg60, &d.avg300, &totalUs, &used) != 5 ||
        static_cast<size_t>(used) != line.size())
      return fail(Code::kInternal, "{}: line {:?} is not a pressure line", file, line);
    d.totalNanoSeconds = static_cast<uint64_t>(totalUs) * 1000;
    if (std::string_view(kind) == "some")
      out.some = d;
    else if (std::string_view(kind) == "full")
      out.full = d;
    else
      return fail(Code::kInternal, "{}: unknown pressure kind {:?}", file, kind);
  }
  return out;
}

Result<runtime::CgroupManager> containerCgroup(const std::string& cgroupsPath,
                                               const std::string& id, CgroupDriver driver) {
  if (driver == CgroupDriver::kSystemd)
    return runtime::CgroupManager::forSystemdScope(cgroupsPath, id);
  return runtime::CgroupManager::forContainer(cgroupsPath, id);
}

Result<runtime::CgroupManager> podCgroup(const std::string& cgroupParent, CgroupDriver driver) {
  if (cgroupParent.empty()) return fail(Code::kFailedPrecondition, "the pod has no cgroup_parent");
  if (driver == CgroupDriver::kCgroupfs)
    return runtime::CgroupManager::forContainer(cgroupParent, "");
  if (!cgroupParent.ends_with(".slice") || cgroupParent.find(':') != std::string::npos)
    return fail(Code::kInvalidArgument,
                "cgroup_parent \"{}\" is not a systemd slice (cgroup driver systemd)",
                cgroupParent);
  // The manager owns systemd's slice → path expansion; a scope's directory sits in its slice's.
  auto scope =
      BERTH_TRY_CTX(runtime::CgroupManager::forSystemdScope(cgroupParent + ":berth:stats", "stats"),
                    fmt::format("cgroup_parent \"{}\"", cgroupParent));
  std::string slice = fs::path(scope.paths().begin()->second).parent_path().string();
  return runtime::CgroupManager::fromPaths(true, {{"", slice}});
}

Result<CgroupStats> readCgroupStats(const runtime::CgroupManager& cgroup, int64_t timestamp) {
  CgroupStats out;
  bool unified = cgroup.unified();
  std::string cpuDir = dirFor(cgroup, unified ? "" : "cpuacct");
  std::string memoryDir = dirFor(cgroup, unified ? "" : "memory");
  // A hierarchy the host lacks leaves its part unset; the cgroup's own directories missing means
  // the cgroup is gone.
  bool anyDir = false;
  std::string missing;
  auto exists = [&](const std::string& dir) {
    if (dir.empty()) return false;
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return anyDir = true;
    missing = dir;
    return false;
  };
  auto context = [](std::string_view what, const std::string& dir) {
    return fmt::format("read {} stats of cgroup {}", what, dir);
  };
  if (exists(cpuDir))
    out.cpu = BERTH_TRY_CTX(unified ? cpuV2(cpuDir, timestamp) : cpuV1(cpuDir, timestamp),
                            context("cpu", cpuDir));
  if (exists(memoryDir))
    BERTH_TRY_CTX(readMemory(memoryDir, unified ? kMemoryV2 : kMemoryV1, timestamp, out),
                  context("memory", memoryDir));
  if (!anyDir && !missing.empty())
    return fail(Code::kNotFound, "cgroup {} does not exist", missing);
  // Pressure, from the cgroup2 directory (on a hybrid host too: PSI does not need controllers).
  std::error_code ec;
  if (std::string dir = cgroup.unifiedDir(); !dir.empty() && fs::is_directory(dir, ec)) {
    if (out.cpu)
      out.cpu->psi = BERTH_TRY_CTX(readPsi(fs::path(dir) / "cpu.pressure"), context("cpu", dir));
    if (out.memory)
      out.memory->psi =
          BERTH_TRY_CTX(readPsi(fs::path(dir) / "memory.pressure"), context("memory", dir));
    auto io = BERTH_TRY_CTX(readPsi(fs::path(dir) / "io.pressure"), context("io", dir));
    if (io) out.io = IoUsage{.timestamp = timestamp, .psi = io};
  }
  auto pids = BERTH_TRY_CTX(cgroup.pids(), "list the cgroup's processes");
  out.processCount = pids.size();
  return out;
}

Result<bool> oomKilled(const runtime::CgroupManager& cgroup) {
  const auto& paths = cgroup.paths();
  auto it = paths.find(cgroup.unified() ? "" : "memory");
  if (it == paths.end()) return false;
  // oom_kill counts the tasks the OOM killer killed (v1 since Linux 4.13).
  auto events = BERTH_TRY(readKeyed(fs::path(it->second) /
                                    (cgroup.unified() ? "memory.events" : "memory.oom_control")));
  return valueOr0(events, "oom_kill") > 0;
}

}  // namespace berth::cri::stats
