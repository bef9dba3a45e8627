#include "controlplane/auth/policy_rule.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "controlplane/auth/testing/auth_fixtures.h"

namespace berth::controlplane::auth::rbac {
namespace {

Attributes resource(std::string verb, std::string group, std::string resource,
                    std::string subresource = {}, std::string name = {}) {
  return testing::ask({}, std::move(verb), std::move(resource), "default", std::move(name),
                      std::move(subresource), std::move(group));
}

Attributes path(std::string verb, std::string url) {
  Attributes a;
  a.resourceRequest = false;
  a.verb = std::move(verb);
  a.path = std::move(url);
  return a;
}

TEST(PolicyRule, AllowsAsTheApiserverMatches) {
  struct Case {
    const char* name;
    const char* rule;
    Attributes request;
    bool allowed;
  };
  const std::vector<Case> cases = {
      {"exact", R"({"verbs":["get"],"apiGroups":[""],"resources":["pods"]})",
       resource("get", "", "pods"), true},
      {"other verb", R"({"verbs":["get"],"apiGroups":[""],"resources":["pods"]})",
       resource("list", "", "pods"), false},
      {"other group", R"({"verbs":["get"],"apiGroups":[""],"resources":["deployments"]})",
       resource("get", "apps", "deployments"), false},
      {"stars", R"({"verbs":["*"],"apiGroups":["*"],"resources":["*"]})",
       resource("delete", "apps", "deployments", "scale"), true},
      {"resource does not cover its subresource",
       R"({"verbs":["get"],"apiGroups":[""],"resources":["pods"]})",
       resource("get", "", "pods", "log"), false},
      {"subresource form", R"({"verbs":["get"],"apiGroups":[""],"resources":["pods/log"]})",
       resource("get", "", "pods", "log"), true},
      {"subresource form is not the resource",
       R"({"verbs":["get"],"apiGroups":[""],"resources":["pods/log"]})",
       resource("get", "", "pods"), false},
      {"any resource's subresource",
       R"({"verbs":["update"],"apiGroups":["*"],"resources":["*/status"]})",
       resource("update", "apps", "deployments", "status"), true},
      {"*/status is not */scale",
       R"({"verbs":["update"],"apiGroups":["*"],"resources":["*/status"]})",
       resource("update", "apps", "deployments", "scale"), false},
      {"resource name",
       R"({"verbs":["get"],"apiGroups":[""],"resources":["configmaps"],"resourceNames":["a"]})",
       resource("get", "", "configmaps", "", "a"), true},
      {"other resource name",
       R"({"verbs":["get"],"apiGroups":[""],"resources":["configmaps"],"resourceNames":["a"]})",
       resource("get", "", "configmaps", "", "b"), false},
      {"resource names never match a list",
       R"({"verbs":["list"],"apiGroups":[""],"resources":["configmaps"],"resourceNames":["a"]})",
       resource("list", "", "configmaps"), false},
      {"url", R"({"verbs":["get"],"nonResourceURLs":["/healthz"]})", path("get", "/healthz"), true},
      {"url prefix", R"({"verbs":["get"],"nonResourceURLs":["/healthz/*"]})",
       path("get", "/healthz/etcd"), true},
      {"url prefix is not the bare path", R"({"verbs":["get"],"nonResourceURLs":["/healthz/*"]})",
       path("get", "/healthz"), false},
      {"url star", R"({"verbs":["*"],"nonResourceURLs":["*"]})", path("post", "/anything"), true},
      {"url rule on a resource request", R"({"verbs":["get"],"nonResourceURLs":["*"]})",
       resource("get", "", "pods"), false},
      {"resource rule on a url", R"({"verbs":["get"],"apiGroups":["*"],"resources":["*"]})",
       path("get", "/healthz"), false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ruleAllows(c.request, nlohmann::json::parse(c.rule)), c.allowed) << c.name;
  }
}

TEST(PolicyRule, CoversAndReportsWhatIsMissing) {
  auto rules = [](const char* text) {
    auto array = nlohmann::json::parse(text);
    return std::vector<nlohmann::json>(array.begin(), array.end());
  };
  struct Case {
    const char* name;
    const char* owner;
    const char* servant;
    std::vector<std::string> missing;  // compactString of the compacted missing rules
  };
  const std::vector<Case> cases = {
      {"same",
       R"([{"verbs":["get","list"],"apiGroups":[""],"resources":["pods"]}])",
       R"([{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}])",
       {}},
      {"star covers all",
       R"([{"verbs":["*"],"apiGroups":["*"],"resources":["*"]}])",
       R"([{"verbs":["get"],"apiGroups":["apps"],"resources":["deployments/scale"]}])",
       {}},
      {"*/subresource covers a subresource",
       R"([{"verbs":["get"],"apiGroups":[""],"resources":["*/log"]}])",
       R"([{"verbs":["get"],"apiGroups":[""],"resources":["pods/log"]}])",
       {}},
      {"names need all names",
       R"([{"verbs":["get"],"apiGroups":[""],"resources":["secrets"],"resourceNames":["a"]}])",
       R"([{"verbs":["get"],"apiGroups":[""],"resources":["secrets"],"resourceNames":["a","b"]}])",
       {R"({APIGroups:[""], Resources:["secrets"], ResourceNames:["b"], Verbs:["get"]})"}},
      {"a named rule does not cover all names",
       R"([{"verbs":["get"],"apiGroups":[""],"resources":["secrets"],"resourceNames":["a"]}])",
       R"([{"verbs":["get"],"apiGroups":[""],"resources":["secrets"]}])",
       {R"({APIGroups:[""], Resources:["secrets"], Verbs:["get"]})"}},
      {"missing verbs compact into one rule",
       R"([{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}])",
       R"([{"verbs":["get","list","watch"],"apiGroups":["","apps"],"resources":["pods"]}])",
       {R"({APIGroups:[""], Resources:["pods"], Verbs:["list" "watch"]})",
        R"({APIGroups:["apps"], Resources:["pods"], Verbs:["get" "list" "watch"]})"}},
      {"urls",
       R"([{"verbs":["get"],"nonResourceURLs":["/api/*"]}])",
       R"([{"verbs":["get"],"nonResourceURLs":["/api/v1","/apis"]}])",
       {R"({NonResourceURLs:["/apis"], Verbs:["get"]})"}},
  };
  for (const auto& c : cases) {
    auto [covered, missing] = covers(rules(c.owner), rules(c.servant));
    EXPECT_EQ(covered, c.missing.empty()) << c.name;
    std::vector<std::string> described;
    for (const auto& rule : compactRules(missing))
      described.push_back(compactString(rule));
    std::sort(described.begin(), described.end());  // escalation errors list them sorted
    EXPECT_EQ(described, c.missing) << c.name;
  }
}

}  // namespace
}  // namespace berth::controlplane::auth::rbac
