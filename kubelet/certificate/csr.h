#pragma once
// The kubelet's CertificateSigningRequests (certificates.k8s.io/v1), as client-go's
// util/certificate/csr and the kubelet's certificate managers make them: the request for a
// signer, creating it, and waiting until it is issued, denied or failed.
#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/crypto/certificate_request.h"
#include "common/crypto/key_pair.h"
#include "common/result.h"

namespace berth::kubeapi {
class RestClient;
}

namespace berth::kubelet::certificate {

inline constexpr std::string_view kKubeletClientSignerName =
    "kubernetes.io/kube-apiserver-client-kubelet";
inline constexpr std::string_view kKubeletServingSignerName = "kubernetes.io/kubelet-serving";

// What a certificate must say: the request's subject and SANs, its signer and usages.
struct CsrTemplate {
  std::string signerName;
  crypto::CertificateRequestSubject subject;
  std::vector<std::string> usages;
};

// CN=system:node:<node>, O=system:nodes; digital signature + client auth (an ECDSA key needs
// no key encipherment).
CsrTemplate kubeletClientTemplate(std::string_view nodeName);
// The same subject; the node's host names as DNS SANs and its addresses as IP SANs; digital
// signature + server auth.
CsrTemplate kubeletServingTemplate(std::string_view nodeName,
                                   const std::vector<std::string>& hostnames,
                                   const std::vector<std::string>& ips);

// The bootstrap's CSR name: "node-csr-" + base64url(SHA-512/256 over the public key, subject
// and usages), so a restarted bootstrap with the same key finds its earlier request.
[[nodiscard]] Result<std::string> digestedName(const crypto::PublicKey& key,
                                               const CsrTemplate& tmpl);

// The CSR object for `key`: named `name`, or generateName "csr-" when empty.
[[nodiscard]] Result<nlohmann::json> csrObject(const CsrTemplate& tmpl, const crypto::KeyPair& key,
                                               std::string_view name = {});

// The certificate (PEM) of an approved and issued CSR; nullopt while it is pending, approved
// but not yet issued; kPermissionDenied for Denied, kFailedPrecondition for Failed, with the
// condition's reason and message as upstream words them.
[[nodiscard]] Result<std::optional<std::string>> issuedCertificate(const nlohmann::json& csr);

// Creates the CSR (an existing one of the same name is used when it carries the same request)
// and waits, watching it, until it is issued, denied or failed, `timeout` passes or `stop` is
// requested (kCancelled). Returns the certificate PEM.
[[nodiscard]] Result<std::string> requestCertificate(kubeapi::RestClient& api,
                                                     const nlohmann::json& csr,
                                                     std::chrono::milliseconds timeout,
                                                     std::stop_token stop = {});

}  // namespace berth::kubelet::certificate
