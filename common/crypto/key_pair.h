#pragma once
// Private and public keys (OpenSSL 3 EVP keys) as the cluster PKI uses them: ECDSA P-256 for the CA
// and every certificate (as k3s generates them), RSA 2048 for the service account signing key
// (RS256, as kubeadm and k3s generate sa.key).
#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace berth::crypto {

enum class KeyAlgorithm { kEcdsaP256, kRsa };

class PublicKey {
 public:
  // Every public key in a PEM bundle, as --service-account-key-file takes them: PUBLIC KEY,
  // RSA PUBLIC KEY, CERTIFICATE, and the public half of RSA PRIVATE KEY, EC PRIVATE KEY and
  // PRIVATE KEY blocks. Other block types are skipped; no key at all is an error.
  [[nodiscard]] static Result<std::vector<PublicKey>> allFromPem(std::string_view pem);

  bool isRsa() const;
  // PKIX SubjectPublicKeyInfo, DER and PEM ("PUBLIC KEY").
  [[nodiscard]] Result<std::string> der() const;
  [[nodiscard]] Result<std::string> pem() const;
  // The JWS "kid" the apiserver derives from a key: base64url (no padding) of SHA-256 over the
  // PKIX DER.
  [[nodiscard]] Result<std::string> keyId() const;
  // SHA-256 signature check (PKCS#1 v1.5 for RSA, DER ECDSA): false when it does not verify.
  bool verify(std::string_view data, std::string_view signature) const;

  EVP_PKEY* get() const { return key_.get(); }
  explicit PublicKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}

 private:
  std::shared_ptr<EVP_PKEY> key_;
};

class KeyPair {
 public:
  [[nodiscard]] static Result<KeyPair> generate(KeyAlgorithm algorithm, int rsaBits = 2048);
  // The first private key in a PEM bundle (RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY).
  [[nodiscard]] static Result<KeyPair> fromPem(std::string_view pem);

  KeyAlgorithm algorithm() const;
  // The private key in the traditional form Kubernetes tools write: "RSA PRIVATE KEY" (PKCS#1)
  // or "EC PRIVATE KEY" (SEC 1).
  [[nodiscard]] Result<std::string> privateKeyPem() const;
  PublicKey publicKey() const { return PublicKey(key_); }
  // SHA-256 signature (PKCS#1 v1.5 for RSA, DER ECDSA).
  [[nodiscard]] Result<std::string> sign(std::string_view data) const;

  EVP_PKEY* get() const { return key_.get(); }

 private:
  explicit KeyPair(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

}  // namespace berth::crypto
