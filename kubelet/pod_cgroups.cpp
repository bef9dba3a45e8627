#include "kubelet/pod_cgroups.h"

#include <algorithm>

#include "kubeapi/json_fields.h"
#include "kubeapi/pod_qos.h"
#include "kubelet/pod_resources.h"
#include "runtime/cgroup_manager.h"

namespace berth::kubelet {
namespace {

std::string podUid(const nlohmann::json& pod) {
  return kubeapi::jsonString(kubeapi::jsonField(pod, "metadata"), "uid");
}

std::string qosDir(const std::string& qos) {
  if (qos == "Burstable") return "burstable";
  if (qos == "BestEffort") return "besteffort";
  return "";
}

// Creates `path` (an existing cgroup is fine) and writes `resources` to it.
Status configureCgroup(const std::string& path, const ocispec::Resources& resources) {
  auto cg = runtime::CgroupManager::forContainer(path, "");
  if (!cg) return std::unexpected(cg.error().context("cgroup " + path));
  auto writes =
      cg->unified() ? runtime::planResourcesV2(resources) : runtime::planResourcesV1(resources);
  if (!writes) return std::unexpected(writes.error().context("cgroup " + path));
  Status st = cg->create();
  if (st) st = cg->apply(*writes);
  if (!st) return std::unexpected(st.error().context("cgroup " + path));
  return {};
}

ocispec::Resources cpuSharesOnly(std::int64_t shares) {
  ocispec::Resources r;
  r.cpu = ocispec::Cpu{.shares = static_cast<std::uint64_t>(shares)};
  return r;
}

}  // namespace

Result<ocispec::Resources> podCgroupResources(const nlohmann::json& pod,
                                              const PodCgroupOptions& options) {
  const nlohmann::json& spec = kubeapi::jsonField(pod, "spec");
  const std::string qos = kubeapi::podQosClass(spec);
  ocispec::Resources r;
  if (options.podPidsLimit > 0) r.pids = ocispec::Pids{.limit = options.podPidsLimit};
  if (qos == "BestEffort") {
    r.cpu = ocispec::Cpu{.shares = static_cast<std::uint64_t>(milliCpuToShares(0))};
    return r;
  }
  PodResourceTotals totals = BERTH_TRY(podResourceTotals(spec));
  ocispec::Cpu cpu{.shares = static_cast<std::uint64_t>(milliCpuToShares(totals.cpuRequestMilli))};
  if (qos == "Guaranteed" || totals.cpuLimitsDeclared) {
    // Without cpuCFSQuota the quota stays unlimited (-1), as upstream writes it.
    cpu.quota = options.cpuCfsQuota
                    ? milliCpuToQuota(totals.cpuLimitMilli, options.cpuCfsQuotaPeriodUs)
                    : -1;
    cpu.period = static_cast<std::uint64_t>(options.cpuCfsQuotaPeriodUs);
  }
  r.cpu = cpu;
  if (qos == "Guaranteed" || totals.memoryLimitsDeclared) {
    r.memory = ocispec::Memory{.limit = totals.memoryLimit};
  }
  for (const auto& [name, bytes] : totals.hugepageRequests) {
    r.hugepageLimits.push_back(
        {.pageSize = hugepagePageSize(name), .limit = static_cast<std::uint64_t>(bytes)});
  }
  return r;
}

std::string PodCgroups::cgroupfsPath(const std::string& qos, const std::string& uid) const {
  std::string path = options_.cgroupRoot;
  const bool absolute = path.empty() || path.front() == '/';
  while (!path.empty() && path.back() == '/')
    path.pop_back();
  for (const std::string& part :
       {std::string("kubepods"), qosDir(qos), uid.empty() ? std::string() : "pod" + uid}) {
    if (part.empty()) continue;
    path += (path.empty() && !absolute) ? part : "/" + part;
  }
  return path;
}

std::string PodCgroups::systemdPath(const std::string& qos, const std::string& uid) {
  std::string escaped = uid;
  std::replace(escaped.begin(), escaped.end(), '-', '_');  // '-' separates slice levels
  const std::string q = qosDir(qos);
  std::string path = "/kubepods.slice";
  std::string prefix = "kubepods";
  if (!q.empty()) {
    prefix += "-" + q;
    path += "/" + prefix + ".slice";
  }
  return path + "/" + prefix + "-pod" + escaped + ".slice";
}

std::string PodCgroups::cgroupParent(const nlohmann::json& pod) const {
  if (!options_.cgroupsPerQos) return options_.cgroupRoot;
  const std::string qos = kubeapi::podQosClass(kubeapi::jsonField(pod, "spec"));
  if (options_.cgroupDriver == "systemd") return systemdPath(qos, podUid(pod));
  return cgroupfsPath(qos, podUid(pod));
}

Status PodCgroups::ensure(const nlohmann::json& pod) {
  if (!options_.cgroupsPerQos || options_.cgroupDriver == "systemd") return {};
  const std::string uid = podUid(pod);
  const nlohmann::json& spec = kubeapi::jsonField(pod, "spec");
  std::lock_guard lock(mu_);
  if (configured_.contains(uid)) return {};
  // The QoS classes' cgroups first: a pod's cgroup nests in one.
  const std::string qos = kubeapi::podQosClass(spec);
  if (qos == "Burstable") {
    burstableCpu_[uid] = BERTH_TRY(podResourceTotals(spec)).cpuRequestMilli;
  }
  BERTH_TRY(updateQosCgroups());
  BERTH_TRY(configureCgroup(cgroupParent(pod), BERTH_TRY(podCgroupResources(pod, options_))));
  configured_.insert(uid);
  return {};
}

Status PodCgroups::remove(const std::string& uid) {
  if (!options_.cgroupsPerQos || options_.cgroupDriver == "systemd") return {};
  std::lock_guard lock(mu_);
  for (const char* qos : {"Guaranteed", "Burstable", "BestEffort"}) {
    auto cg = runtime::CgroupManager::forContainer(cgroupfsPath(qos, uid), "");
    if (!cg) return std::unexpected(cg.error());
    if (auto st = cg->destroy(); !st) {
      return std::unexpected(st.error().context("removing pod cgroup " + cgroupfsPath(qos, uid)));
    }
  }
  configured_.erase(uid);
  if (burstableCpu_.erase(uid) > 0) BERTH_TRY(updateQosCgroups());
  return {};
}

Status PodCgroups::updateQosCgroups() {
  std::int64_t milli = 0;
  for (const auto& [uid, request] : burstableCpu_)
    milli += request;
  const std::int64_t shares = milliCpuToShares(milli);
  if (shares == appliedBurstableShares_) return {};
  if (appliedBurstableShares_ < 0) {
    BERTH_TRY(configureCgroup(cgroupfsPath("BestEffort", ""), cpuSharesOnly(milliCpuToShares(0))));
  }
  BERTH_TRY(configureCgroup(cgroupfsPath("Burstable", ""), cpuSharesOnly(shares)));
  appliedBurstableShares_ = shares;
  return {};
}

}  // namespace berth::kubelet
