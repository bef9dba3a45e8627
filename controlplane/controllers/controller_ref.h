#pragma once
// Controller references as kube-controller-manager's controllers keep them
// (pkg/controller/controller_ref_manager.go): the owner reference a controller puts on what it
// creates, and the claim that adopts matching orphans and releases what no longer matches.
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubeapi/group_version.h"
#include "kubeapi/label_selector.h"
#include "kubeapi/object_cache.h"
#include "kubeapi/object_meta.h"

namespace berth::kubeapi {
class ResourceClient;
}

namespace berth::controlplane::controllers {

// metav1.NewControllerRef: controller=true, blockOwnerDeletion=true.
kubeapi::OwnerReference newControllerRef(const nlohmann::json& owner,
                                         const kubeapi::GroupVersionKind& kind);

// ClaimObjects: of `candidates` (one namespace), the objects `owner` controls: its own that its
// selector still matches, and orphans it matches, which are adopted. Its own that no longer
// match are released. Writes (an update of ownerReferences, optimistic on resourceVersion) go
// through `writer`; `canAdopt` is asked before the first adoption (the owner may be going away).
// The first write error is returned after every candidate was tried.
[[nodiscard]] Result<std::vector<kubeapi::ObjectPtr>> claimObjects(
    const nlohmann::json& owner, const kubeapi::GroupVersionKind& ownerKind,
    const kubeapi::LabelSelector& selector, const std::vector<kubeapi::ObjectPtr>& candidates,
    const kubeapi::ResourceClient& writer, const std::function<Status()>& canAdopt);

}  // namespace berth::controlplane::controllers
