#include "runtime/events.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "common/file_util.h"
#include "common/unique_fd.h"

namespace berth::runtime {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

uint64_t readNumber(const fs::path& file) {
  auto text = readFile(file);
  if (!text) return 0;
  try {
    if (text->rfind("max", 0) == 0) return UINT64_MAX;
    return std::stoull(*text);
  } catch (...) {
    return 0;
  }
}

// "key value" lines (memory.stat, cpu.stat, cpuacct.stat).
std::map<std::string, uint64_t> readKeyed(const fs::path& file) {
  std::map<std::string, uint64_t> out;
  auto text = readFile(file);
  if (!text) return out;
  std::istringstream in(*text);
  std::string key;
  uint64_t value;
  while (in >> key >> value)
    out[key] = value;
  return out;
}

std::vector<uint64_t> readList(const fs::path& file) {
  std::vector<uint64_t> out;
  auto text = readFile(file);
  if (!text) return out;
  std::istringstream in(*text);
  uint64_t v;
  while (in >> v)
    out.push_back(v);
  return out;
}

// Go's omitempty: zero numbers and empty containers are left out.
void putNonZero(json& j, const char* key, uint64_t v) {
  if (v) j[key] = v;
}

json memoryEntry(const fs::path& dir, const std::string& prefix) {
  json e;
  e["limit"] = readNumber(dir / (prefix + ".limit_in_bytes"));
  putNonZero(e, "usage", readNumber(dir / (prefix + ".usage_in_bytes")));
  putNonZero(e, "max", readNumber(dir / (prefix + ".max_usage_in_bytes")));
  e["failcnt"] = readNumber(dir / (prefix + ".failcnt"));
  return e;
}

// blkio v1 "maj:min Op value" lines.
json blkioEntries(const fs::path& file) {
  json out = json::array();
  auto text = readFile(file);
  if (!text) return out;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::string dev, op;
    uint64_t value = 0;
    if (!(f >> dev >> op >> value)) continue;
    unsigned major = 0, minor = 0;
    if (std::sscanf(dev.c_str(), "%u:%u", &major, &minor) != 2) continue;
    json e;
    putNonZero(e, "major", major);
    putNonZero(e, "minor", minor);
    e["op"] = op;
    putNonZero(e, "value", value);
    out.push_back(e);
  }
  return out;
}

json statsV1(const CgroupManager& cg) {
  json stats;
  auto dir = [&](const char* c) -> fs::path {
    for (const auto& [name, path] : cg.paths()) {
      std::istringstream names(name);
      for (std::string n; std::getline(names, n, ',');)
        if (n == c) return path;
    }
    return {};
  };
  json cpu, usage, throttling;
  fs::path acct = dir("cpuacct");
  auto percpu = readList(acct / "cpuacct.usage_percpu");
  if (!percpu.empty()) usage["percpu"] = percpu;
  putNonZero(usage, "total", readNumber(acct / "cpuacct.usage"));
  // cpuacct.stat is in USER_HZ ticks; runc reports nanoseconds.
  auto ticks = readKeyed(acct / "cpuacct.stat");
  const uint64_t nsPerTick = 1000000000ULL / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
  usage["kernel"] = ticks["system"] * nsPerTick;
  usage["user"] = ticks["user"] * nsPerTick;
  auto cpuStat = readKeyed(dir("cpu") / "cpu.stat");
  putNonZero(throttling, "periods", cpuStat["nr_periods"]);
  putNonZero(throttling, "throttled_periods", cpuStat["nr_throttled"]);
  putNonZero(throttling, "throttled_time", cpuStat["throttled_time"]);
  cpu["usage"] = usage;
  if (!throttling.empty()) cpu["throttling"] = throttling;
  stats["cpu"] = cpu;

  fs::path mem = dir("memory");
  json memory;
  auto raw = readKeyed(mem / "memory.stat");
  putNonZero(memory, "cache", raw["cache"]);
  memory["usage"] = memoryEntry(mem, "memory");
  memory["swap"] = memoryEntry(mem, "memory.memsw");
  memory["kernel"] = memoryEntry(mem, "memory.kmem");
  memory["kernelTCP"] = memoryEntry(mem, "memory.kmem.tcp");
  if (!raw.empty()) memory["raw"] = raw;
  stats["memory"] = memory;

  json pids;
  putNonZero(pids, "current", readNumber(dir("pids") / "pids.current"));
  uint64_t limit = readNumber(dir("pids") / "pids.max");
  putNonZero(pids, "limit", limit == UINT64_MAX ? 0 : limit);
  stats["pids"] = pids;

  json blkio;
  fs::path b = dir("blkio");
  for (auto [key, file] :
       {std::pair{"ioServiceBytesRecursive", "blkio.throttle.io_service_bytes_recursive"},
        std::pair{"ioServicedRecursive", "blkio.throttle.io_serviced_recursive"}}) {
    auto entries = blkioEntries(b / file);
    if (!entries.empty()) blkio[key] = entries;
  }
  stats["blkio"] = blkio.is_null() ? json::object() : blkio;
  return stats;
}

json statsV2(const CgroupManager& cg) {
  fs::path dir = cg.paths().begin()->second;
  json stats, cpu, usage, throttling;
  auto cpuStat = readKeyed(dir / "cpu.stat");
  putNonZero(usage, "total", cpuStat["usage_usec"] * 1000);
  usage["kernel"] = cpuStat["system_usec"] * 1000;
  usage["user"] = cpuStat["user_usec"] * 1000;
  putNonZero(throttling, "periods", cpuStat["nr_periods"]);
  putNonZero(throttling, "throttled_periods", cpuStat["nr_throttled"]);
  putNonZero(throttling, "throttled_time", cpuStat["throttled_usec"] * 1000);
  cpu["usage"] = usage;
  if (!throttling.empty()) cpu["throttling"] = throttling;
  stats["cpu"] = cpu;
  json memory, mu, swap;
  auto raw = readKeyed(dir / "memory.stat");
  putNonZero(memory, "cache", raw["file"]);
  mu["limit"] = readNumber(dir / "memory.max");
  putNonZero(mu, "usage", readNumber(dir / "memory.current"));
  putNonZero(mu, "max", readNumber(dir / "memory.peak"));
  mu["failcnt"] = readKeyed(dir / "memory.events")["max"];
  swap["limit"] = readNumber(dir / "memory.swap.max");
  putNonZero(swap, "usage", readNumber(dir / "memory.swap.current"));
  swap["failcnt"] = 0;
  memory["usage"] = mu;
  memory["swap"] = swap;
  if (!raw.empty()) memory["raw"] = raw;
  stats["memory"] = memory;
  json pids;
  putNonZero(pids, "current", readNumber(dir / "pids.current"));
  uint64_t limit = readNumber(dir / "pids.max");
  putNonZero(pids, "limit", limit == UINT64_MAX ? 0 : limit);
  stats["pids"] = pids;
  stats["blkio"] = json::object();
  return stats;
}

// The number of OOM kills so far (v2 memory.events), to detect new ones after inotify fires.
uint64_t oomKills(const CgroupManager& cg) {
  return readKeyed(fs::path(cg.paths().begin()->second) / "memory.events")["oom_kill"];
}

// v1: an eventfd registered for memory.oom_control through cgroup.event_control.
Result<UniqueFd> oomEventFdV1(const CgroupManager& cg) {
  auto it = cg.paths().find("memory");
  if (it == cg.paths().end()) return UniqueFd();
  fs::path dir = it->second;
  UniqueFd efd(::eventfd(0, EFD_CLOEXEC));
  if (!efd) return failErrno("eventfd");
  auto control = BERTH_TRY(openFd(dir / "memory.oom_control", O_RDONLY));
  BERTH_TRY(writeKernelFile(dir / "cgroup.event_control",
                            fmt::format("{} {}", efd.get(), control.get())));
  (void)control.release();  // the registration holds it; freed with the cgroup
  return efd;
}

}  // namespace

json collectStats(const CgroupManager& cgroup) {
  json stats = cgroup.unified() ? statsV2(cgroup) : statsV1(cgroup);
  json ordered;
  for (const char* key :
       {"cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"}) {
    if (stats.contains(key))
      ordered[key] = stats[key];
    else if (std::string(key) == "network_interfaces")
      ordered[key] = nullptr;
    else
      ordered[key] = json::object();
  }
  return ordered;
}

std::string statsEvent(const std::string& id, const CgroupManager& cgroup) {
  json e;
  e["type"] = "stats";
  e["id"] = id;
  e["data"] = collectStats(cgroup);
  return e.dump();
}

Status streamEvents(const std::string& id, pid_t pid, const CgroupManager& cgroup,
                    std::chrono::milliseconds interval) {
  UniqueFd pidFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidFd) return failErrno(fmt::format("container {} is not running", id));
  UniqueFd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
  if (!timer) return failErrno("timerfd_create");
  itimerspec spec{};
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(interval).count();
  spec.it_interval = {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  spec.it_value = spec.it_interval;
  if (::timerfd_settime(timer.get(), 0, &spec, nullptr) < 0) return failErrno("timerfd_settime");

  UniqueFd oom;
  uint64_t kills = 0;
  if (cgroup.unified()) {
    oom.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    fs::path events = fs::path(cgroup.paths().begin()->second) / "memory.events";
    if (oom && ::inotify_add_watch(oom.get(), events.c_str(), IN_MODIFY) < 0) oom.reset();
    kills = oomKills(cgroup);
  } else {
    oom = BERTH_TRY(oomEventFdV1(cgroup));
  }
  auto emit = [](const std::string& line) {
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
  };
  for (;;) {
    pollfd fds[3] = {
        {pidFd.get(), POLLIN, 0}, {timer.get(), POLLIN, 0}, {oom ? oom.get() : -1, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return failErrno("poll");
    }
    if (fds[2].revents & POLLIN) {
      char buf[4096];
      [[maybe_unused]] ssize_t n = ::read(oom.get(), buf, sizeof buf);
      bool fired = true;
      if (cgroup.unified()) {
        uint64_t now = oomKills(cgroup);
        fired = now > kills;
        kills = now;
      }
      if (fired) emit(json{{"type", "oom"}, {"id", id}}.dump());
    }
    if (fds[1].revents & POLLIN) {
      uint64_t expirations;
      [[maybe_unused]] ssize_t n = ::read(timer.get(), &expirations, sizeof expirations);
      emit(statsEvent(id, cgroup));
    }
    if (fds[0].revents & POLLIN) return {};
  }
}

}  // namespace berth::runtime
