#include "controlplane/auth/service_account_token.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "controlplane/auth/crypto_names.h"
#include "controlplane/auth/jwt.h"
#include "controlplane/auth/testing/auth_fixtures.h"
#include "controlplane/auth/testing/memory_object_lookup.h"

namespace berth::controlplane::auth {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using std::chrono::system_clock;

using testing::kIssuer;
using testing::kNow;

using testing::objectWithUid;

class ServiceAccountTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = *KeyPair::generate(KeyAlgorithm::kRsa);
    generator_ = std::make_unique<ServiceAccountTokenGenerator>(
        *ServiceAccountTokenGenerator::create(kIssuer, key_));
    lookup_ = std::make_shared<testing::MemoryObjectLookup>();
    lookup_->put("", "serviceaccounts", objectWithUid("default", "sa1", "sa-uid"));
    auto pod = objectWithUid("default", "p1", "pod-uid");
    pod["spec"] = {{"serviceAccountName", "sa1"}, {"nodeName", "n1"}};
    lookup_->put("", "pods", pod);
    lookup_->put("", "nodes", objectWithUid("", "n1", "node-uid"));
    lookup_->put("", "secrets", objectWithUid("default", "s1", "secret-uid"));
    bound_ = ServiceAccountTokenAuthenticator::bound({kIssuer}, {key_.publicKey()}, {kIssuer},
                                                     lookup_, [this] { return now_; });
  }

  std::string boundToken(const char* pod, const char* secret, const char* node,
                         std::vector<std::string> audiences = {kIssuer},
                         seconds expiration = hours(1)) {
    auto sa = lookup_->get("", "serviceaccounts", "default", "sa1");
    BoundTokenSubject subject{&sa->json()};
    storage::ObjectPtr p, s, n;
    if (pod) subject.pod = &(p = lookup_->get("", "pods", "default", pod))->json();
    if (secret) subject.secret = &(s = lookup_->get("", "secrets", "default", secret))->json();
    if (node) subject.node = &(n = lookup_->get("", "nodes", "", node))->json();
    auto token = generator_->generateBound(subject, audiences, expiration, seconds(0), kNow);
    EXPECT_TRUE(token) << token.error().message();
    return token.value_or("");
  }

  Result<std::optional<TokenAuthentication>> authenticate(const std::string& token,
                                                          std::vector<std::string> audiences = {}) {
    return bound_->authenticateToken(token, audiences);
  }

  KeyPair key_ = *KeyPair::generate(KeyAlgorithm::kEcdsaP256);
  std::unique_ptr<ServiceAccountTokenGenerator> generator_;
  std::shared_ptr<testing::MemoryObjectLookup> lookup_;
  std::shared_ptr<ServiceAccountTokenAuthenticator> bound_;
  system_clock::time_point now_ = kNow;
};

TEST_F(ServiceAccountTokenTest, BoundTokenClaimsAreTheApiserverOnes) {
  auto jwt = parseJwt(boundToken("p1", nullptr, "n1"));
  ASSERT_TRUE(jwt);
  EXPECT_EQ(jwt->header["alg"], "RS256");
  EXPECT_EQ(jwt->header["kid"], *key_.publicKey().keyId());
  EXPECT_FALSE(jwt->header.contains("typ"));
  const auto& claims = jwt->claims;
  EXPECT_EQ(claims["iss"], kIssuer);
  EXPECT_EQ(claims["sub"], "system:serviceaccount:default:sa1");
  EXPECT_EQ(claims["aud"], nlohmann::json::array({kIssuer}));
  EXPECT_EQ(claims["iat"], 1704067200);
  EXPECT_EQ(claims["nbf"], 1704067200);
  EXPECT_EQ(claims["exp"], 1704067200 + 3600);
  EXPECT_EQ(claims["jti"].get<std::string>().size(), 36u);
  EXPECT_EQ(claims["kubernetes.io"], nlohmann::json::parse(R"({"namespace":"default",
               "serviceaccount":{"name":"sa1","uid":"sa-uid"},
               "pod":{"name":"p1","uid":"pod-uid"},
               "node":{"name":"n1","uid":"node-uid"}})"));
  EXPECT_TRUE(verifyJwt(*jwt, key_.publicKey()));
}

TEST_F(ServiceAccountTokenTest, AuthenticatesABoundTokenWithItsExtras) {
  const std::string token = boundToken("p1", nullptr, "n1");
  auto result = authenticate(token);
  ASSERT_TRUE(result) << result.error().message();
  ASSERT_TRUE(*result);
  const UserInfo& user = (*result)->user;
  EXPECT_EQ(user.name, "system:serviceaccount:default:sa1");
  EXPECT_EQ(user.uid, "sa-uid");
  EXPECT_EQ(user.groups,
            (std::vector<std::string>{"system:serviceaccounts", "system:serviceaccounts:default"}));
  EXPECT_EQ(user.extra.at("authentication.kubernetes.io/pod-name"), std::vector<std::string>{"p1"});
  EXPECT_EQ(user.extra.at("authentication.kubernetes.io/pod-uid"),
            std::vector<std::string>{"pod-uid"});
  EXPECT_EQ(user.extra.at("authentication.kubernetes.io/node-name"),
            std::vector<std::string>{"n1"});
  EXPECT_EQ(user.extra.at("authentication.kubernetes.io/node-uid"),
            std::vector<std::string>{"node-uid"});
  EXPECT_EQ(user.extra.at("authentication.kubernetes.io/credential-id").front(),
            "JTI=" + parseJwt(token)->claims["jti"].get<std::string>());
  EXPECT_EQ((*result)->audiences, std::vector<std::string>{kIssuer});
}

TEST_F(ServiceAccountTokenTest, TimeIsCheckedWithOneMinuteOfLeeway) {
  const std::string token = boundToken(nullptr, nullptr, nullptr);
  struct Case {
    seconds offset;
    const char* error;  // nullptr: valid
  };
  for (const auto& c : std::initializer_list<Case>{
           {seconds(3600 + 60), nullptr},
           {seconds(3600 + 61), "service account token has expired"},
           {seconds(-60), nullptr},
           {seconds(-61), "service account token is not valid yet"},
       }) {
    now_ = kNow + c.offset;
    auto result = authenticate(token);
    if (c.error == nullptr) {
      ASSERT_TRUE(result) << result.error().message();
      EXPECT_TRUE(*result);
    } else {
      ASSERT_FALSE(result) << c.offset.count();
      EXPECT_EQ(result.error().message(), c.error);
      EXPECT_EQ(result.error().code(), Code::kUnauthenticated);
    }
  }
}

TEST_F(ServiceAccountTokenTest, AudiencesMustMeetTheTargetAudiences) {
  const std::string vault = boundToken(nullptr, nullptr, nullptr, {"vault"});
  auto forApi = authenticate(vault);
  ASSERT_FALSE(forApi);
  EXPECT_EQ(forApi.error().message(),
            "token audiences [\"vault\"] is invalid for the target audiences "
            "[\"https://kubernetes.default.svc.cluster.local\"]");
  auto forVault = authenticate(vault, {"vault", "other"});
  ASSERT_TRUE(forVault && *forVault);
  EXPECT_EQ((*forVault)->audiences, std::vector<std::string>{"vault"});
}

TEST_F(ServiceAccountTokenTest, ABoundTokenDiesWithItsObjects) {
  struct Case {
    const char* name;
    const char* pod;
    const char* secret;
    const char* node;
    std::function<void(testing::MemoryObjectLookup&)> change;
    const char* error;
  };
  const std::vector<Case> cases = {
      {"service account deleted", nullptr, nullptr, nullptr,
       [](auto& l) { l.remove("", "serviceaccounts", "default", "sa1"); },
       "serviceaccounts \"sa1\" not found"},
      {"service account recreated", nullptr, nullptr, nullptr,
       [](auto& l) { l.put("", "serviceaccounts", objectWithUid("default", "sa1", "sa-uid-2")); },
       "service account UID (sa-uid-2) does not match claim (sa-uid)"},
      {"service account being deleted for long", nullptr, nullptr, nullptr,
       [](auto& l) {
         auto sa = objectWithUid("default", "sa1", "sa-uid");
         sa["metadata"]["deletionTimestamp"] = "2023-12-31T23:58:00Z";
         l.put("", "serviceaccounts", sa);
       },
       "service account default/sa1 has been deleted"},
      {"pod deleted", "p1", nullptr, nullptr,
       [](auto& l) { l.remove("", "pods", "default", "p1"); },
       "service account token has been invalidated"},
      {"pod recreated", "p1", nullptr, nullptr,
       [](auto& l) { l.put("", "pods", objectWithUid("default", "p1", "pod-uid-2")); },
       "pod UID (pod-uid-2) does not match service account pod ref claim (pod-uid)"},
      {"secret deleted", nullptr, "s1", nullptr,
       [](auto& l) { l.remove("", "secrets", "default", "s1"); },
       "service account token has been invalidated"},
      {"secret recreated", nullptr, "s1", nullptr,
       [](auto& l) { l.put("", "secrets", objectWithUid("default", "s1", "secret-uid-2")); },
       "secret UID (secret-uid-2) does not match service account secret ref claim (secret-uid)"},
      {"node deleted", nullptr, nullptr, "n1", [](auto& l) { l.remove("", "nodes", "", "n1"); },
       "service account token has been invalidated"},
      {"node recreated", nullptr, nullptr, "n1",
       [](auto& l) { l.put("", "nodes", objectWithUid("", "n1", "node-uid-2")); },
       "node UID (node-uid-2) does not match service account node ref claim (node-uid)"},
  };
  for (const auto& c : cases) {
    SetUp();
    const std::string token = boundToken(c.pod, c.secret, c.node);
    ASSERT_TRUE(authenticate(token)) << c.name;
    c.change(*lookup_);
    auto result = authenticate(token);
    ASSERT_FALSE(result) << c.name;
    EXPECT_EQ(result.error().message(), c.error) << c.name;
  }
  // Deleted less than the leeway ago: still good; a pod's node going away does not matter.
  SetUp();
  const std::string token = boundToken("p1", nullptr, "n1");
  auto sa = objectWithUid("default", "sa1", "sa-uid");
  sa["metadata"]["deletionTimestamp"] = "2023-12-31T23:59:30Z";
  lookup_->put("", "serviceaccounts", sa);
  lookup_->remove("", "nodes", "", "n1");
  EXPECT_TRUE(authenticate(token));
}

TEST_F(ServiceAccountTokenTest, OtherIssuersAndNonJwtsAreNotOurs) {
  EXPECT_FALSE(*authenticate("abcdef.0123456789abcdef"));
  EXPECT_FALSE(*authenticate("not-a-token"));
  auto other = *ServiceAccountTokenGenerator::create("https://elsewhere", key_);
  auto sa = lookup_->get("", "serviceaccounts", "default", "sa1");
  auto token = other.generateBound({&sa->json()}, {kIssuer}, hours(1), seconds(0), kNow);
  EXPECT_FALSE(*authenticate(*token));
}

TEST_F(ServiceAccountTokenTest, AnotherKeysSignatureIsRejected) {
  auto otherKey = *KeyPair::generate(KeyAlgorithm::kRsa);
  auto forged = *ServiceAccountTokenGenerator::create(kIssuer, otherKey);
  auto sa = lookup_->get("", "serviceaccounts", "default", "sa1");
  auto token = forged.generateBound({&sa->json()}, {kIssuer}, hours(1), seconds(0), kNow);
  auto result = authenticate(*token);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(), "go-jose/go-jose: error in cryptographic primitive");
  // A tampered payload fails the same way.
  std::string good = boundToken(nullptr, nullptr, nullptr);
  auto dot = good.find('.');
  auto claims = parseJwt(good)->claims;
  claims["sub"] = "system:serviceaccount:kube-system:admin";
  std::string tampered =
      good.substr(0, dot + 1) + base64UrlEncode(claims.dump()) + good.substr(good.rfind('.'));
  auto rejected = authenticate(tampered);
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().message(), "go-jose/go-jose: error in cryptographic primitive");
}

TEST_F(ServiceAccountTokenTest, LegacySecretTokens) {
  auto sa = lookup_->get("", "serviceaccounts", "default", "sa1");
  auto secret = objectWithUid("default", "sa1-token", "secret-uid");
  secret["type"] = "kubernetes.io/service-account-token";
  auto token = generator_->generateLegacy(sa->json(), secret);
  ASSERT_TRUE(token);
  auto claims = parseJwt(*token)->claims;
  EXPECT_EQ(claims["iss"], "kubernetes/serviceaccount");
  EXPECT_EQ(claims["kubernetes.io/serviceaccount/secret.name"], "sa1-token");
  EXPECT_EQ(claims["kubernetes.io/serviceaccount/service-account.uid"], "sa-uid");
  EXPECT_FALSE(claims.contains("exp"));
  secret["data"] = {{"token", base64Encode(*token)}};
  lookup_->put("", "secrets", secret);

  auto legacy = ServiceAccountTokenAuthenticator::legacy({key_.publicKey()}, {kIssuer}, lookup_);
  auto result = legacy->authenticateToken(*token, {});
  ASSERT_TRUE(result) << result.error().message();
  ASSERT_TRUE(*result);
  EXPECT_EQ((*result)->user.name, "system:serviceaccount:default:sa1");
  EXPECT_EQ((*result)->audiences, std::vector<std::string>{kIssuer});
  // The bound authenticator does not take legacy tokens, nor the legacy one bound tokens.
  EXPECT_FALSE(*authenticate(*token));
  EXPECT_FALSE(*legacy->authenticateToken(boundToken(nullptr, nullptr, nullptr), {}));

  auto marked = secret;
  marked["metadata"]["labels"] = {{"kubernetes.io/legacy-token-invalid-since", "2024-01-01"}};
  lookup_->put("", "secrets", marked);
  auto invalid = legacy->authenticateToken(*token, {});
  ASSERT_FALSE(invalid);
  EXPECT_TRUE(invalid.error().message().starts_with(
      "the token in secret default/sa1-token for service account default/sa1 has been marked "
      "invalid."));

  auto otherToken = secret;
  otherToken["data"]["token"] = base64Encode("something else");
  lookup_->put("", "secrets", otherToken);
  EXPECT_EQ(legacy->authenticateToken(*token, {}).error().message(),
            "Token does not match server's copy");
  lookup_->remove("", "secrets", "default", "sa1-token");
  EXPECT_EQ(legacy->authenticateToken(*token, {}).error().message(), "Token has been invalidated");
  // --service-account-lookup=false trusts the signature.
  auto noLookup =
      ServiceAccountTokenAuthenticator::legacy({key_.publicKey()}, {kIssuer}, lookup_, false);
  EXPECT_TRUE(*noLookup->authenticateToken(*token, {}));
  lookup_->put("", "secrets", secret);
  lookup_->put("", "serviceaccounts", objectWithUid("default", "sa1", "sa-uid-2"));
  EXPECT_EQ(legacy->authenticateToken(*token, {}).error().message(),
            "ServiceAccount UID (sa-uid-2) does not match claim (sa-uid)");
}

TEST(ServiceAccountUsername, SplitsOnlyServiceAccounts) {
  EXPECT_EQ(serviceAccountUsername("ns", "sa"), "system:serviceaccount:ns:sa");
  auto split = splitServiceAccountUsername("system:serviceaccount:ns:sa");
  ASSERT_TRUE(split);
  EXPECT_EQ(split->first, "ns");
  EXPECT_EQ(split->second, "sa");
  for (const char* other : {"system:serviceaccount:ns", "system:serviceaccount::sa",
                            "system:serviceaccount:ns:sa:x", "system:node:n1", "jane"}) {
    EXPECT_FALSE(splitServiceAccountUsername(other)) << other;
  }
}

}  // namespace
}  // namespace berth::controlplane::auth
