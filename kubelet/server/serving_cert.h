#pragma once
// The kubelet's serving certificate when none is configured: as upstream, a self-signed
// certificate for the host name, generated once into <cert-dir>/kubelet.crt and kubelet.key
// (key 0600) and reused while both files exist. (With serverTLSBootstrap the kubelet serves a
// CSR-issued pair instead: kubelet/certificate.)
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace berth::kubelet::server {

struct CertKeyPaths {
  std::filesystem::path certFile;
  std::filesystem::path keyFile;
};

// `hostName` becomes the subject and a DNS name; `ips` become IP SANs. RSA 2048, a year valid,
// like certutil.GenerateSelfSignedCertKey.
[[nodiscard]] Result<CertKeyPaths> ensureSelfSignedCert(const std::filesystem::path& certDir,
                                                        const std::string& hostName,
                                                        const std::vector<std::string>& ips = {});

}  // namespace berth::kubelet::server
