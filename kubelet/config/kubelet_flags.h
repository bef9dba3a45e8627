#pragma once
// The kubelet's flags that are not KubeletConfiguration fields (upstream KubeletFlags): what
// identifies this node and where its files are, so they can't be shared between nodes.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/result.h"

namespace berth::kubelet {

inline constexpr const char* kDefaultRootDirectory = "/var/lib/berth/kubelet";

struct KubeletFlags {
  std::string kubeletConfigFile;                      // --config
  std::string kubeConfig;                             // --kubeconfig
  std::string bootstrapKubeconfig;                    // --bootstrap-kubeconfig
  std::string hostnameOverride;                       // --hostname-override
  std::string nodeIP;                                 // --node-ip as given
  std::vector<IpAddr> nodeIPs;                        // parsed: one address or a dual-stack pair
  std::string rootDirectory = kDefaultRootDirectory;  // --root-dir
  std::string certDirectory;                      // --cert-dir; <rootDirectory>/pki when not given
  std::string cloudProvider;                      // --cloud-provider: "" or "external"
  std::map<std::string, std::string> nodeLabels;  // --node-labels
  std::string lockFilePath;                       // --lock-file
  bool exitOnLockContention = false;              // --exit-on-lock-contention
  std::string runtimeCgroups;                     // --runtime-cgroups
  std::string imageCredentialProviderConfigFile;  // --image-credential-provider-config
  std::string imageCredentialProviderBinDir;      // --image-credential-provider-bin-dir
};

// ParseNodeIPArgument: comma-separated, blanks skipped; one IP or one of each family; a pair
// can't hold an unspecified address.
[[nodiscard]] Result<std::vector<IpAddr>> parseNodeIPs(std::string_view text);

// ValidateKubeletFlags' label rules: valid keys and values, and labels in the kubernetes.io and
// k8s.io namespaces only under kubelet.kubernetes.io/node.kubernetes.io or from the allowed set.
[[nodiscard]] Status validateNodeLabels(const std::map<std::string, std::string>& labels);

// Fills derived values (certDirectory, nodeIPs) and checks the flags.
[[nodiscard]] Status completeKubeletFlags(KubeletFlags& flags);

}  // namespace berth::kubelet
