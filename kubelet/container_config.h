#pragma once
// Pod and container specs turned into CRI requests as the upstream kubelet builds them
// (kuberuntime_sandbox.go, kuberuntime_container_linux.go, network/dns): sandbox metadata,
// hostname, DNS, port mappings, namespaces and security contexts, labels and annotations,
// resources with the kubelet's CPU shares/quota and QoS OOM score. Pure: the pod sync gathers
// the inputs (env, mounts, image reference) and passes them in.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubelet/container_env.h"
#include "kubelet/cri_client.h"

namespace berth::kubelet {

struct SandboxOptions {
  std::string nodeHostname;  // a hostNetwork pod's hostname
  std::string podLogsDir = "/var/log/pods";
  std::vector<std::string> clusterDns;
  std::string clusterDomain = "cluster.local";
  std::string resolvConf = "/etc/resolv.conf";  // "" : the host's DNS is not read
  std::string cgroupParent;
};

// /var/log/pods/<namespace>_<name>_<uid>
std::string podLogDirectory(const std::string& podLogsDir, const nlohmann::json& pod);

[[nodiscard]] Result<cri::PodSandboxConfig> makeSandboxConfig(const nlohmann::json& pod,
                                                              std::uint32_t attempt,
                                                              const SandboxOptions& options);

// The DNS config of a pod (getPodDNS): servers, searches and options from the policy, then
// dnsConfig merged in. `hostResolvConf` is the content of the host's resolv.conf.
[[nodiscard]] Result<cri::DNSConfig> podDnsConfig(const nlohmann::json& pod,
                                                  const SandboxOptions& options,
                                                  const std::string& hostResolvConf);

struct ContainerInputs {
  const nlohmann::json& pod;
  const nlohmann::json& container;
  int restartCount = 0;
  std::string imageRef;  // the resolved image (a digest reference)
  EnvList env;
  std::vector<cri::Mount> mounts;
  std::int64_t nodeMemoryCapacity = 0;  // bytes, for the Burstable OOM score
  bool cpuCfsQuota = true;
  std::int64_t cpuCfsQuotaPeriodUs = 100000;
};

[[nodiscard]] Result<cri::ContainerConfig> makeContainerConfig(const ContainerInputs& in);

// requests/limits → shares, quota, memory limit, OOM score (qos: the pod's QoS class).
[[nodiscard]] Result<cri::LinuxContainerResources> containerResources(
    const nlohmann::json& pod, const nlohmann::json& container, std::int64_t nodeMemoryCapacity,
    bool cpuCfsQuota, std::int64_t cpuCfsQuotaPeriodUs);

// policy.GetContainerOOMScoreAdjust.
int oomScoreAdjust(const nlohmann::json& pod, const nlohmann::json& container,
                   std::int64_t nodeMemoryCapacity);

// The hostname the pod's UTS namespace gets (GeneratePodHostNameAndDomain).
std::string podHostname(const nlohmann::json& pod, const std::string& nodeHostname);

}  // namespace berth::kubelet
