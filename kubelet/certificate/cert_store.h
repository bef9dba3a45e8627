#pragma once
// The kubelet's certificate/key pairs in --cert-dir, laid out as client-go's certificate
// FileStore writes them, so an upstream kubelet finds them where it looks:
//
//   <cert-dir>/                          0755
//     kubelet-client-current.pem  ->     symlink to the pair in use
//     kubelet-client-<timestamp>.pem     certificate then key (PEM), 0600, one per issue
//     kubelet-client.key.tmp             the bootstrap's key while its CSR is pending (0600)
//     kubelet-server-current.pem  ->     the same for the serving certificate
//     kubelet-server-<timestamp>.pem
//     kubelet.crt kubelet.key            the self-signed serving pair (kubelet/server)
//
// <timestamp> is the UTC time of the update as Go's "2006-01-02-15-04-05". An update writes
// the new file, points kubelet-<x>-updated.pem at it and renames that over the current link,
// so a reader sees the old pair or the new one, never half of either.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/crypto/certificate.h"
#include "common/crypto/key_pair.h"
#include "common/result.h"

namespace berth::kubelet::certificate {

inline constexpr std::string_view kClientPairPrefix = "kubelet-client";
inline constexpr std::string_view kServerPairPrefix = "kubelet-server";

struct CertificatePair {
  crypto::Certificate certificate;
  crypto::KeyPair key;
  std::string certPem;  // as stored: the leaf, then any chain
  std::string keyPem;
};

class CertificateStore {
 public:
  // `certFile`/`keyFile`: a pair configured elsewhere (the kubeconfig's), used while the store
  // holds none of its own, as FileStore's fallback.
  CertificateStore(std::filesystem::path dir, std::string_view pairPrefix,
                   std::filesystem::path certFile = {}, std::filesystem::path keyFile = {});

  // The pair in use: <prefix>-current.pem, else the configured files. kNotFound when there is
  // none; a file that does not parse, or a key that does not match, is an error naming it.
  [[nodiscard]] Result<CertificatePair> current() const;
  // Stores a newly issued pair and makes it current.
  [[nodiscard]] Result<CertificatePair> update(
      std::string_view certPem, std::string_view keyPem,
      std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

  std::filesystem::path currentPath() const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::string prefix_;
  std::filesystem::path certFile_;
  std::filesystem::path keyFile_;
};

// A pair from PEM data: the first certificate, the first private key, and they must match.
[[nodiscard]] Result<CertificatePair> parsePair(std::string certPem, std::string keyPem);

}  // namespace berth::kubelet::certificate
