#pragma once
// The configuration files `berth up` writes for its node daemons, rewritten at every start from
// the flags (they are outputs, not user configuration; the user's knobs are the flags).
#include "cmd/berth/up/up_options.h"
#include "common/result.h"

namespace berth::cmd {

struct NodeExecutables {
  std::filesystem::path cri, kubelet, proxy, monitor, podInit, runtime, cniBinDir;
};

[[nodiscard]] Result<NodeExecutables> findNodeExecutables(const UpOptions& options);

// cri.yaml and the CNI template (a bridge with host-local IPAM on the node's podCIDR, portmap),
// which berth-cri renders when the kubelet passes the podCIDR on (UpdateRuntimeConfig).
[[nodiscard]] Status writeCriFiles(const NodePaths& paths, const UpOptions& options,
                                   const NodeExecutables& bin);
// kubelet.yaml: x509 and webhook authentication, webhook authorization, the static pod and pod log
// directories under the data dir, and the address it serves on.
[[nodiscard]] Status writeKubeletConfig(const NodePaths& paths, const UpOptions& options);

}  // namespace berth::cmd
