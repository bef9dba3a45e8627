#include "kubelet/server/serving_cert.h"

#include <chrono>

#include <fmt/format.h>

#include "common/crypto/certificate.h"
#include "common/crypto/key_pair.h"
#include "common/file_util.h"

namespace berth::kubelet::server {
namespace {

Result<std::pair<std::string, std::string>> generate(const std::string& hostName,
                                                     const std::vector<std::string>& ips) {
  auto key = BERTH_TRY(crypto::KeyPair::generate(crypto::KeyAlgorithm::kRsa, 2048));
  const auto now = std::chrono::system_clock::now();
  crypto::CertificateTemplate t;
  // Upstream's subject: "<host>@<unix time>".
  t.commonName =
      fmt::format("{}@{}", hostName,
                  std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  t.dnsNames = {hostName};
  t.ipAddresses = ips;
  t.usages = {"digital signature", "key encipherment", "server auth"};
  t.isCa = true;  // self-signed: clients that pin it trust it as its own CA
  t.notBefore = now - std::chrono::hours(1);
  t.notAfter = now + std::chrono::hours(24 * 365);
  auto cert = BERTH_TRY(crypto::signCertificate(t, key.publicKey(), nullptr, key));
  return std::pair{BERTH_TRY(cert.pem()), BERTH_TRY(key.privateKeyPem())};
}

}  // namespace

Result<CertKeyPaths> ensureSelfSignedCert(const std::filesystem::path& certDir,
                                          const std::string& hostName,
                                          const std::vector<std::string>& ips) {
  CertKeyPaths paths{certDir / "kubelet.crt", certDir / "kubelet.key"};
  std::error_code ec;
  if (std::filesystem::exists(paths.certFile, ec) && std::filesystem::exists(paths.keyFile, ec))
    return paths;
  auto [certPem, keyPem] = BERTH_TRY_CTX(generate(hostName, ips), "self-signed kubelet cert");
  BERTH_TRY(makeDirs(certDir, 0755));
  // The key first: a certificate on disk always has its key.
  BERTH_TRY(writeFileAtomic(paths.keyFile, keyPem, 0600));
  BERTH_TRY(writeFileAtomic(paths.certFile, certPem, 0644));
  return paths;
}

}  // namespace berth::kubelet::server
