#pragma once
// PKCS#10 certificate signing requests, as certificates.k8s.io carries them in spec.request (PEM
// "CERTIFICATE REQUEST"): created by a node for its kubelet certificates, parsed by the signer and
// by NodeRestriction.
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/crypto/key_pair.h"
#include "common/result.h"

namespace berth::crypto {

struct CertificateRequestSubject {
  std::string commonName;
  std::vector<std::string> organizations;
  std::vector<std::string> dnsNames;
  std::vector<std::string> ipAddresses;
};

class CertificateRequest {
 public:
  // The first CERTIFICATE REQUEST block; its self-signature must verify.
  [[nodiscard]] static Result<CertificateRequest> fromPem(std::string_view pem);
  [[nodiscard]] static Result<CertificateRequest> create(const KeyPair& key,
                                                         const CertificateRequestSubject& subject);

  [[nodiscard]] Result<std::string> pem() const;
  std::string commonName() const;
  std::vector<std::string> organizations() const;
  std::vector<std::string> dnsNames() const;
  std::vector<std::string> ipAddresses() const;
  std::vector<std::string> emailAddresses() const;
  std::vector<std::string> uris() const;
  PublicKey publicKey() const;

  X509_REQ* get() const { return request_.get(); }

 private:
  explicit CertificateRequest(std::shared_ptr<X509_REQ> request) : request_(std::move(request)) {}
  std::shared_ptr<X509_REQ> request_;
};

}  // namespace berth::crypto
