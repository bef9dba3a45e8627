#pragma once
// `berth down --purge`: once `berth up` has stopped, removes everything the node made, each by
// the interface that made it — pods through berth-cri (their containers, network namespaces,
// veths and IPAM leases; a berth-cri is started on the node's config for it when none runs),
// then berth-proxy's and the CNI plugins' nftables tables, the pod bridge, the kubelet's cgroups
// (listed by `berth up` at start), whatever is still mounted under the data dir, and last the data
// dir itself. Each step runs even when an earlier one failed; the first error is reported.
#include "cmd/berth/up/up_options.h"
#include "common/result.h"

namespace berth::cmd {

// The kubelet's cgroup directories for this node, recorded at start for the purge (the kubelet
// nests a relative --cgroup-root under the cgroup `berth up` runs in).
[[nodiscard]] Status recordNodeCgroups(const NodePaths& paths, const std::string& cgroupRoot);

[[nodiscard]] Status purgeNode(const NodePaths& paths);

}  // namespace berth::cmd
