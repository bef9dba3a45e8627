#include "runtime/cgroup_resources.h"

#include <filesystem>
#include <sstream>

namespace berth::runtime {

namespace {

using Writes = std::vector<CgroupWrite>;

std::string num(int64_t v) {
  return std::to_string(v);
}

// v1 takes -1 for unlimited; v2 takes "max".
std::string maxOr(int64_t v) {
  return v < 0 ? "max" : std::to_string(v);
}

void add(Writes& w, std::string controller, std::string file, std::string value,
         std::string field) {
  w.push_back({std::move(controller), std::move(file), std::move(value), std::move(field)});
}

std::string devNum(int64_t major, int64_t minor) {
  return fmt::format("{}:{}", major, minor);
}

Status planHugepages(const ocispec::Resources& r, Writes& w, const char* suffix) {
  for (size_t i = 0; i < r.hugepageLimits.size(); ++i) {
    const auto& h = r.hugepageLimits[i];
    std::string field = fmt::format("linux.resources.hugepageLimits[{}]", i);
    auto size = BERTH_TRY_CTX(hugepageSizeName(h.pageSize), field + ".pageSize");
    add(w, "hugetlb", fmt::format("hugetlb.{}.{}", size, suffix), std::to_string(h.limit),
        field + ".limit");
  }
  return {};
}

struct Throttle {
  const std::vector<ocispec::ThrottleDevice>* devices;
  const char* v1File;
  const char* v2Key;
  const char* field;
};

std::vector<Throttle> throttles(const ocispec::BlockIO& b) {
  return {
      {&b.throttleReadBpsDevice, "blkio.throttle.read_bps_device", "rbps", "throttleReadBpsDevice"},
      {&b.throttleWriteBpsDevice, "blkio.throttle.write_bps_device", "wbps",
       "throttleWriteBpsDevice"},
      {&b.throttleReadIOPSDevice, "blkio.throttle.read_iops_device", "riops",
       "throttleReadIOPSDevice"},
      {&b.throttleWriteIOPSDevice, "blkio.throttle.write_iops_device", "wiops",
       "throttleWriteIOPSDevice"}};
}

}  // namespace

uint64_t cpuSharesToWeight(uint64_t shares) {
  if (shares == 0) return 0;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint16_t blkioWeightToIoWeight(uint16_t weight) {
  if (weight == 0) return 0;
  return static_cast<uint16_t>(1 + (static_cast<uint32_t>(weight) - 10) * 9999 / 990);
}

Result<std::string> swapToV2(int64_t swap, int64_t limit) {
  // runc's ConvertMemorySwapToCgroupV2Value.
  if (swap == -1) return std::string("max");
  if (limit == -1)
    return fail(Code::kInvalidArgument,
                "memory.swap: can't be set to a value when memory.limit is unlimited");
  if (limit == 0) return fail(Code::kInvalidArgument, "memory.swap: needs memory.limit to be set");
  if (swap < limit)
    return fail(Code::kInvalidArgument, "memory.swap: {} is less than memory.limit {}", swap,
                limit);
  return std::to_string(swap - limit);
}

Result<std::string> hugepageSizeName(const std::string& pageSize) {
  // The kernel's names: 2MB, 1GB, 64KB, ... (a number and KB/MB/GB).
  size_t i = 0;
  while (i < pageSize.size() && std::isdigit(static_cast<unsigned char>(pageSize[i])))
    ++i;
  std::string unit = pageSize.substr(i);
  if (i == 0 || (unit != "KB" && unit != "MB" && unit != "GB"))
    return fail(Code::kInvalidArgument, "unknown hugepage size \"{}\"", pageSize);
  return pageSize;
}

std::string deviceRuleString(const ocispec::DeviceCgroup& rule) {
  std::string type = rule.type.value_or("a");
  auto part = [](const std::optional<int64_t>& v) {
    return v && *v >= 0 ? std::to_string(*v) : std::string("*");
  };
  std::string access;
  for (char c : rule.access.value_or("rwm"))
    if ((c == 'r' || c == 'w' || c == 'm') && access.find(c) == std::string::npos) access += c;
  if (access.empty()) access = "rwm";
  return fmt::format("{} {}:{} {}", type, part(rule.major), part(rule.minor), access);
}

std::vector<CgroupWrite> planDevicesV1(const std::vector<ocispec::DeviceCgroup>& rules) {
  Writes w;
  for (size_t i = 0; i < rules.size(); ++i)
    add(w, "devices", rules[i].allow ? "devices.allow" : "devices.deny", deviceRuleString(rules[i]),
        fmt::format("linux.resources.devices[{}]", i));
  return w;
}

std::vector<ocispec::DeviceCgroup> effectiveDeviceRules(const ocispec::Spec& spec) {
  std::vector<ocispec::DeviceCgroup> out;
  if (spec.linux && spec.linux->resources) out = spec.linux->resources->devices;
  auto allow = [&](const char* type, int64_t major, int64_t minor, const char* access) {
    ocispec::DeviceCgroup d;
    d.allow = true;
    d.type = type;
    if (major >= 0) d.major = major;
    if (minor >= 0) d.minor = minor;
    d.access = access;
    out.push_back(d);
  };
  // runc's specconv AllowedDevices: mknod of anything, and the nodes of the default /dev.
  allow("c", -1, -1, "m");
  allow("b", -1, -1, "m");
  allow("c", 1, 3, "rwm");     // null
  allow("c", 1, 8, "rwm");     // random
  allow("c", 1, 7, "rwm");     // full
  allow("c", 5, 0, "rwm");     // tty
  allow("c", 1, 5, "rwm");     // zero
  allow("c", 1, 9, "rwm");     // urandom
  allow("c", 136, -1, "rwm");  // /dev/pts/*
  allow("c", 5, 2, "rwm");     // ptmx
  allow("c", 10, 200, "rwm");  // tun
  // linux.devices nodes get no rule of their own: creating a node does not grant access to it
  // (runc's dev.bats "device cgroup deny" checks exactly that).
  (void)spec;
  return out;
}

Result<std::vector<CgroupWrite>> planResourcesV1(const ocispec::Resources& r) {
  Writes w;
  if (r.memory) {
    const auto& m = *r.memory;
    const std::string f = "linux.resources.memory";
    // memsw must stay >= limit at every step: raise memsw first, the limit second. If the new
    // memsw is below the current limit, apply() retries in the other order.
    // runc: unlimited memory with no swap given means unlimited swap too (where swap accounting
    // exists, hence may fail).
    std::optional<int64_t> swap = m.swap;
    bool swapImplied = m.limit && *m.limit == -1 && !m.swap;
    if (swapImplied) swap = -1;
    if (swap && m.limit) {
      add(w, "memory", "memory.memsw.limit_in_bytes", num(*swap), f + ".swap");
      w.back().mayFail = true;
    }
    if (m.limit) add(w, "memory", "memory.limit_in_bytes", num(*m.limit), f + ".limit");
    if (swap) {
      add(w, "memory", "memory.memsw.limit_in_bytes", num(*swap), f + ".swap");
      w.back().mayFail = swapImplied;
    }
    if (m.reservation)
      add(w, "memory", "memory.soft_limit_in_bytes", num(*m.reservation), f + ".reservation");
    if (m.kernelTCP)
      add(w, "memory", "memory.kmem.tcp.limit_in_bytes", num(*m.kernelTCP), f + ".kernelTCP");
    if (m.swappiness) {
      if (*m.swappiness > 100)
        return fail(Code::kInvalidArgument, "{}.swappiness: {} is above 100", f, *m.swappiness);
      add(w, "memory", "memory.swappiness", std::to_string(*m.swappiness), f + ".swappiness");
    }
    if (m.disableOOMKiller && *m.disableOOMKiller)
      add(w, "memory", "memory.oom_control", "1", f + ".disableOOMKiller");
  }
  if (r.cpu) {
    const auto& c = *r.cpu;
    const std::string f = "linux.resources.cpu";
    if (c.shares) add(w, "cpu", "cpu.shares", std::to_string(*c.shares), f + ".shares");
    // The period first: a quota is checked against the current period. A smaller period may be
    // refused until the quota is lowered (old quota/new period above the parent's limit): then
    // it goes in again after the quota, as runc does.
    if (c.period) {
      add(w, "cpu", "cpu.cfs_period_us", std::to_string(*c.period), f + ".period");
      w.back().mayFail = c.quota.has_value();
    }
    if (c.quota) add(w, "cpu", "cpu.cfs_quota_us", num(*c.quota), f + ".quota");
    if (c.period && c.quota)
      add(w, "cpu", "cpu.cfs_period_us", std::to_string(*c.period), f + ".period");
    if (c.burst) add(w, "cpu", "cpu.cfs_burst_us", std::to_string(*c.burst), f + ".burst");
    if (c.realtimePeriod)
      add(w, "cpu", "cpu.rt_period_us", std::to_string(*c.realtimePeriod), f + ".realtimePeriod");
    if (c.realtimeRuntime)
      add(w, "cpu", "cpu.rt_runtime_us", num(*c.realtimeRuntime), f + ".realtimeRuntime");
    if (c.idle) add(w, "cpu", "cpu.idle", *c.idle ? "1" : "0", f + ".idle");
    if (c.cpus && !c.cpus->empty()) add(w, "cpuset", "cpuset.cpus", *c.cpus, f + ".cpus");
    if (c.mems && !c.mems->empty()) add(w, "cpuset", "cpuset.mems", *c.mems, f + ".mems");
  }
  if (r.pids) {
    add(w, "pids", "pids.max", r.pids->limit > 0 ? num(r.pids->limit) : "max",
        "linux.resources.pids.limit");
  }
  if (r.blockIO) {
    const auto& b = *r.blockIO;
    const std::string f = "linux.resources.blockIO";
    if (b.weight) add(w, "blkio", "blkio.weight", std::to_string(*b.weight), f + ".weight");
    if (b.leafWeight)
      add(w, "blkio", "blkio.leaf_weight", std::to_string(*b.leafWeight), f + ".leafWeight");
    for (size_t i = 0; i < b.weightDevice.size(); ++i) {
      const auto& d = b.weightDevice[i];
      std::string field = fmt::format("{}.weightDevice[{}]", f, i);
      if (d.weight)
        add(w, "blkio", "blkio.weight_device",
            fmt::format("{} {}", devNum(d.major, d.minor), *d.weight), field);
      if (d.leafWeight)
        add(w, "blkio", "blkio.leaf_weight_device",
            fmt::format("{} {}", devNum(d.major, d.minor), *d.leafWeight), field);
    }
    for (const auto& t : throttles(b))
      for (size_t i = 0; i < t.devices->size(); ++i) {
        const auto& d = (*t.devices)[i];
        add(w, "blkio", t.v1File, fmt::format("{} {}", devNum(d.major, d.minor), d.rate),
            fmt::format("{}.{}[{}]", f, t.field, i));
      }
  }
  BERTH_TRY(planHugepages(r, w, "limit_in_bytes"));
  if (r.network) {
    if (r.network->classID)
      add(w, "net_cls", "net_cls.classid", std::to_string(*r.network->classID),
          "linux.resources.network.classID");
    for (size_t i = 0; i < r.network->priorities.size(); ++i) {
      const auto& p = r.network->priorities[i];
      add(w, "net_prio", "net_prio.ifpriomap", fmt::format("{} {}", p.name, p.priority),
          fmt::format("linux.resources.network.priorities[{}]", i));
    }
  }
  if (!r.rdma.empty())
    return fail(Code::kInvalidArgument, "linux.resources.rdma: not supported on cgroup v1");
  if (!r.unified.empty())
    return fail(Code::kInvalidArgument, "linux.resources.unified: needs a cgroup v2 host");
  return w;
}

Result<std::vector<CgroupWrite>> planResourcesV2(const ocispec::Resources& r) {
  Writes w;
  if (r.memory) {
    const auto& m = *r.memory;
    const std::string f = "linux.resources.memory";
    if (m.swap) {
      auto swap = BERTH_TRY_CTX(swapToV2(*m.swap, m.limit.value_or(0)), f + ".swap");
      add(w, "memory", "memory.swap.max", swap, f + ".swap");
    }
    if (m.limit) add(w, "memory", "memory.max", maxOr(*m.limit), f + ".limit");
    if (m.reservation) add(w, "memory", "memory.low", maxOr(*m.reservation), f + ".reservation");
    if (m.swappiness && *m.swappiness != 0)
      return fail(Code::kInvalidArgument, "{}.swappiness: not supported on cgroup v2", f);
    if (m.disableOOMKiller && *m.disableOOMKiller)
      return fail(Code::kInvalidArgument, "{}.disableOOMKiller: not supported on cgroup v2", f);
  }
  if (r.cpu) {
    const auto& c = *r.cpu;
    const std::string f = "linux.resources.cpu";
    if (c.shares && *c.shares)
      add(w, "cpu", "cpu.weight", std::to_string(cpuSharesToWeight(*c.shares)), f + ".shares");
    if (c.quota || c.period) {
      std::string quota = c.quota && *c.quota > 0 ? std::to_string(*c.quota) : "max";
      std::string value = c.period ? fmt::format("{} {}", quota, *c.period) : quota;
      add(w, "cpu", "cpu.max", value, f + (c.quota ? ".quota" : ".period"));
    }
    if (c.burst) add(w, "cpu", "cpu.max.burst", std::to_string(*c.burst), f + ".burst");
    if (c.realtimePeriod || c.realtimeRuntime)
      return fail(Code::kInvalidArgument, "{}.realtimeRuntime: not supported on cgroup v2", f);
    if (c.idle) add(w, "cpu", "cpu.idle", *c.idle ? "1" : "0", f + ".idle");
    if (c.cpus && !c.cpus->empty()) add(w, "cpuset", "cpuset.cpus", *c.cpus, f + ".cpus");
    if (c.mems && !c.mems->empty()) add(w, "cpuset", "cpuset.mems", *c.mems, f + ".mems");
  }
  if (r.pids)
    add(w, "pids", "pids.max", r.pids->limit > 0 ? num(r.pids->limit) : "max",
        "linux.resources.pids.limit");
  if (r.blockIO) {
    const auto& b = *r.blockIO;
    const std::string f = "linux.resources.blockIO";
    if (b.weight)
      add(w, "io", "io.weight", std::to_string(blkioWeightToIoWeight(*b.weight)), f + ".weight");
    for (size_t i = 0; i < b.weightDevice.size(); ++i) {
      const auto& d = b.weightDevice[i];
      if (d.weight)
        add(w, "io", "io.weight",
            fmt::format("{} {}", devNum(d.major, d.minor), blkioWeightToIoWeight(*d.weight)),
            fmt::format("{}.weightDevice[{}]", f, i));
    }
    for (const auto& t : throttles(b))
      for (size_t i = 0; i < t.devices->size(); ++i) {
        const auto& d = (*t.devices)[i];
        add(w, "io", "io.max",
            fmt::format("{} {}={}", devNum(d.major, d.minor), t.v2Key,
                        d.rate ? std::to_string(d.rate) : "max"),
            fmt::format("{}.{}[{}]", f, t.field, i));
      }
  }
  BERTH_TRY(planHugepages(r, w, "max"));
  if (r.network && (r.network->classID || !r.network->priorities.empty()))
    return fail(Code::kInvalidArgument, "linux.resources.network: not supported on cgroup v2");
  for (const auto& [dev, limits] : r.rdma) {
    std::string v = dev;
    if (limits.hcaHandles) v += fmt::format(" hca_handle={}", *limits.hcaHandles);
    if (limits.hcaObjects) v += fmt::format(" hca_object={}", *limits.hcaObjects);
    add(w, "rdma", "rdma.max", v, "linux.resources.rdma." + dev);
  }
  for (const auto& [file, value] : r.unified) {
    std::string field = "linux.resources.unified." + file;
    auto dot = file.find('.');
    if (file.empty() || file.find('/') != std::string::npos || dot == std::string::npos || dot == 0)
      return fail(Code::kInvalidArgument, "{}: not a cgroup file name", field);
    std::string controller = file.substr(0, dot);
    add(w, controller == "cgroup" ? "" : controller, file, value, field);
  }
  return w;
}

}  // namespace berth::runtime

#include "runtime/systemd_bus.h"

namespace berth::runtime {

namespace {

uint64_t parseMax(const std::string& v) {
  if (v == "max") return UINT64_MAX;
  try {
    return std::stoull(v);
  } catch (...) {
    return UINT64_MAX;
  }
}

// "0-3,6" → a little-endian CPU/node bitmask, as systemd's AllowedCPUs takes it.
std::vector<uint8_t> listToMask(const std::string& list) {
  std::vector<uint8_t> mask;
  std::istringstream in(list);
  for (std::string part; std::getline(in, part, ',');) {
    auto dash = part.find('-');
    unsigned lo = 0, hi = 0;
    try {
      lo = static_cast<unsigned>(std::stoul(part.substr(0, dash)));
      hi =
          dash == std::string::npos ? lo : static_cast<unsigned>(std::stoul(part.substr(dash + 1)));
    } catch (...) {
      continue;
    }
    for (unsigned c = lo; c <= hi && c < 8192; ++c) {
      if (mask.size() <= c / 8) mask.resize(c / 8 + 1);
      mask[c / 8] = static_cast<uint8_t>(mask[c / 8] | (1u << (c % 8)));
    }
  }
  return mask;
}

}  // namespace

std::vector<UnitProperty> unitPropertiesFor(const std::vector<CgroupWrite>& writes) {
  std::vector<UnitProperty> out;
  for (const auto& w : writes) {
    if (w.file == "memory.max")
      out.push_back({"MemoryMax", parseMax(w.value)});
    else if (w.file == "memory.low")
      out.push_back({"MemoryLow", parseMax(w.value)});
    else if (w.file == "memory.swap.max")
      out.push_back({"MemorySwapMax", parseMax(w.value)});
    else if (w.file == "pids.max")
      out.push_back({"TasksMax", parseMax(w.value)});
    else if (w.file == "cpu.weight")
      out.push_back({"CPUWeight", parseMax(w.value)});
    else if (w.file == "cpuset.cpus")
      out.push_back({"AllowedCPUs", listToMask(w.value)});
    else if (w.file == "cpuset.mems")
      out.push_back({"AllowedMemoryNodes", listToMask(w.value)});
    else if (w.file == "cpu.max") {
      std::istringstream in(w.value);
      std::string quota, period = "100000";
      in >> quota >> period;
      uint64_t p = parseMax(period);
      if (quota == "max" || p == 0) {
        out.push_back({"CPUQuotaPerSecUSec", uint64_t{UINT64_MAX}});
      } else {
        // systemd keeps 10ms precision: round up, as runc does, so the limit is never lower.
        uint64_t perSec = parseMax(quota) * 1000000 / p;
        if (perSec % 10000) perSec = (perSec / 10000 + 1) * 10000;
        out.push_back({"CPUQuotaPerSecUSec", perSec});
      }
      out.push_back({"CPUQuotaPeriodUSec", p});
    }
  }
  return out;
}

}  // namespace berth::runtime
