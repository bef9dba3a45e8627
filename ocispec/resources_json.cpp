// config-linux.md "Control groups": linux.resources.

#include "ocispec/spec_json.h"
#include "ocispec/spec_json_internal.h"

namespace berth::ocispec {
namespace {

constexpr std::array<std::string_view, 3> kDeviceCgroupTypes = {"a", "c", "b"};

Status readDeviceCgroup(const JsonReader& r, DeviceCgroup& out) {
  BERTH_TRY(r.required("allow", out.allow));
  BERTH_TRY(r.optional("type", out.type));
  if (out.type && !isOneOf(kDeviceCgroupTypes, *out.type)) {
    return r.invalid("type", "unknown device type \"{}\" (want a, c or b)", *out.type);
  }
  BERTH_TRY(r.optional("major", out.major));
  BERTH_TRY(r.optional("minor", out.minor));
  // Letters other than r, w and m are ignored by the runtime, as runc does (its own tests pass
  // "rwa"), so they are not a parse error.
  BERTH_TRY(r.optional("access", out.access));
  return {};
}

Status readMemory(const JsonReader& r, Memory& out) {
  BERTH_TRY(r.optional("limit", out.limit));
  BERTH_TRY(r.optional("reservation", out.reservation));
  BERTH_TRY(r.optional("swap", out.swap));
  BERTH_TRY(r.optional("kernel", out.kernel));
  BERTH_TRY(r.optional("kernelTCP", out.kernelTCP));
  BERTH_TRY(r.optional("swappiness", out.swappiness));
  BERTH_TRY(r.optional("disableOOMKiller", out.disableOOMKiller));
  BERTH_TRY(r.optional("useHierarchy", out.useHierarchy));
  return r.optional("checkBeforeUpdate", out.checkBeforeUpdate);
}

// config-linux.md types idle as int64 with two meaningful values; the struct keeps it as a bool.
Status readCpuIdle(const JsonReader& r, Cpu& out) {
  std::optional<int64_t> idle;
  BERTH_TRY(r.optional("idle", idle));
  if (!idle) return {};
  if (*idle != 0 && *idle != 1) return r.invalid("idle", "must be 0 or 1");
  out.idle = *idle == 1;
  return {};
}

Status readCpu(const JsonReader& r, Cpu& out) {
  BERTH_TRY(r.optional("shares", out.shares));
  BERTH_TRY(r.optional("quota", out.quota));
  BERTH_TRY(r.optional("burst", out.burst));
  BERTH_TRY(r.optional("period", out.period));
  BERTH_TRY(r.optional("realtimeRuntime", out.realtimeRuntime));
  BERTH_TRY(r.optional("realtimePeriod", out.realtimePeriod));
  BERTH_TRY(r.optional("cpus", out.cpus));
  BERTH_TRY(r.optional("mems", out.mems));
  return readCpuIdle(r, out);
}

Status readPids(const JsonReader& r, Pids& out) {
  return r.required("limit", out.limit);
}

Status readWeightDevice(const JsonReader& r, WeightDevice& out) {
  BERTH_TRY(r.required("major", out.major));
  BERTH_TRY(r.required("minor", out.minor));
  BERTH_TRY(r.optional("weight", out.weight));
  BERTH_TRY(r.optional("leafWeight", out.leafWeight));
  // config-linux.md: at least one of weight or leafWeight MUST be given.
  if (!out.weight && !out.leafWeight) return invalidAt(r.path(), "weight or leafWeight required");
  return {};
}

Status readThrottleDevice(const JsonReader& r, ThrottleDevice& out) {
  BERTH_TRY(r.required("major", out.major));
  BERTH_TRY(r.required("minor", out.minor));
  return r.required("rate", out.rate);
}

Status readBlockIO(const JsonReader& r, BlockIO& out) {
  BERTH_TRY(r.optional("weight", out.weight));
  BERTH_TRY(r.optional("leafWeight", out.leafWeight));
  BERTH_TRY(r.objects("weightDevice", out.weightDevice, readWeightDevice));
  BERTH_TRY(r.objects("throttleReadBpsDevice", out.throttleReadBpsDevice, readThrottleDevice));
  BERTH_TRY(r.objects("throttleWriteBpsDevice", out.throttleWriteBpsDevice, readThrottleDevice));
  BERTH_TRY(r.objects("throttleReadIOPSDevice", out.throttleReadIOPSDevice, readThrottleDevice));
  return r.objects("throttleWriteIOPSDevice", out.throttleWriteIOPSDevice, readThrottleDevice);
}

Status readHugepageLimit(const JsonReader& r, HugepageLimit& out) {
  BERTH_TRY(r.required("pageSize", out.pageSize));
  return r.required("limit", out.limit);
}

Status readNetworkPriority(const JsonReader& r, NetworkPriority& out) {
  BERTH_TRY(r.required("name", out.name));
  return r.required("priority", out.priority);
}

Status readNetwork(const JsonReader& r, Network& out) {
  BERTH_TRY(r.optional("classID", out.classID));
  return r.objects("priorities", out.priorities, readNetworkPriority);
}

Status readRdma(const JsonReader& r, Rdma& out) {
  BERTH_TRY(r.optional("hcaHandles", out.hcaHandles));
  BERTH_TRY(r.optional("hcaObjects", out.hcaObjects));
  // config-linux.md: at least one of hcaHandles or hcaObjects MUST be given.
  if (!out.hcaHandles && !out.hcaObjects) {
    return invalidAt(r.path(), "hcaHandles or hcaObjects required");
  }
  return {};
}

OrderedJson writeDeviceCgroup(const DeviceCgroup& d) {
  OrderedJson j = {{"allow", d.allow}};
  putIfSet(j, "type", d.type);
  putIfSet(j, "major", d.major);
  putIfSet(j, "minor", d.minor);
  putIfSet(j, "access", d.access);
  return j;
}

OrderedJson writeMemory(const Memory& m) {
  OrderedJson j = OrderedJson::object();
  putIfSet(j, "limit", m.limit);
  putIfSet(j, "reservation", m.reservation);
  putIfSet(j, "swap", m.swap);
  putIfSet(j, "kernel", m.kernel);
  putIfSet(j, "kernelTCP", m.kernelTCP);
  putIfSet(j, "swappiness", m.swappiness);
  putIfSet(j, "disableOOMKiller", m.disableOOMKiller);
  putIfSet(j, "useHierarchy", m.useHierarchy);
  putIfSet(j, "checkBeforeUpdate", m.checkBeforeUpdate);
  return j;
}

OrderedJson writeCpu(const Cpu& c) {
  OrderedJson j = OrderedJson::object();
  putIfSet(j, "shares", c.shares);
  putIfSet(j, "quota", c.quota);
  putIfSet(j, "burst", c.burst);
  putIfSet(j, "period", c.period);
  putIfSet(j, "realtimeRuntime", c.realtimeRuntime);
  putIfSet(j, "realtimePeriod", c.realtimePeriod);
  putIfSet(j, "cpus", c.cpus);
  putIfSet(j, "mems", c.mems);
  if (c.idle) j["idle"] = *c.idle ? 1 : 0;  // an integer on the wire, see readCpuIdle
  return j;
}

OrderedJson writePids(const Pids& p) {
  return {{"limit", p.limit}};
}

OrderedJson writeWeightDevice(const WeightDevice& d) {
  OrderedJson j = {{"major", d.major}, {"minor", d.minor}};
  putIfSet(j, "weight", d.weight);
  putIfSet(j, "leafWeight", d.leafWeight);
  return j;
}

OrderedJson writeThrottleDevice(const ThrottleDevice& d) {
  return {{"major", d.major}, {"minor", d.minor}, {"rate", d.rate}};
}

OrderedJson writeBlockIO(const BlockIO& b) {
  OrderedJson j = OrderedJson::object();
  putIfSet(j, "weight", b.weight);
  putIfSet(j, "leafWeight", b.leafWeight);
  putObjects(j, "weightDevice", b.weightDevice, writeWeightDevice);
  putObjects(j, "throttleReadBpsDevice", b.throttleReadBpsDevice, writeThrottleDevice);
  putObjects(j, "throttleWriteBpsDevice", b.throttleWriteBpsDevice, writeThrottleDevice);
  putObjects(j, "throttleReadIOPSDevice", b.throttleReadIOPSDevice, writeThrottleDevice);
  putObjects(j, "throttleWriteIOPSDevice", b.throttleWriteIOPSDevice, writeThrottleDevice);
  return j;
}

OrderedJson writeHugepageLimit(const HugepageLimit& h) {
  return {{"pageSize", h.pageSize}, {"limit", h.limit}};
}

OrderedJson writeNetworkPriority(const NetworkPriority& p) {
  return {{"name", p.name}, {"priority", p.priority}};
}

OrderedJson writeNetwork(const Network& n) {
  OrderedJson j = OrderedJson::object();
  putIfSet(j, "classID", n.classID);
  putObjects(j, "priorities", n.priorities, writeNetworkPriority);
  return j;
}

OrderedJson writeRdma(const Rdma& r) {
  OrderedJson j = OrderedJson::object();
  putIfSet(j, "hcaHandles", r.hcaHandles);
  putIfSet(j, "hcaObjects", r.hcaObjects);
  return j;
}

}  // namespace

Status readResources(const JsonReader& r, Resources& out) {
  BERTH_TRY(r.objects("devices", out.devices, readDeviceCgroup));
  BERTH_TRY(r.object("memory", out.memory, readMemory));
  BERTH_TRY(r.object("cpu", out.cpu, readCpu));
  BERTH_TRY(r.object("pids", out.pids, readPids));
  BERTH_TRY(r.object("blockIO", out.blockIO, readBlockIO));
  BERTH_TRY(r.objects("hugepageLimits", out.hugepageLimits, readHugepageLimit));
  BERTH_TRY(r.object("network", out.network, readNetwork));
  BERTH_TRY(r.objectMap("rdma", out.rdma, readRdma));
  return r.optional("unified", out.unified);
}

OrderedJson writeResources(const Resources& res) {
  OrderedJson j = OrderedJson::object();
  putObjects(j, "devices", res.devices, writeDeviceCgroup);
  putObject(j, "memory", res.memory, writeMemory);
  putObject(j, "cpu", res.cpu, writeCpu);
  putObject(j, "pids", res.pids, writePids);
  putObject(j, "blockIO", res.blockIO, writeBlockIO);
  putObjects(j, "hugepageLimits", res.hugepageLimits, writeHugepageLimit);
  putObject(j, "network", res.network, writeNetwork);
  putObjectMap(j, "rdma", res.rdma, writeRdma);
  putIfNotEmpty(j, "unified", res.unified);
  return j;
}

OrderedJson toJson(const Resources& resources) {
  return writeResources(resources);
}

}  // namespace berth::ocispec
