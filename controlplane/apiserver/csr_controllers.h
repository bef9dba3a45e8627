#pragma once
// kube-controller-manager's two CertificateSigningRequest loops, in berth-server: csrapproving
// (a kubelet's client-certificate CSR, signer kubernetes.io/kube-apiserver-client-kubelet, is
// approved when a SubjectAccessReview lets its requester create certificatesigningrequests/
// nodeclient — or /selfnodeclient for a node renewing its own) and csrsigning (an approved CSR
// of a built-in signer gets its certificate from the cluster CA, or a Failed condition naming
// what the signer refused). Together they are what kubelet TLS bootstrap waits for.
#include <chrono>
#include <string>

#include "controlplane/apiserver/controller_loop.h"
#include "controlplane/apiserver/registry.h"
#include "controlplane/auth/authorizer.h"
#include "controlplane/auth/certificate_authority.h"

namespace berth::controlplane::apiserver {

class CsrControllers {
 public:
  CsrControllers(Registry& registry, storage::WatchCache& cache, const auth::Authorizer& authorizer,
                 const auth::CertificateAuthority& ca,
                 std::chrono::seconds signingDuration = std::chrono::hours(8760));

  [[nodiscard]] Status start() { return loop_.start(); }

 private:
  bool sync(const std::string& name);
  // Approves a kubelet client CSR its requester may have; nothing for any other.
  void approve(const std::string& name, const Json& csr);
  void sign(const std::string& name, const Json& csr);
  // Appends a condition through the status subresource (approval and signing results).
  void writeStatus(const std::string& name, const std::function<void(Json& status)>& change);

  Registry& registry_;
  storage::WatchCache& cache_;
  const auth::Authorizer& authorizer_;
  const auth::CertificateAuthority& ca_;
  std::chrono::seconds signingDuration_;
  ControllerLoop loop_;
};

}  // namespace berth::controlplane::apiserver
