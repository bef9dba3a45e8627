#include "controlplane/auth/token_request.h"

#include <gtest/gtest.h>

#include "controlplane/auth/jwt.h"
#include "controlplane/auth/testing/auth_fixtures.h"
#include "controlplane/auth/testing/memory_object_lookup.h"

namespace berth::controlplane::auth {
namespace {

using std::chrono::system_clock;

using testing::kIssuer;
using testing::kNow;

using testing::objectWithUid;

class TokenRequestTest : public ::testing::Test {
 protected:
  TokenRequestTest()
      : generator_(*ServiceAccountTokenGenerator::create(kIssuer,
                                                         *KeyPair::generate(KeyAlgorithm::kRsa))) {
    lookup_.put("", "serviceaccounts", objectWithUid("default", "sa1", "sa-uid"));
    auto pod = objectWithUid("default", "p1", "pod-uid");
    pod["spec"] = {{"serviceAccountName", "sa1"}, {"nodeName", "n1"}};
    lookup_.put("", "pods", pod);
    auto other = objectWithUid("default", "p2", "pod2-uid");
    other["spec"] = {{"serviceAccountName", "default"}};
    lookup_.put("", "pods", other);
    lookup_.put("", "nodes", objectWithUid("", "n1", "node-uid"));
    lookup_.put("", "secrets", objectWithUid("default", "s1", "secret-uid"));
    options_.apiAudiences = {kIssuer};
  }

  Result<TokenRequestResult> issue(const char* body, const char* name = "sa1") {
    return issueTokenRequest(generator_, lookup_, "default", name, nlohmann::json::parse(body),
                             options_, kNow);
  }

  ServiceAccountTokenGenerator generator_;
  testing::MemoryObjectLookup lookup_;
  TokenRequestOptions options_;
};

TEST_F(TokenRequestTest, DefaultsToAnHourForTheApiAudiences) {
  auto result = issue(R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest"})");
  ASSERT_TRUE(result) << result.error().message();
  const auto& tr = result->tokenRequest;
  EXPECT_EQ(tr["metadata"]["name"], "sa1");
  EXPECT_EQ(tr["metadata"]["namespace"], "default");
  EXPECT_EQ(tr["metadata"]["creationTimestamp"], "2024-01-01T00:00:00Z");
  EXPECT_EQ(tr["spec"]["expirationSeconds"], 3600);
  EXPECT_EQ(tr["spec"]["audiences"], nlohmann::json::array({kIssuer}));
  EXPECT_EQ(tr["status"]["expirationTimestamp"], "2024-01-01T01:00:00Z");
  auto claims = parseJwt(tr["status"]["token"].get<std::string>())->claims;
  EXPECT_EQ(claims["exp"], 1704067200 + 3600);
  EXPECT_EQ(claims["aud"], nlohmann::json::array({kIssuer}));
  EXPECT_FALSE(claims["kubernetes.io"].contains("pod"));
  EXPECT_TRUE(result->warnings.empty());
}

TEST_F(TokenRequestTest, PodBindingCarriesThePodsNode) {
  auto result = issue(R"({"spec":{"audiences":["vault"],"expirationSeconds":7200,
      "boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"p1","uid":"pod-uid"}}})");
  ASSERT_TRUE(result) << result.error().message();
  auto claims = parseJwt(result->tokenRequest["status"]["token"].get<std::string>())->claims;
  EXPECT_EQ(claims["aud"], nlohmann::json::array({"vault"}));
  EXPECT_EQ(claims["exp"], 1704067200 + 7200);
  EXPECT_EQ(claims["kubernetes.io"]["pod"]["uid"], "pod-uid");
  EXPECT_EQ(claims["kubernetes.io"]["node"]["name"], "n1");
  EXPECT_FALSE(claims["kubernetes.io"].contains("warnafter"));
}

TEST_F(TokenRequestTest, ProjectedVolumeTokensAreExtended) {
  auto result = issue(R"({"spec":{"expirationSeconds":3607,
      "boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"p1"}}})");
  ASSERT_TRUE(result);
  auto claims = parseJwt(result->tokenRequest["status"]["token"].get<std::string>())->claims;
  EXPECT_EQ(claims["exp"], 1704067200 + kExpirationExtensionSeconds);
  EXPECT_EQ(claims["kubernetes.io"]["warnafter"], 1704067200 + 3607);
  EXPECT_EQ(result->tokenRequest["status"]["expirationTimestamp"], "2024-01-01T01:00:07Z");
  options_.extendExpiration = false;
  auto plain = issue(R"({"spec":{"expirationSeconds":3607,
      "boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"p1"}}})");
  EXPECT_EQ(parseJwt(plain->tokenRequest["status"]["token"].get<std::string>())->claims["exp"],
            1704067200 + 3607);
}

TEST_F(TokenRequestTest, MaximumExpirationShortensWithAWarning) {
  options_.maxExpiration = std::chrono::hours(2);
  auto result = issue(R"({"spec":{"expirationSeconds":86400}})");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->tokenRequest["spec"]["expirationSeconds"], 7200);
  EXPECT_EQ(result->warnings,
            std::vector<std::string>{"requested expiration of 86400 seconds shortened to 7200 "
                                     "seconds"});
}

TEST_F(TokenRequestTest, ErrorsAreTheApiserverOnes) {
  struct Case {
    const char* body;
    const char* name;
    Code code;
    const char* message;
  };
  const std::vector<Case> cases = {
      {R"({"spec":{"expirationSeconds":60}})", "sa1", Code::kInvalidArgument,
       "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid "
       "value: 60: may not specify a duration less than 10 minutes"},
      {R"({"spec":{"expirationSeconds":4294967297}})", "sa1", Code::kInvalidArgument,
       "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid "
       "value: 4294967297: may not specify a duration larger than 2^32 seconds"},
      {R"({"metadata":{"name":"other"}})", "sa1", Code::kInvalidArgument,
       "TokenRequest.authentication.k8s.io \"sa1\" is invalid: metadata.name: Invalid value: "
       "\"other\": must match the service account name if specified"},
      {"{}", "missing", Code::kNotFound, "serviceaccounts \"missing\" not found"},
      {R"({"spec":{"boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"gone"}}})", "sa1",
       Code::kNotFound, "pods \"gone\" not found"},
      {R"({"spec":{"boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"p2"}}})", "sa1",
       Code::kFailedPrecondition,
       "cannot bind token for serviceaccount \"sa1\" to pod running with different "
       "serviceaccount name."},
      {R"({"spec":{"boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"p1","uid":"x"}}})",
       "sa1", Code::kAborted,
       "Operation cannot be fulfilled on Pod \"p1\": the UID in the bound object reference (x) "
       "does not match the UID in record. The object might have been deleted and then recreated"},
      {R"({"spec":{"boundObjectRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"d"}}})",
       "sa1", Code::kFailedPrecondition,
       "cannot bind token to object of type apps/v1, Kind=Deployment"},
      {R"({"spec":{"boundObjectRef":{"apiVersion":"v1","kind":"Secret","name":"nope"}}})", "sa1",
       Code::kNotFound, "secrets \"nope\" not found"},
  };
  for (const auto& c : cases) {
    auto result = issue(c.body, c.name);
    ASSERT_FALSE(result) << c.body;
    EXPECT_EQ(result.error().code(), c.code) << c.body;
    EXPECT_EQ(result.error().message(), c.message) << c.body;
  }
}

TEST_F(TokenRequestTest, SecretAndNodeBindings) {
  auto secret = issue(R"({"spec":{"boundObjectRef":{"apiVersion":"v1","kind":"Secret",
      "name":"s1","uid":"secret-uid"}}})");
  ASSERT_TRUE(secret);
  auto claims = parseJwt(secret->tokenRequest["status"]["token"].get<std::string>())->claims;
  EXPECT_EQ(claims["kubernetes.io"]["secret"]["uid"], "secret-uid");
  auto node = issue(R"({"spec":{"boundObjectRef":{"apiVersion":"v1","kind":"Node","name":"n1"}}})");
  ASSERT_TRUE(node);
  claims = parseJwt(node->tokenRequest["status"]["token"].get<std::string>())->claims;
  EXPECT_EQ(claims["kubernetes.io"]["node"]["uid"], "node-uid");
  EXPECT_FALSE(claims["kubernetes.io"].contains("pod"));
}

}  // namespace
}  // namespace berth::controlplane::auth
