#pragma once
// Certificates for the tests of this directory: self-signed, with the validity asked for.
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/crypto/certificate.h"
#include "common/crypto/key_pair.h"

namespace berth::kubelet::certificate::testing {

struct TestPair {
  crypto::KeyPair key;
  std::string certPem;
  std::string keyPem;
};

inline TestPair makePair(const std::string& commonName,
                         std::chrono::system_clock::time_point notBefore,
                         std::chrono::system_clock::time_point notAfter,
                         std::vector<std::string> organizations = {"system:nodes"},
                         std::vector<std::string> dnsNames = {},
                         std::vector<std::string> ips = {}) {
  auto key = crypto::KeyPair::generate(crypto::KeyAlgorithm::kEcdsaP256).value();
  crypto::CertificateTemplate t;
  t.commonName = commonName;
  t.organizations = std::move(organizations);
  t.dnsNames = std::move(dnsNames);
  t.ipAddresses = std::move(ips);
  t.usages = {"digital signature", "client auth"};
  t.notBefore = notBefore;
  t.notAfter = notAfter;
  auto cert = crypto::signCertificate(t, key.publicKey(), nullptr, key).value();
  return {key, cert.pem().value(), key.privateKeyPem().value()};
}

}  // namespace berth::kubelet::certificate::testing
