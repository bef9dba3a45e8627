#include "kubelet/certificate/csr.h"

#include <gtest/gtest.h>

#include "common/base64.h"

namespace berth::kubelet::certificate {
namespace {

crypto::KeyPair newKey() {
  return crypto::KeyPair::generate(crypto::KeyAlgorithm::kEcdsaP256).value();
}

TEST(KubeletCsr, ClientRequestIsForTheNodeAndTheKubeletClientSigner) {
  auto key = newKey();
  auto csr = csrObject(kubeletClientTemplate("node-1"), key);
  ASSERT_TRUE(csr) << csr.error().message();
  EXPECT_EQ((*csr)["apiVersion"], "certificates.k8s.io/v1");
  EXPECT_EQ((*csr)["kind"], "CertificateSigningRequest");
  EXPECT_EQ((*csr)["metadata"]["generateName"], "csr-");
  EXPECT_EQ((*csr)["spec"]["signerName"], "kubernetes.io/kube-apiserver-client-kubelet");
  EXPECT_EQ((*csr)["spec"]["usages"], nlohmann::json({"digital signature", "client auth"}));
  EXPECT_FALSE((*csr)["spec"].contains("expirationSeconds"));  // the signer's duration rules
  auto pem = base64Decode((*csr)["spec"]["request"].get<std::string>());
  ASSERT_TRUE(pem);
  auto request = crypto::CertificateRequest::fromPem(*pem);
  ASSERT_TRUE(request) << request.error().message();
  EXPECT_EQ(request->commonName(), "system:node:node-1");
  EXPECT_EQ(request->organizations(), std::vector<std::string>{"system:nodes"});
  EXPECT_TRUE(request->dnsNames().empty());
  EXPECT_TRUE(request->ipAddresses().empty());
  EXPECT_EQ(request->publicKey().der().value(), key.publicKey().der().value());
}

TEST(KubeletCsr, ServingRequestNamesTheNodesAddresses) {
  auto tmpl = kubeletServingTemplate("node-1", {"node-1.example"}, {"10.0.0.5", "fd00::5"});
  auto csr = csrObject(tmpl, newKey(), "named");
  ASSERT_TRUE(csr) << csr.error().message();
  EXPECT_EQ((*csr)["metadata"], nlohmann::json({{"name", "named"}}));
  EXPECT_EQ((*csr)["spec"]["signerName"], "kubernetes.io/kubelet-serving");
  EXPECT_EQ((*csr)["spec"]["usages"], nlohmann::json({"digital signature", "server auth"}));
  auto request = crypto::CertificateRequest::fromPem(
      base64Decode((*csr)["spec"]["request"].get<std::string>()).value());
  ASSERT_TRUE(request);
  EXPECT_EQ(request->commonName(), "system:node:node-1");
  EXPECT_EQ(request->dnsNames(), std::vector<std::string>{"node-1.example"});
  EXPECT_EQ(request->ipAddresses(), (std::vector<std::string>{"10.0.0.5", "fd00::5"}));
}

TEST(KubeletCsr, TheDigestedNameDependsOnKeySubjectAndUsages) {
  auto key = newKey();
  auto tmpl = kubeletClientTemplate("node-1");
  auto name = digestedName(key.publicKey(), tmpl);
  ASSERT_TRUE(name) << name.error().message();
  EXPECT_TRUE(name->starts_with("node-csr-")) << *name;
  // 32 bytes of SHA-512/256 in unpadded base64url.
  EXPECT_EQ(name->size(), std::string("node-csr-").size() + 43) << *name;
  EXPECT_EQ(*name, digestedName(key.publicKey(), tmpl).value());
  EXPECT_NE(*name, digestedName(newKey().publicKey(), tmpl).value());
  EXPECT_NE(*name, digestedName(key.publicKey(), kubeletClientTemplate("node-2")).value());
  auto moreUsages = tmpl;
  moreUsages.usages.push_back("key encipherment");
  EXPECT_NE(*name, digestedName(key.publicKey(), moreUsages).value());
}

nlohmann::json withConditions(nlohmann::json conditions, std::string certificate = {}) {
  nlohmann::json csr = {{"status", {{"conditions", std::move(conditions)}}}};
  if (!certificate.empty()) csr["status"]["certificate"] = base64Encode(certificate);
  return csr;
}

TEST(KubeletCsr, IssuedCertificateFollowsTheConditions) {
  const nlohmann::json approved = {{"type", "Approved"}, {"status", "True"}};
  // Pending, approved but not signed yet: keep waiting.
  EXPECT_EQ(issuedCertificate(nlohmann::json::object()).value(), std::nullopt);
  EXPECT_EQ(issuedCertificate(withConditions({approved})).value(), std::nullopt);
  // A certificate without approval is not taken.
  EXPECT_EQ(issuedCertificate(withConditions(nlohmann::json::array(), "PEM")).value(),
            std::nullopt);
  EXPECT_EQ(issuedCertificate(withConditions({approved}, "PEM")).value(), "PEM");

  auto denied = issuedCertificate(withConditions(
      {{{"type", "Denied"}, {"status", "True"}, {"reason", "NotMine"}, {"message", "go away"}}}));
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(denied.error().message(),
            "certificate signing request is denied, reason: NotMine, message: go away");
  auto failed = issuedCertificate(withConditions({approved,
                                                  {{"type", "Failed"},
                                                   {"status", "True"},
                                                   {"reason", "SignerValidationFailure"},
                                                   {"message", "bad usages"}}},
                                                 "PEM"));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(failed.error().message(),
            "certificate signing request failed, reason: SignerValidationFailure, message: bad "
            "usages");
  auto badData = withConditions({approved});
  badData["status"]["certificate"] = "!!";
  auto bad = issuedCertificate(badData);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("status.certificate"), std::string::npos);
}

}  // namespace
}  // namespace berth::kubelet::certificate
