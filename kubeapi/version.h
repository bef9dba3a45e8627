#pragma once
// The Kubernetes release whose API berth speaks: berth-server's /version gitVersion and the
// kubelet's nodeInfo.kubeletVersion (kubectl and controllers compare minors against it).
namespace berth::kubeapi {

inline constexpr const char* kKubernetesVersion = "v1.32.0";

}  // namespace berth::kubeapi
