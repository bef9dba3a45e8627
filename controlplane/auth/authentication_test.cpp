#include "controlplane/auth/authentication.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/file_util.h"
#include "common/temp_dir_for_test.h"
#include "controlplane/auth/certificate_authority.h"
#include "controlplane/auth/rfc3339.h"
#include "controlplane/auth/service_account_token.h"
#include "controlplane/auth/testing/auth_fixtures.h"
#include "controlplane/auth/testing/memory_object_lookup.h"
#include "controlplane/auth/token_review.h"

namespace berth::controlplane::auth {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using std::chrono::system_clock;

using testing::kIssuer;
using testing::kNow;

http::Request request(std::string path, std::string authorization = {}) {
  http::Request r;
  r.method = "GET";
  r.path = r.target = std::move(path);
  r.tls = true;
  if (!authorization.empty()) r.headers.add("authorization", std::move(authorization));
  return r;
}

class AuthenticationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(writeFile(dir_.path() / "tokens.csv",
                          "static-token,jane,uid-jane,\"dev,ops\"\n"
                          "admin-token,admin,uid-admin,system:masters\n"));
    saKey_ = *KeyPair::generate(KeyAlgorithm::kRsa);
    lookup_ = std::make_shared<testing::MemoryObjectLookup>();
    lookup_->put("", "serviceaccounts",
                 {{"metadata", {{"namespace", "default"}, {"name", "sa1"}, {"uid", "sa-uid"}}}});
    lookup_->put("", "secrets",
                 {{"metadata", {{"namespace", "kube-system"}, {"name", "bootstrap-token-abcdef"}}},
                  {"type", "bootstrap.kubernetes.io/token"},
                  {"data",
                   {{"token-id", base64Encode("abcdef")},
                    {"token-secret", base64Encode("0123456789abcdef")},
                    {"usage-bootstrap-authentication", base64Encode("true")}}}});
    AuthenticationOptions options;
    options.tokenAuthFile = dir_.path() / "tokens.csv";
    options.bootstrapTokens = true;
    options.serviceAccountKeys = {saKey_.publicKey()};
    options.serviceAccountIssuers = {kIssuer};
    options.lookup = lookup_;
    options.clock = [] { return kNow; };
    auto authentication = buildAuthentication(options);
    ASSERT_TRUE(authentication) << authentication.error().message();
    authentication_ = std::move(*authentication);
  }

  std::string serviceAccountToken(std::vector<std::string> audiences) {
    auto generator = *ServiceAccountTokenGenerator::create(kIssuer, saKey_);
    auto sa = lookup_->get("", "serviceaccounts", "default", "sa1");
    return *generator.generateBound({&sa->json()}, audiences, hours(1), seconds(0), kNow);
  }

  testing::TempDir dir_;
  KeyPair saKey_ = *KeyPair::generate(KeyAlgorithm::kEcdsaP256);
  std::shared_ptr<testing::MemoryObjectLookup> lookup_;
  Authentication authentication_;
};

TEST_F(AuthenticationTest, ApiAudiencesDefaultToTheIssuer) {
  EXPECT_EQ(authentication_.apiAudiences, std::vector<std::string>{kIssuer});
}

TEST_F(AuthenticationTest, EveryCredentialKindAndSystemAuthenticated) {
  struct Case {
    const char* name;
    http::Request request;
    std::string user;
    std::vector<std::string> groups;
  };
  const std::vector<Case> cases = {
      {"static token",
       request("/api", "Bearer static-token"),
       "jane",
       {"dev", "ops", "system:authenticated"}},
      {"scheme in any case",
       request("/api", "bEaReR admin-token"),
       "admin",
       {"system:masters", "system:authenticated"}},
      {"bootstrap token",
       request("/api", "Bearer abcdef.0123456789abcdef"),
       "system:bootstrap:abcdef",
       {"system:bootstrappers", "system:authenticated"}},
      {"service account token",
       request("/api", "Bearer " + serviceAccountToken({kIssuer})),
       "system:serviceaccount:default:sa1",
       {"system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"}},
      {"anonymous health check",
       request("/healthz"),
       "system:anonymous",
       {"system:unauthenticated"}},
      {"anonymous below a health check",
       request("/readyz/ping"),
       "system:anonymous",
       {"system:unauthenticated"}},
      {"anonymous version", request("/version"), "system:anonymous", {"system:unauthenticated"}},
  };
  for (const auto& c : cases) {
    auto user = authentication_.request->authenticate(c.request);
    ASSERT_TRUE(user) << c.name << ": " << user.error().message();
    ASSERT_TRUE(*user) << c.name;
    EXPECT_EQ((*user)->name, c.user) << c.name;
    EXPECT_EQ((*user)->groups, c.groups) << c.name;
  }
}

TEST_F(AuthenticationTest, ClientCertificates) {
  auto caKey = *KeyPair::generate(KeyAlgorithm::kEcdsaP256);
  auto ca = *CertificateAuthority::create("ca", caKey, kNow);
  auto key = *KeyPair::generate(KeyAlgorithm::kEcdsaP256);
  CertificateTemplate tmpl;
  tmpl.commonName = "system:node:n1";
  tmpl.organizations = {"system:nodes"};
  tmpl.usages = {"digital signature", "client auth"};
  tmpl.notBefore = kNow;
  tmpl.notAfter = kNow + hours(1);
  auto cert = *ca.issue(tmpl, key.publicKey());
  http::Request r = request("/api/v1/nodes/n1");
  r.peerCertificate = http::PeerCertificate{"system:node:n1", {"system:nodes"}, *cert.pem()};
  auto user = authentication_.request->authenticate(r);
  ASSERT_TRUE(user && *user);
  EXPECT_EQ((*user)->name, "system:node:n1");
  EXPECT_EQ((*user)->groups, (std::vector<std::string>{"system:nodes", "system:authenticated"}));
  EXPECT_EQ((*user)->extra.at("authentication.kubernetes.io/credential-id").front(),
            "X509SHA256=" + *cert.sha256Hex());

  // Checked on each request: a kept-alive connection outlives its certificate.
  tmpl.notBefore = kNow - hours(2);
  tmpl.notAfter = kNow - hours(1);
  r.peerCertificate->pem = *ca.issue(tmpl, key.publicKey())->pem();
  auto expired = authentication_.request->authenticate(r);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), Code::kUnauthenticated);
  EXPECT_EQ(expired.error().message(),
            fmt::format("verifying certificate CN=system:node:n1 failed: x509: certificate has "
                        "expired or is not yet valid: current time {} is after {}",
                        formatRfc3339(kNow), formatRfc3339(kNow - hours(1))));
  tmpl.notBefore = kNow;
  tmpl.notAfter = kNow + hours(1);

  // A serving certificate is no client certificate.
  tmpl.usages = {"digital signature", "server auth"};
  auto serving = *ca.issue(tmpl, key.publicKey());
  r.peerCertificate->pem = *serving.pem();
  auto refused = authentication_.request->authenticate(r);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(),
            "verifying certificate CN=system:node:n1 failed: x509: certificate specifies an "
            "incompatible key usage");
}

TEST_F(AuthenticationTest, NoCredentialsOrBadOnesAreNotAnonymous) {
  auto none = authentication_.request->authenticate(request("/api/v1/pods"));
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none) << "no credentials outside the health paths: 401";
  EXPECT_FALSE(*authentication_.request->authenticate(request("/healthzfoo")));
  EXPECT_FALSE(*authentication_.request->authenticate(request("/api", "Basic dXNlcjpwdw==")));
  EXPECT_FALSE(*authentication_.request->authenticate(request("/api", "Bearer")));

  auto unknown = authentication_.request->authenticate(request("/healthz", "Bearer nope"));
  ASSERT_FALSE(unknown) << "a bad token is refused even where anonymous access is allowed";
  EXPECT_EQ(unknown.error().code(), Code::kUnauthenticated);
  EXPECT_EQ(unknown.error().message(), "invalid bearer token");

  auto wrongAudience = authentication_.request->authenticate(
      request("/api", "Bearer " + serviceAccountToken({"vault"})));
  ASSERT_FALSE(wrongAudience);
  EXPECT_EQ(wrongAudience.error().message(),
            "[invalid bearer token, token audiences [\"vault\"] is invalid for the target "
            "audiences [\"https://kubernetes.default.svc.cluster.local\"]]");
}

TEST_F(AuthenticationTest, TokenReview) {
  auto review = [&](nlohmann::json spec) {
    return reviewToken(
        authentication_,
        {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenReview"}, {"spec", spec}});
  };
  auto jane = review({{"token", "static-token"}});
  ASSERT_TRUE(jane);
  EXPECT_EQ((*jane)["status"], nlohmann::json::parse(R"({
      "authenticated": true,
      "user": {"username": "jane", "uid": "uid-jane",
               "groups": ["dev", "ops", "system:authenticated"]},
      "audiences": ["https://kubernetes.default.svc.cluster.local"]})"));

  auto vault = review({{"token", serviceAccountToken({"vault"})}, {"audiences", {"vault"}}});
  ASSERT_TRUE(vault);
  EXPECT_EQ((*vault)["status"]["authenticated"], true);
  EXPECT_EQ((*vault)["status"]["audiences"], nlohmann::json::array({"vault"}));
  // A static token is valid for the API audiences only.
  auto staticForVault = review({{"token", "static-token"}, {"audiences", {"vault"}}});
  EXPECT_EQ((*staticForVault)["status"],
            nlohmann::json::parse(R"({"user": {}, "error": "invalid bearer token"})"));
  auto expiredSa = review({{"token", serviceAccountToken({"vault"})}});
  EXPECT_FALSE((*expiredSa)["status"].contains("authenticated"));
  EXPECT_TRUE((*expiredSa)["status"]["error"].get<std::string>().starts_with(
      "[invalid bearer token, token audiences"));

  auto empty = review({{"token", ""}});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message(), "token is required for TokenReview in authentication");
}

}  // namespace
}  // namespace berth::controlplane::auth
