// Lifecycle::update: runc update — merge new resources into the container's saved config and
// apply them to its cgroup.
#include "common/file_util.h"
#include "ocispec/spec_json.h"
#include "runtime/cgroup_manager.h"
#include "runtime/lifecycle.h"

namespace berth::runtime {

namespace {

template <class T>
void setIf(std::optional<T>& field, const std::optional<T>& value) {
  if (value) field = value;
}

// Fields present in `from` replace those in `into` (runc's update -r merges the same way).
void merge(ocispec::Resources& into, const ocispec::Resources& from) {
  if (from.memory) {
    auto& m = into.memory ? *into.memory : into.memory.emplace();
    setIf(m.limit, from.memory->limit);
    setIf(m.reservation, from.memory->reservation);
    setIf(m.swap, from.memory->swap);
    setIf(m.kernel, from.memory->kernel);
    setIf(m.kernelTCP, from.memory->kernelTCP);
    setIf(m.swappiness, from.memory->swappiness);
    setIf(m.disableOOMKiller, from.memory->disableOOMKiller);
  }
  if (from.cpu) {
    auto& c = into.cpu ? *into.cpu : into.cpu.emplace();
    setIf(c.shares, from.cpu->shares);
    setIf(c.quota, from.cpu->quota);
    setIf(c.burst, from.cpu->burst);
    setIf(c.period, from.cpu->period);
    setIf(c.realtimeRuntime, from.cpu->realtimeRuntime);
    setIf(c.realtimePeriod, from.cpu->realtimePeriod);
    setIf(c.cpus, from.cpu->cpus);
    setIf(c.mems, from.cpu->mems);
    setIf(c.idle, from.cpu->idle);
  }
  if (from.pids) into.pids = from.pids;
  if (from.blockIO) into.blockIO = from.blockIO;
  if (!from.hugepageLimits.empty()) into.hugepageLimits = from.hugepageLimits;
  if (from.network) into.network = from.network;
  for (const auto& [k, v] : from.unified)
    into.unified[k] = v;
  if (!from.devices.empty()) into.devices = from.devices;
}

ocispec::Resources fromFlags(const UpdateOptions& o) {
  ocispec::Resources r;
  if (o.memory || o.memoryReservation || o.memorySwap || o.kernelMemory || o.kernelMemoryTCP) {
    auto& m = r.memory.emplace();
    m.limit = o.memory;
    m.reservation = o.memoryReservation;
    m.swap = o.memorySwap;
    m.kernel = o.kernelMemory;
    m.kernelTCP = o.kernelMemoryTCP;
  }
  if (o.cpuShares || o.cpuPeriod || o.cpuQuota || o.cpuRtPeriod || o.cpuRtRuntime || o.cpusetCpus ||
      o.cpusetMems || o.cpuIdle) {
    auto& c = r.cpu.emplace();
    c.shares = o.cpuShares;
    c.period = o.cpuPeriod;
    c.quota = o.cpuQuota;
    c.realtimePeriod = o.cpuRtPeriod;
    c.realtimeRuntime = o.cpuRtRuntime;
    c.cpus = o.cpusetCpus;
    c.mems = o.cpusetMems;
    c.idle = o.cpuIdle;
  }
  if (o.pidsLimit) r.pids = ocispec::Pids{*o.pidsLimit};
  if (o.blkioWeight) r.blockIO.emplace().weight = static_cast<uint16_t>(*o.blkioWeight);
  return r;
}

}  // namespace

Status Lifecycle::update(const UpdateOptions& o) {
  auto [record, status] = BERTH_TRY(lookup(o.id));
  if (status == ContainerStatus::kStopped)
    return fail(Code::kFailedPrecondition, "cannot update a stopped container {}", o.id);
  auto spec = BERTH_TRY(savedSpec(o.id));
  if (!spec.linux) spec.linux.emplace();
  auto& resources =
      spec.linux->resources ? *spec.linux->resources : spec.linux->resources.emplace();
  ocispec::Resources changes;
  if (o.resources) merge(changes, *o.resources);
  merge(changes, fromFlags(o));
  merge(resources, changes);
  // runc: unlimited memory with no swap given in this update means unlimited swap too, whatever
  // swap limit was set before.
  if (changes.memory && changes.memory->limit == -1 && !changes.memory->swap && resources.memory)
    resources.memory->swap.reset();

  CgroupManager cg =
      CgroupManager::fromPaths(record.cgroupUnified, record.cgroupPaths, record.systemdCgroup);
  ocispec::Resources withoutDevices = resources;
  withoutDevices.devices.clear();
  auto writes =
      BERTH_TRY(cg.unified() ? planResourcesV2(withoutDevices) : planResourcesV1(withoutDevices));
  BERTH_TRY(cg.apply(writes));
  if (!changes.devices.empty()) {
    auto rules = effectiveDeviceRules(spec);
    if (cg.unified())
      BERTH_TRY(cg.setDeviceRules(rules));
    else
      BERTH_TRY(cg.apply(planDevicesV1(rules)));
  }
  return writeFileAtomic(store().paths(o.id).config(), ocispec::toJson(spec).dump(), 0600,
                         Durability::kVolatile);
}

}  // namespace berth::runtime
