#include "controlplane/auth/bootstrap_token.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "controlplane/auth/testing/auth_fixtures.h"
#include "controlplane/auth/testing/memory_object_lookup.h"

namespace berth::controlplane::auth {
namespace {

using std::chrono::system_clock;

using testing::kNow;

nlohmann::json tokenSecret(std::map<std::string, std::string> data,
                           std::string type = "bootstrap.kubernetes.io/token") {
  nlohmann::json encoded = nlohmann::json::object();
  for (const auto& [key, value] : data)
    encoded[key] = base64Encode(value);
  return {{"metadata", {{"name", "bootstrap-token-abcdef"}, {"namespace", "kube-system"}}},
          {"type", type},
          {"data", encoded}};
}

std::map<std::string, std::string> goodData() {
  return {{"token-id", "abcdef"},
          {"token-secret", "0123456789abcdef"},
          {"usage-bootstrap-authentication", "true"},
          {"expiration", "2024-01-02T00:00:00Z"},
          {"auth-extra-groups", "system:bootstrappers:kubeadm:default-node-token"}};
}

TEST(BootstrapToken, ParsesOnlyTheTokenForm) {
  EXPECT_TRUE(parseBootstrapToken("abcdef.0123456789abcdef"));
  for (const char* bad :
       {"abcdef0123456789abcdef", "abcde.0123456789abcdef", "ABCDEF.0123456789abcdef",
        "abcdef.0123456789abcde", "abcdef.0123456789abcdef0", "abcdef:0123456789abcdef", ""}) {
    EXPECT_FALSE(parseBootstrapToken(bad)) << bad;
  }
}

TEST(BootstrapToken, AuthenticatesAValidToken) {
  auto lookup = std::make_shared<testing::MemoryObjectLookup>();
  lookup->put("", "secrets", tokenSecret(goodData()));
  BootstrapTokenAuthenticator authenticator(lookup, [] { return kNow; });
  auto result = authenticator.authenticateToken("abcdef.0123456789abcdef", {});
  ASSERT_TRUE(result);
  ASSERT_TRUE(*result);
  EXPECT_EQ((*result)->user.name, "system:bootstrap:abcdef");
  EXPECT_EQ((*result)->user.groups,
            (std::vector<std::string>{"system:bootstrappers",
                                      "system:bootstrappers:kubeadm:default-node-token"}));
}

TEST(BootstrapToken, RejectsWhatUpstreamRejects) {
  struct Case {
    const char* name;
    std::function<void(std::map<std::string, std::string>&)> edit;
    std::string type = "bootstrap.kubernetes.io/token";
  };
  const std::vector<Case> cases = {
      {"wrong secret", [](auto& d) { d["token-secret"] = "fedcba9876543210"; }},
      {"other token id in the data", [](auto& d) { d["token-id"] = "zzzzzz"; }},
      {"expired", [](auto& d) { d["expiration"] = "2023-12-31T23:59:59Z"; }},
      {"expiring now", [](auto& d) { d["expiration"] = "2024-01-01T00:00:00Z"; }},
      {"unparseable expiration", [](auto& d) { d["expiration"] = "tomorrow"; }},
      {"not for authentication", [](auto& d) { d.erase("usage-bootstrap-authentication"); }},
      {"usage false", [](auto& d) { d["usage-bootstrap-authentication"] = "false"; }},
      {"bad extra group", [](auto& d) { d["auth-extra-groups"] = "system:masters"; }},
      {"extra group ending in a colon",
       [](auto& d) { d["auth-extra-groups"] = "system:bootstrappers:x:"; }},
      {"wrong type", [](auto&) {}, "Opaque"},
  };
  for (const auto& c : cases) {
    auto data = goodData();
    c.edit(data);
    auto lookup = std::make_shared<testing::MemoryObjectLookup>();
    lookup->put("", "secrets", tokenSecret(data, c.type));
    BootstrapTokenAuthenticator authenticator(lookup, [] { return kNow; });
    auto result = authenticator.authenticateToken("abcdef.0123456789abcdef", {});
    ASSERT_TRUE(result) << c.name;
    EXPECT_FALSE(*result) << c.name;
  }
  auto lookup = std::make_shared<testing::MemoryObjectLookup>();
  auto deleted = tokenSecret(goodData());
  deleted["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z";
  lookup->put("", "secrets", deleted);
  BootstrapTokenAuthenticator authenticator(lookup, [] { return kNow; });
  EXPECT_FALSE(*authenticator.authenticateToken("abcdef.0123456789abcdef", {}));
  EXPECT_FALSE(*authenticator.authenticateToken("zzzzzz.0123456789abcdef", {}));  // no secret
}

TEST(BootstrapToken, NoExpirationNeverExpiresAndGroupsAreSortedOnce) {
  auto data = goodData();
  data.erase("expiration");
  data["auth-extra-groups"] =
      "system:bootstrappers:b,system:bootstrappers:a,system:bootstrappers:b";
  auto lookup = std::make_shared<testing::MemoryObjectLookup>();
  lookup->put("", "secrets", tokenSecret(data));
  BootstrapTokenAuthenticator authenticator(lookup,
                                            [] { return kNow + std::chrono::hours(87600); });
  auto result = authenticator.authenticateToken("abcdef.0123456789abcdef", {});
  ASSERT_TRUE(result && *result);
  EXPECT_EQ((*result)->user.groups,
            (std::vector<std::string>{"system:bootstrappers", "system:bootstrappers:a",
                                      "system:bootstrappers:b"}));
}

}  // namespace
}  // namespace berth::controlplane::auth
