#include "kubelet/pod_cgroups.h"

#include <algorithm>

#include "kubeapi/json_fields.h"
#include "kubeapi/pod_qos.h"
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

}  // namespace

std::string PodCgroups::cgroupfsPath(const std::string& qos, const std::string& uid) const {
  std::string path = options_.cgroupRoot;
  const bool absolute = path.empty() || path.front() == '/';
  while (!path.empty() && path.back() == '/')
    path.pop_back();
  for (const std::string& part : {std::string("kubepods"), qosDir(qos), "pod" + uid}) {
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

Status PodCgroups::ensure(const nlohmann::json& pod) const {
  if (!options_.cgroupsPerQos || options_.cgroupDriver == "systemd") return {};
  auto cg = runtime::CgroupManager::forContainer(cgroupParent(pod), "");
  if (!cg) return std::unexpected(cg.error().context("pod cgroup " + cgroupParent(pod)));
  if (auto st = cg->create(); !st) {
    return std::unexpected(st.error().context("pod cgroup " + cgroupParent(pod)));
  }
  return {};
}

Status PodCgroups::remove(const std::string& uid) const {
  if (!options_.cgroupsPerQos || options_.cgroupDriver == "systemd") return {};
  for (const char* qos : {"Guaranteed", "Burstable", "BestEffort"}) {
    auto cg = runtime::CgroupManager::forContainer(cgroupfsPath(qos, uid), "");
    if (!cg) return std::unexpected(cg.error());
    if (auto st = cg->destroy(); !st) {
      return std::unexpected(st.error().context("removing pod cgroup " + cgroupfsPath(qos, uid)));
    }
  }
  return {};
}

}  // namespace berth::kubelet
