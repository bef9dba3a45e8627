#pragma once
// berth-server's admission chain, the plugins kube-apiserver enables by default that matter for
// what it serves: NamespaceLifecycle, ServiceAccount, Priority, DefaultTolerationSeconds, the
// Service address allocation of the service REST storage, the CSR requester fields,
// NodeRestriction and RBAC's escalation check (the last two from controlplane/auth).
#include <functional>
#include <optional>
#include <string>

#include "controlplane/apiserver/admission.h"
#include "controlplane/apiserver/service_allocator.h"
#include "controlplane/storage/object_lookup.h"

namespace berth::controlplane::apiserver {

// Checks owned by controlplane/auth, called with the request and the objects involved.
struct AuthAdmission {
  // NodeRestriction: a node may write only its own Node, Lease, mirror pods and the pods bound to
  // it. `object` null for a delete, `old` null for a create.
  std::function<std::optional<ApiError>(const AdmissionAttributes&, const Json* object,
                                        const Json* old)>
      nodeRestriction;
  // RBAC: a Role, ClusterRole or binding may grant only what its writer holds (or may bind or
  // escalate).
  std::function<std::optional<ApiError>(const AdmissionAttributes&, const Json& object,
                                        const Json* old)>
      rbacEscalation;
};

class ServerAdmission final : public Admission {
 public:
  ServerAdmission(const storage::ObjectLookup& lookup, ServiceAllocator& services,
                  AuthAdmission auth, std::function<std::string()> randomSuffix);

  WriteHooks hooksFor(const AdmissionAttributes& attributes) override;
  std::function<std::optional<ApiError>(const Json& object)> deleteHookFor(
      const AdmissionAttributes& attributes) override;
  std::optional<ApiError> admitOther(const AdmissionAttributes& attributes,
                                     const Json* object) override;

 private:
  std::optional<ApiError> mutate(const AdmissionAttributes& a, Json& object, const Json* old);
  std::optional<ApiError> validate(const AdmissionAttributes& a, const Json& object,
                                   const Json* old);
  std::optional<ApiError> namespaceLifecycle(const AdmissionAttributes& a) const;
  std::optional<ApiError> serviceAccount(const AdmissionAttributes& a, Json& pod) const;
  std::optional<ApiError> priority(const AdmissionAttributes& a, Json& pod) const;

  const storage::ObjectLookup& lookup_;
  ServiceAllocator& services_;
  AuthAdmission auth_;
  std::function<std::string()> randomSuffix_;
};

}  // namespace berth::controlplane::apiserver
