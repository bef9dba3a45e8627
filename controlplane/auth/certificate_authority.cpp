#include "controlplane/auth/certificate_authority.h"

#include <openssl/x509.h>

#include <algorithm>
#include <set>

#include <fmt/ranges.h>

namespace berth::controlplane::auth {

namespace {

using std::chrono::system_clock;

std::string listText(const std::set<std::string>& values) {
  return fmt::format("[{}]", fmt::join(values, " "));
}

// kube-controller-manager's kubelet signers accept exactly these usage sets; "key encipherment"
// only matters for RSA keys, so the set without it is accepted too.
Status checkUsageSet(const std::vector<std::string>& usages, const std::set<std::string>& required,
                     const std::string& optional) {
  const std::set<std::string> given(usages.begin(), usages.end());
  std::set<std::string> withoutOptional = required;
  withoutOptional.erase(optional);
  if (given != required && given != withoutOptional) {
    return fail(Code::kInvalidArgument, "usages did not match {}", listText(required));
  }
  return {};
}

Status validateKubeletServing(const CertificateRequest& request,
                              const std::vector<std::string>& usages) {
  if (request.organizations() != std::vector<std::string>{"system:nodes"}) {
    return fail(Code::kInvalidArgument, "subject organization is not system:nodes");
  }
  if (request.dnsNames().empty() && request.ipAddresses().empty()) {
    return fail(Code::kInvalidArgument, "DNS or IP subjectAltName is required");
  }
  if (!request.emailAddresses().empty()) {
    return fail(Code::kInvalidArgument, "Email subjectAltNames are not allowed");
  }
  if (!request.uris().empty()) {
    return fail(Code::kInvalidArgument, "URI subjectAltNames are not allowed");
  }
  BERTH_TRY(checkUsageSet(usages, {"digital signature", "key encipherment", "server auth"},
                          "key encipherment"));
  if (!request.commonName().starts_with("system:node:")) {
    return fail(Code::kInvalidArgument, "subject common name does not begin with system:node:");
  }
  return {};
}

Status validateKubeletClient(const CertificateRequest& request,
                             const std::vector<std::string>& usages) {
  if (request.organizations() != std::vector<std::string>{"system:nodes"}) {
    return fail(Code::kInvalidArgument, "subject organization is not system:nodes");
  }
  if (!request.dnsNames().empty()) {
    return fail(Code::kInvalidArgument, "DNS subjectAltNames are not allowed");
  }
  if (!request.emailAddresses().empty()) {
    return fail(Code::kInvalidArgument, "Email subjectAltNames are not allowed");
  }
  if (!request.ipAddresses().empty()) {
    return fail(Code::kInvalidArgument, "IP subjectAltNames are not allowed");
  }
  if (!request.uris().empty()) {
    return fail(Code::kInvalidArgument, "URI subjectAltNames are not allowed");
  }
  if (!request.commonName().starts_with("system:node:")) {
    return fail(Code::kInvalidArgument, "subject common name does not begin with system:node:");
  }
  return checkUsageSet(usages, {"client auth", "digital signature", "key encipherment"},
                       "key encipherment");
}

Status validateAPIServerClient(const std::vector<std::string>& usages) {
  bool hasClientAuth = false;
  for (const auto& usage : usages) {
    if (usage == "digital signature" || usage == "key encipherment") continue;  // optional
    if (usage != "client auth") {
      return fail(Code::kInvalidArgument, "invalid usage for client certificate: {}", usage);
    }
    hasClientAuth = true;
  }
  if (!hasClientAuth) {
    return fail(Code::kInvalidArgument,
                "missing required usage for client certificate: client auth");
  }
  return {};
}

}  // namespace

Result<CertificateAuthority> CertificateAuthority::create(std::string_view commonName, KeyPair key,
                                                          system_clock::time_point now,
                                                          std::chrono::seconds validity) {
  CertificateTemplate tmpl;
  tmpl.commonName = std::string(commonName);
  tmpl.isCa = true;
  tmpl.usages = {"digital signature", "key encipherment"};
  tmpl.notBefore = now;
  tmpl.notAfter = now + validity;
  auto certificate = BERTH_TRY(signCertificate(tmpl, key.publicKey(), nullptr, key));
  return CertificateAuthority(std::move(certificate), std::move(key));
}

Result<CertificateAuthority> CertificateAuthority::fromPem(std::string_view certificatePem,
                                                           std::string_view keyPem) {
  auto certificate = BERTH_TRY(Certificate::fromPem(certificatePem));
  auto key = BERTH_TRY(KeyPair::fromPem(keyPem));
  if (!certificate.isCa()) {
    return fail(Code::kInvalidArgument, "certificate \"{}\" is not a CA certificate",
                certificate.commonName());
  }
  if (!certificate.matchesKey(key)) {
    return fail(Code::kInvalidArgument, "CA certificate and key do not match");
  }
  return CertificateAuthority(std::move(certificate), std::move(key));
}

Result<Certificate> CertificateAuthority::issue(CertificateTemplate tmpl,
                                                const PublicKey& subjectKey) const {
  tmpl.notAfter = std::min(tmpl.notAfter, certificate_.notAfter());
  tmpl.isCa = false;
  return signCertificate(tmpl, subjectKey, &certificate_, key_);
}

Status validateForSigner(std::string_view signerName, const CertificateRequest& request,
                         const std::vector<std::string>& usages) {
  if (signerName == kKubeletServingSignerName) return validateKubeletServing(request, usages);
  if (signerName == kKubeAPIServerClientKubeletSignerName) {
    return validateKubeletClient(request, usages);
  }
  if (signerName == kKubeAPIServerClientSignerName) return validateAPIServerClient(usages);
  return fail(Code::kUnimplemented, "no built-in signer for signerName \"{}\"", signerName);
}

Result<Certificate> CertificateAuthority::signRequest(const CertificateRequest& request,
                                                      const CsrSigningOptions& options) const {
  BERTH_TRY(validateForSigner(options.signerName, request, options.usages));

  // The signer's duration: the requested one when shorter than the cluster's, never under 10
  // minutes; 5 minutes of backdating for certificates of 8 hours or more.
  std::chrono::seconds ttl = options.clusterSigningDuration;
  if (options.expirationSeconds) {
    ttl = std::clamp(std::chrono::seconds(*options.expirationSeconds), std::chrono::seconds(600),
                     options.clusterSigningDuration);
  }
  const auto backdate =
      ttl < std::chrono::hours(8) ? std::chrono::minutes(0) : std::chrono::minutes(5);
  CertificateTemplate tmpl;
  tmpl.dnsNames = request.dnsNames();
  tmpl.ipAddresses = request.ipAddresses();
  tmpl.emailAddresses = request.emailAddresses();
  tmpl.uris = request.uris();
  tmpl.usages = options.usages;
  tmpl.notBefore = std::min(options.now - backdate, certificate_.notAfter());
  tmpl.notAfter = std::min(tmpl.notBefore + ttl, certificate_.notAfter());
  return signCertificate(tmpl, request.publicKey(), &certificate_, key_,
                         X509_REQ_get_subject_name(request.get()));
}

}  // namespace berth::controlplane::auth
