#pragma once
// A pod's network through CNI (cni-plugins/libcni): the first valid network in the CNI conf dir,
// attached to the pod's pinned network namespace as eth0 with the kubelet's CNI_ARGS and the
// pod's port mappings, as containerd's CRI plugin does; the loopback device is brought up here.
#include <string>
#include <vector>

#include "common/result.h"
#include "runtime/v1/api.pb.h"
#include "shim/cri_config.h"

namespace berth::cri {

struct PodNetwork {
  std::vector<std::string> ips;  // the primary (IPv4 first) then the others
  std::string resultJson;
};

class PodNetworking {
 public:
  // Results are cached under <cacheDir>/results, as libcni lays them out.
  PodNetworking(const CniConfig& config, std::filesystem::path cacheDir);

  // Whether a network is configured: the NetworkReady condition and its message.
  [[nodiscard]] Status ready() const;
  // UpdateRuntimeConfig: renders cni.conf_template with the node's pod CIDRs ("a,b" for dual
  // stack; {{.PodCIDR}} is the first) into the conf dir, unless a network is ready already or
  // no template is configured (containerd's behaviour). Returns whether it wrote one.
  [[nodiscard]] Result<bool> writeFromTemplate(const std::string& podCidrs) const;
  // CNI ADD; on failure the partial attachment is deleted again.
  [[nodiscard]] Result<PodNetwork> attach(const std::string& podId, const std::string& netns,
                                          const ::runtime::v1::PodSandboxConfig& config) const;
  // CNI DEL (idempotent). `netns` may be gone already.
  [[nodiscard]] Status detach(const std::string& podId, const std::string& netns,
                              const ::runtime::v1::PodSandboxConfig& config) const;

 private:
  const CniConfig& config_;
  std::filesystem::path cacheDir_;
};

// Brings up `lo` inside the network namespace at `netns`.
[[nodiscard]] Status bringUpLoopback(const std::string& netns);

}  // namespace berth::cri
