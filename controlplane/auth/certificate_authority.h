#pragma once
// The cluster CA: a self-signed ECDSA P-256 certificate and its key. It issues the serving and
// client certificates of the server and signs approved CertificateSigningRequests for the signers
// kube-controller-manager implements (kubernetes.io/kube-apiserver-client,
// kubernetes.io/kube-apiserver-client-kubelet, kubernetes.io/kubelet-serving).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "controlplane/auth/crypto_names.h"

namespace berth::controlplane::auth {

inline constexpr std::string_view kKubeAPIServerClientSignerName =
    "kubernetes.io/kube-apiserver-client";
inline constexpr std::string_view kKubeAPIServerClientKubeletSignerName =
    "kubernetes.io/kube-apiserver-client-kubelet";
inline constexpr std::string_view kKubeletServingSignerName = "kubernetes.io/kubelet-serving";

struct CsrSigningOptions {
  std::string signerName;
  std::vector<std::string> usages;                // spec.usages
  std::optional<std::int64_t> expirationSeconds;  // spec.expirationSeconds
  // kube-controller-manager's --cluster-signing-duration (default 8760h).
  std::chrono::seconds clusterSigningDuration = std::chrono::hours(8760);
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

class CertificateAuthority {
 public:
  // A new CA: CN `commonName`, valid from `now` for `validity` (10 years, as kubeadm and k3s).
  [[nodiscard]] static Result<CertificateAuthority> create(
      std::string_view commonName, KeyPair key, std::chrono::system_clock::time_point now,
      std::chrono::seconds validity = std::chrono::hours(24 * 3650));
  // An existing CA: the certificate must be a CA certificate and match the key.
  [[nodiscard]] static Result<CertificateAuthority> fromPem(std::string_view certificatePem,
                                                            std::string_view keyPem);

  const Certificate& certificate() const { return certificate_; }
  const KeyPair& key() const { return key_; }

  // A certificate for `subjectKey` from the template; notAfter never outlives the CA.
  [[nodiscard]] Result<Certificate> issue(CertificateTemplate tmpl,
                                          const PublicKey& subjectKey) const;

  // The signer step of an approved CSR: the signer's checks for its signerName (messages as
  // kube-controller-manager's, which become the Failed condition's message, reason
  // SignerValidationFailure), then a certificate with the request's subject and SANs, the
  // requested usages, backdated 5 minutes, valid for min(expirationSeconds (at least 10 minutes),
  // clusterSigningDuration). kInvalidArgument for a request the signer refuses, kUnimplemented
  // for a signerName no built-in signer handles (the CSR stays pending).
  [[nodiscard]] Result<Certificate> signRequest(const CertificateRequest& request,
                                                const CsrSigningOptions& options) const;

 private:
  CertificateAuthority(Certificate certificate, KeyPair key)
      : certificate_(std::move(certificate)), key_(std::move(key)) {}
  Certificate certificate_;
  KeyPair key_;
};

// The checks kube-controller-manager's signer for `signerName` makes of a request and its usages.
[[nodiscard]] Status validateForSigner(std::string_view signerName,
                                       const CertificateRequest& request,
                                       const std::vector<std::string>& usages);

}  // namespace berth::controlplane::auth
