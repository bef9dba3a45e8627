#pragma once
// TLS bootstrap (the kubelet's pkg/kubelet/certificate/bootstrap LoadClientCert): when the
// --kubeconfig file is missing or its client certificate has expired, the kubelet uses the
// --bootstrap-kubeconfig (a bootstrap token) to request a client certificate for
// system:node:<node> from the kubernetes.io/kube-apiserver-client-kubelet signer, stores it in
// --cert-dir (cert_store.h) and writes --kubeconfig pointing at kubelet-client-current.pem.
#include <chrono>
#include <filesystem>
#include <string>

#include "common/result.h"

namespace berth::kubelet::certificate {

struct BootstrapOptions {
  std::filesystem::path kubeconfig;
  std::filesystem::path bootstrapKubeconfig;
  std::filesystem::path certDir;
  std::string nodeName;
  std::string userAgent;
  // How long the CSR may wait for approval and signing (upstream: an hour).
  std::chrono::milliseconds waitTimeout = std::chrono::hours(1);
};

// Whether the kubeconfig can be used as it is: it loads and no client certificate in it has
// expired (a kubeconfig without certificates, e.g. with a token, is usable). The error says why
// not.
[[nodiscard]] Status kubeconfigStillValid(
    const std::filesystem::path& kubeconfig,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// Makes --kubeconfig usable, bootstrapping a client certificate when it is not. A denied or
// failed CSR is an error with the condition's reason and message.
[[nodiscard]] Status loadClientCert(const BootstrapOptions& options);

}  // namespace berth::kubelet::certificate
