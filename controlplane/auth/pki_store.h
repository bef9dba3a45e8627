#pragma once
// The server's PKI in its data directory, created at first start and reused after:
//
//   <dir>/                     0700
//     ca.crt ca.key            cluster CA (ECDSA P-256, 10 years): signs everything below and
//                              approved CSRs; ca.crt is the --client-ca-file
//     apiserver.crt .key       serving certificate (ECDSA P-256, 1 year), SANs from the options
//     sa.key sa.pub            service account token key pair (RSA 2048, RS256)
//     <client>.crt .key        client certificates (CN = user, O = groups), one pair per spec
//
// Keys are 0600, certificates 0644, every file written atomically. A first start writes the set
// in a sibling temporary directory renamed into place, so a crash never leaves half a PKI. The CA
// and the service account key are the roots: once any file exists they must all be present and
// valid, or loading fails naming the file (a new CA or signing key would silently invalidate every
// certificate and token issued before). Leaf certificates are reissued from the existing CA when
// missing, expiring within `renewBefore`, or (serving) lacking a requested SAN, as k3s does when a
// node's addresses change.
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "controlplane/auth/certificate_authority.h"
#include "controlplane/auth/crypto_names.h"

namespace berth::controlplane::auth {

struct ClientCertificateSpec {
  std::string name;  // file stem: "admin" -> admin.crt, admin.key
  std::string commonName;
  std::vector<std::string> organizations;
};

struct PkiOptions {
  // The CA's CN gets "@<unix seconds>" appended at creation, as k3s names its CAs, so CAs of
  // different clusters are told apart in a trust store.
  std::string caCommonName = "berth-ca";
  std::string servingCommonName = "kube-apiserver";
  std::vector<std::string> servingDnsNames;
  std::vector<std::string> servingIpAddresses;
  std::vector<ClientCertificateSpec> clients;
  std::chrono::seconds leafValidity = std::chrono::hours(24 * 365);
  std::chrono::seconds renewBefore = std::chrono::hours(24 * 90);
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

// The serving certificate names every apiserver carries for in-cluster clients: localhost,
// kubernetes, kubernetes.default, kubernetes.default.svc, kubernetes.default.svc.<clusterDomain>.
std::vector<std::string> defaultServingDnsNames(std::string_view clusterDomain = "cluster.local");

struct ClusterPki {
  std::filesystem::path dir;
  CertificateAuthority ca;
  KeyPair serviceAccountKey;

  std::filesystem::path caCertificateFile() const { return dir / "ca.crt"; }
  std::filesystem::path caKeyFile() const { return dir / "ca.key"; }
  std::filesystem::path servingCertificateFile() const { return dir / "apiserver.crt"; }
  std::filesystem::path servingKeyFile() const { return dir / "apiserver.key"; }
  std::filesystem::path serviceAccountKeyFile() const { return dir / "sa.key"; }
  std::filesystem::path serviceAccountPublicKeyFile() const { return dir / "sa.pub"; }
  std::filesystem::path clientCertificateFile(std::string_view name) const {
    return dir / (std::string(name) + ".crt");
  }
  std::filesystem::path clientKeyFile(std::string_view name) const {
    return dir / (std::string(name) + ".key");
  }
};

[[nodiscard]] Result<ClusterPki> loadOrCreatePki(const std::filesystem::path& dir,
                                                 const PkiOptions& options);

}  // namespace berth::controlplane::auth
