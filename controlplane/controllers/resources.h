#pragma once
// The resources the controllers read and write, each named once.
#include "kubeapi/group_version.h"

namespace berth::controlplane::controllers {

inline const kubeapi::GroupVersionResource kPods{"", "v1", "pods"};
inline const kubeapi::GroupVersionResource kServices{"", "v1", "services"};
inline const kubeapi::GroupVersionResource kNodes{"", "v1", "nodes"};
inline const kubeapi::GroupVersionResource kEndpoints{"", "v1", "endpoints"};
inline const kubeapi::GroupVersionResource kEndpointSlices{"discovery.k8s.io", "v1",
                                                           "endpointslices"};
inline const kubeapi::GroupVersionResource kJobs{"batch", "v1", "jobs"};
inline const kubeapi::GroupVersionResource kDeployments{"apps", "v1", "deployments"};
inline const kubeapi::GroupVersionResource kReplicaSets{"apps", "v1", "replicasets"};

}  // namespace berth::controlplane::controllers
