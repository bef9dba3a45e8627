#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/spawn.h"
#include "common/temp_dir_for_test.h"
#include "controlplane/auth/certificate_authority.h"

namespace berth::controlplane::auth {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using std::chrono::system_clock;

// Whole seconds: certificate times have no finer resolution.
system_clock::time_point testNow() {
  return system_clock::from_time_t(system_clock::to_time_t(system_clock::now()));
}

CertificateAuthority makeCa() {
  auto key = KeyPair::generate(KeyAlgorithm::kEcdsaP256);
  EXPECT_TRUE(key);
  auto ca = CertificateAuthority::create("test-ca", *key, testNow());
  EXPECT_TRUE(ca) << ca.error().message();
  return *ca;
}

TEST(KeyPair, PemRoundTripInTheTraditionalForms) {
  for (auto [algorithm, header] :
       {std::pair{KeyAlgorithm::kEcdsaP256, "-----BEGIN EC PRIVATE KEY-----"},
        std::pair{KeyAlgorithm::kRsa, "-----BEGIN RSA PRIVATE KEY-----"}}) {
    auto key = KeyPair::generate(algorithm);
    ASSERT_TRUE(key);
    auto pem = key->privateKeyPem();
    ASSERT_TRUE(pem);
    EXPECT_TRUE(pem->starts_with(header)) << *pem;
    auto again = KeyPair::fromPem(*pem);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->algorithm(), algorithm);
    EXPECT_EQ(*again->publicKey().der(), *key->publicKey().der());
  }
  auto none = KeyPair::fromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(), "no private key in PEM data");
}

TEST(KeyPair, SignaturesVerifyOnlyForTheSignedData) {
  auto key = KeyPair::generate(KeyAlgorithm::kRsa);
  ASSERT_TRUE(key);
  auto signature = key->sign("header.payload");
  ASSERT_TRUE(signature);
  EXPECT_EQ(signature->size(), 256u);  // RSA 2048
  EXPECT_TRUE(key->publicKey().verify("header.payload", *signature));
  EXPECT_FALSE(key->publicKey().verify("header.payloaD", *signature));
  auto other = KeyPair::generate(KeyAlgorithm::kRsa);
  EXPECT_FALSE(other->publicKey().verify("header.payload", *signature));
}

TEST(PublicKey, EveryKeyOfABundleAndAStableKeyId) {
  auto ca = makeCa();
  auto rsa = KeyPair::generate(KeyAlgorithm::kRsa);
  std::string bundle = *ca.certificate().pem() + *rsa->publicKey().pem() + *rsa->privateKeyPem();
  auto keys = PublicKey::allFromPem(bundle);
  ASSERT_TRUE(keys) << keys.error().message();
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_FALSE((*keys)[0].isRsa());
  EXPECT_TRUE((*keys)[1].isRsa());
  EXPECT_EQ(*(*keys)[1].keyId(), *(*keys)[2].keyId());
  auto kid = (*keys)[1].keyId();
  ASSERT_TRUE(kid);
  EXPECT_EQ(kid->size(), 43u);  // 32 bytes, base64url without padding
  EXPECT_EQ(kid->find_first_of("+/="), std::string::npos);
  EXPECT_FALSE(PublicKey::allFromPem("not pem"));
}

TEST(CertificateAuthority, IssuesServingAndClientCertificates) {
  auto ca = makeCa();
  EXPECT_TRUE(ca.certificate().isCa());
  EXPECT_TRUE(ca.certificate().issuedBy(ca.certificate()));
  EXPECT_TRUE(ca.certificate().matchesKey(ca.key()));

  auto key = KeyPair::generate(KeyAlgorithm::kEcdsaP256);
  CertificateTemplate serving;
  serving.commonName = "kube-apiserver";
  serving.dnsNames = {"localhost", "kubernetes.default.svc"};
  serving.ipAddresses = {"127.0.0.1", "fd00:0::1", "10.96.0.1"};
  serving.usages = {"digital signature", "key encipherment", "server auth"};
  serving.notBefore = testNow();
  serving.notAfter = testNow() + hours(24 * 365 * 20);  // capped at the CA's 10 years
  auto cert = ca.issue(serving, key->publicKey());
  ASSERT_TRUE(cert) << cert.error().message();
  EXPECT_EQ(cert->commonName(), "kube-apiserver");
  EXPECT_EQ(cert->dnsNames(), (std::vector<std::string>{"localhost", "kubernetes.default.svc"}));
  EXPECT_EQ(cert->ipAddresses(), (std::vector<std::string>{"127.0.0.1", "fd00::1", "10.96.0.1"}));
  EXPECT_FALSE(cert->isCa());
  EXPECT_TRUE(cert->allowsExtendedUsage("server auth"));
  EXPECT_FALSE(cert->allowsExtendedUsage("client auth"));
  EXPECT_TRUE(cert->issuedBy(ca.certificate()));
  EXPECT_FALSE(ca.certificate().issuedBy(*cert));
  EXPECT_TRUE(cert->matchesKey(*key));
  EXPECT_EQ(cert->notAfter(), ca.certificate().notAfter());

  CertificateTemplate client;
  client.commonName = "system:admin";
  client.organizations = {"system:masters", "team-b"};
  client.usages = {"digital signature", "client auth"};
  client.notBefore = testNow();
  client.notAfter = testNow() + hours(24);
  auto admin = ca.issue(client, key->publicKey());
  ASSERT_TRUE(admin);
  EXPECT_EQ(admin->commonName(), "system:admin");
  EXPECT_EQ(admin->organizations(), (std::vector<std::string>{"system:masters", "team-b"}));
  EXPECT_TRUE(admin->allowsExtendedUsage("client auth"));
  EXPECT_EQ(admin->notAfter() - admin->notBefore(), hours(24));
  auto hex = admin->sha256Hex();
  ASSERT_TRUE(hex);
  EXPECT_EQ(hex->size(), 64u);
}

TEST(CertificateAuthority, TemplateErrorsNameTheValue) {
  auto ca = makeCa();
  auto key = KeyPair::generate(KeyAlgorithm::kEcdsaP256);
  CertificateTemplate tmpl;
  tmpl.commonName = "x";
  tmpl.notBefore = testNow();
  tmpl.notAfter = testNow() + hours(1);
  tmpl.usages = {"client auth", "teleport"};
  auto badUsage = ca.issue(tmpl, key->publicKey());
  ASSERT_FALSE(badUsage);
  EXPECT_EQ(badUsage.error().message(), "unrecognized usage values: [\"teleport\"]");
  tmpl.usages = {"client auth"};
  tmpl.ipAddresses = {"10.0.0.300"};
  auto badIp = ca.issue(tmpl, key->publicKey());
  ASSERT_FALSE(badIp);
  EXPECT_EQ(badIp.error().message(), "invalid IP address \"10.0.0.300\"");
}

TEST(CertificateAuthority, OpensslVerifiesTheChain) {
  testing::TempDir dir;
  auto ca = makeCa();
  auto key = KeyPair::generate(KeyAlgorithm::kEcdsaP256);
  CertificateTemplate tmpl;
  tmpl.commonName = "kube-apiserver";
  tmpl.dnsNames = {"localhost"};
  tmpl.ipAddresses = {"127.0.0.1"};
  tmpl.usages = {"digital signature", "server auth"};
  tmpl.notBefore = testNow() - hours(1);
  tmpl.notAfter = testNow() + hours(1);
  auto cert = ca.issue(tmpl, key->publicKey());
  ASSERT_TRUE(cert);
  ASSERT_TRUE(writeFile(dir.path() / "ca.crt", *ca.certificate().pem()));
  ASSERT_TRUE(writeFile(dir.path() / "leaf.crt", *cert->pem()));
  SpawnOptions verify;
  verify.path = "openssl";
  verify.args = {"openssl",
                 "verify",
                 "-purpose",
                 "sslserver",
                 "-verify_hostname",
                 "localhost",
                 "-verify_ip",
                 "127.0.0.1",
                 "-CAfile",
                 (dir.path() / "ca.crt").string(),
                 (dir.path() / "leaf.crt").string()};
  verify.captureStdout = verify.captureStderr = true;
  auto result = runProgram(verify);
  if (!result) GTEST_SKIP() << "no openssl program: " << result.error().message();
  EXPECT_TRUE(result->status.success()) << result->stdoutData << result->stderrData;
  verify.args[3] = "sslclient";
  auto asClient = runProgram(verify);
  ASSERT_TRUE(asClient);
  EXPECT_FALSE(asClient->status.success()) << "a serving certificate is not a client certificate";
}

struct CsrCase {
  const char* name;
  std::string_view signer;
  CertificateRequestSubject subject;
  std::vector<std::string> usages;
  const char* error;  // nullptr: signed
};

TEST(CertificateAuthority, SignsRequestsAsTheBuiltInSigners) {
  auto ca = makeCa();
  const std::vector<CsrCase> cases = {
      {"kubelet client (ECDSA usages)",
       kKubeAPIServerClientKubeletSignerName,
       {"system:node:n1", {"system:nodes"}, {}, {}},
       {"digital signature", "client auth"},
       nullptr},
      {"kubelet client (RSA usages)",
       kKubeAPIServerClientKubeletSignerName,
       {"system:node:n1", {"system:nodes"}, {}, {}},
       {"key encipherment", "digital signature", "client auth"},
       nullptr},
      {"kubelet client, wrong O",
       kKubeAPIServerClientKubeletSignerName,
       {"system:node:n1", {"system:masters"}, {}, {}},
       {"digital signature", "client auth"},
       "subject organization is not system:nodes"},
      {"kubelet client, DNS SAN",
       kKubeAPIServerClientKubeletSignerName,
       {"system:node:n1", {"system:nodes"}, {"n1"}, {}},
       {"digital signature", "client auth"},
       "DNS subjectAltNames are not allowed"},
      {"kubelet client, IP SAN",
       kKubeAPIServerClientKubeletSignerName,
       {"system:node:n1", {"system:nodes"}, {}, {"10.0.0.1"}},
       {"digital signature", "client auth"},
       "IP subjectAltNames are not allowed"},
      {"kubelet client, wrong CN",
       kKubeAPIServerClientKubeletSignerName,
       {"admin", {"system:nodes"}, {}, {}},
       {"digital signature", "client auth"},
       "subject common name does not begin with system:node:"},
      {"kubelet client, server usage",
       kKubeAPIServerClientKubeletSignerName,
       {"system:node:n1", {"system:nodes"}, {}, {}},
       {"digital signature", "server auth"},
       "usages did not match [client auth digital signature key encipherment]"},
      {"kubelet serving",
       kKubeletServingSignerName,
       {"system:node:n1", {"system:nodes"}, {"n1"}, {"10.0.0.1"}},
       {"digital signature", "server auth"},
       nullptr},
      {"kubelet serving without SAN",
       kKubeletServingSignerName,
       {"system:node:n1", {"system:nodes"}, {}, {}},
       {"digital signature", "server auth"},
       "DNS or IP subjectAltName is required"},
      {"kubelet serving, client usage",
       kKubeletServingSignerName,
       {"system:node:n1", {"system:nodes"}, {"n1"}, {}},
       {"digital signature", "client auth"},
       "usages did not match [digital signature key encipherment server auth]"},
      {"apiserver client",
       kKubeAPIServerClientSignerName,
       {"jane", {"dev"}, {}, {}},
       {"client auth"},
       nullptr},
      {"apiserver client, server usage",
       kKubeAPIServerClientSignerName,
       {"jane", {}, {}, {}},
       {"client auth", "server auth"},
       "invalid usage for client certificate: server auth"},
      {"apiserver client without client auth",
       kKubeAPIServerClientSignerName,
       {"jane", {}, {}, {}},
       {"digital signature"},
       "missing required usage for client certificate: client auth"},
      {"unknown signer",
       "example.com/mine",
       {"jane", {}, {}, {}},
       {"client auth"},
       "no built-in signer for signerName \"example.com/mine\""},
  };
  for (const auto& c : cases) {
    auto key = KeyPair::generate(KeyAlgorithm::kEcdsaP256);
    auto request = CertificateRequest::create(*key, c.subject);
    ASSERT_TRUE(request) << c.name;
    // Through PEM, as spec.request carries it.
    auto parsed = CertificateRequest::fromPem(*request->pem());
    ASSERT_TRUE(parsed) << c.name;
    EXPECT_EQ(parsed->commonName(), c.subject.commonName);
    EXPECT_EQ(parsed->organizations(), c.subject.organizations);
    CsrSigningOptions options;
    options.signerName = std::string(c.signer);
    options.usages = c.usages;
    options.now = testNow();
    auto cert = ca.signRequest(*parsed, options);
    if (c.error != nullptr) {
      ASSERT_FALSE(cert) << c.name;
      EXPECT_EQ(cert.error().message(), c.error) << c.name;
      continue;
    }
    ASSERT_TRUE(cert) << c.name << ": " << cert.error().message();
    EXPECT_EQ(cert->commonName(), c.subject.commonName) << c.name;
    EXPECT_EQ(cert->organizations(), c.subject.organizations) << c.name;
    EXPECT_EQ(cert->dnsNames(), c.subject.dnsNames) << c.name;
    EXPECT_EQ(cert->ipAddresses(), c.subject.ipAddresses) << c.name;
    EXPECT_TRUE(cert->issuedBy(ca.certificate())) << c.name;
    EXPECT_TRUE(cert->matchesKey(*key)) << c.name;
  }
}

TEST(CertificateAuthority, SignedDurationFollowsTheSigner) {
  auto ca = makeCa();
  auto key = KeyPair::generate(KeyAlgorithm::kEcdsaP256);
  auto request = CertificateRequest::create(*key, {"jane", {}, {}, {}});
  const auto now = testNow();
  struct Case {
    std::optional<std::int64_t> expirationSeconds;
    seconds backdate;
    seconds lifetime;
  };
  for (const auto& c :
       {Case{std::nullopt, seconds(300), hours(8760)}, Case{3600, seconds(0), seconds(3600)},
        Case{60, seconds(0), seconds(600)},  // at least 10 minutes
        Case{10LL * 365 * 86400, seconds(300), hours(8760)},
        Case{9 * 3600, seconds(300), hours(9)}}) {
    CsrSigningOptions options;
    options.signerName = std::string(kKubeAPIServerClientSignerName);
    options.usages = {"client auth"};
    options.expirationSeconds = c.expirationSeconds;
    options.now = now;
    auto cert = ca.signRequest(*request, options);
    ASSERT_TRUE(cert);
    EXPECT_EQ(cert->notBefore(), now - c.backdate);
    EXPECT_EQ(cert->notAfter() - cert->notBefore(), c.lifetime);
  }
}

TEST(CertificateRequest, RejectsWhatIsNotARequest) {
  auto ca = makeCa();
  auto notRequest = CertificateRequest::fromPem(*ca.certificate().pem());
  ASSERT_FALSE(notRequest);
  EXPECT_TRUE(
      notRequest.error().message().starts_with("PEM block type must be CERTIFICATE REQUEST"));
}

}  // namespace
}  // namespace berth::controlplane::auth
