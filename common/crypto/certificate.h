#pragma once
// X.509 certificates: parsed, inspected, and issued from a template by a CertificateAuthority.
// Key usages are named as certificates.k8s.io names them ("digital signature", "client auth"...).
#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/crypto/key_pair.h"
#include "common/result.h"

namespace berth::crypto {

// What a new certificate says; the issuer fills serial, issuer name and key identifiers.
struct CertificateTemplate {
  std::string commonName;
  std::vector<std::string> organizations;
  std::vector<std::string> dnsNames;
  std::vector<std::string> ipAddresses;  // "10.0.0.1", "fd00::1"
  std::vector<std::string> emailAddresses;
  std::vector<std::string> uris;
  // certificates.k8s.io KeyUsage values; unknown ones are errors ("unrecognized usage values").
  std::vector<std::string> usages;
  bool isCa = false;
  std::chrono::system_clock::time_point notBefore;
  std::chrono::system_clock::time_point notAfter;
};

class Certificate {
 public:
  // The first CERTIFICATE block of the PEM data.
  [[nodiscard]] static Result<Certificate> fromPem(std::string_view pem);
  [[nodiscard]] static Result<Certificate> fromDer(std::string_view der);

  [[nodiscard]] Result<std::string> pem() const;
  [[nodiscard]] Result<std::string> der() const;
  // Lowercase hex SHA-256 of the DER (the apiserver's X509SHA256 credential id).
  [[nodiscard]] Result<std::string> sha256Hex() const;

  std::string commonName() const;
  std::vector<std::string> organizations() const;  // subject O, in order
  std::vector<std::string> dnsNames() const;
  std::vector<std::string> ipAddresses() const;  // canonical text
  std::chrono::system_clock::time_point notBefore() const;
  std::chrono::system_clock::time_point notAfter() const;
  bool isCa() const;
  // Whether the extended key usage allows "client auth" / "server auth": a certificate without the
  // extension allows any, as Go's x509 verification treats it.
  bool allowsExtendedUsage(std::string_view usage) const;
  // Whether `issuer` signed this certificate (issuer name and signature).
  bool issuedBy(const Certificate& issuer) const;
  bool matchesKey(const KeyPair& key) const;
  PublicKey publicKey() const;

  X509* get() const { return cert_.get(); }
  explicit Certificate(std::shared_ptr<X509> cert) : cert_(std::move(cert)) {}

 private:
  std::shared_ptr<X509> cert_;
};

// Builds and signs a certificate: subject from the template (or `subjectName`, an X509_NAME to copy
// whole, as the CSR signer copies the request's subject).
[[nodiscard]] Result<Certificate> signCertificate(const CertificateTemplate& tmpl,
                                                  const PublicKey& subjectKey,
                                                  const Certificate* issuer,
                                                  const KeyPair& issuerKey,
                                                  const X509_NAME* subjectName = nullptr);

}  // namespace berth::crypto
