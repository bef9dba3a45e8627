#include "kubelet/server/auth.h"

#include <gtest/gtest.h>

namespace berth::kubelet::server {
namespace {

TEST(RequestAttributes, KubeletMappingTable) {
  struct Case {
    const char* method;
    const char* path;
    const char* verb;
    const char* subresource;
  };
  for (auto c : {
           Case{"GET", "/stats/summary", "get", "stats"},
           Case{"GET", "/stats", "get", "stats"},
           Case{"GET", "/statsfoo", "get", "proxy"},  // not a subpath of /stats
           Case{"GET", "/metrics", "get", "metrics"},
           Case{"GET", "/metrics/resource", "get", "metrics"},
           Case{"GET", "/metrics/probes", "get", "metrics"},
           Case{"GET", "/logs/", "get", "log"},
           Case{"GET", "/logs/messages", "get", "log"},
           Case{"GET", "/spec/", "get", "spec"},
           Case{"GET", "/pods", "get", "proxy"},
           Case{"GET", "/runningpods/", "get", "proxy"},
           Case{"GET", "/configz", "get", "proxy"},
           Case{"GET", "/healthz", "get", "proxy"},
           Case{"GET", "/containerLogs/ns/p/c", "get", "proxy"},
           Case{"POST", "/exec/ns/p/c", "create", "proxy"},
           Case{"GET", "/exec/ns/p/c", "get", "proxy"},
           Case{"POST", "/attach/ns/p/c", "create", "proxy"},
           Case{"POST", "/portForward/ns/p", "create", "proxy"},
           Case{"POST", "/run/ns/p/c", "create", "proxy"},
           Case{"PUT", "/pods", "update", "proxy"},
           Case{"PATCH", "/pods", "patch", "proxy"},
           Case{"DELETE", "/pods", "delete", "proxy"},
           Case{"OPTIONS", "/pods", "", "proxy"},
       }) {
    auto a = requestAttributes({.name = "alice"}, c.method, c.path, "node-1");
    EXPECT_EQ(a.verb, c.verb) << c.method << " " << c.path;
    EXPECT_EQ(a.subresource, c.subresource) << c.method << " " << c.path;
    EXPECT_EQ(a.resource, "nodes");
    EXPECT_EQ(a.name, "node-1");
    EXPECT_EQ(a.apiGroup, "");
    EXPECT_EQ(a.apiVersion, "v1");
    EXPECT_EQ(a.user.name, "alice");
  }
}

TEST(RequestAttributes, ForbiddenMessageIsUpstreams) {
  auto a = requestAttributes({.name = "system:anonymous"}, "POST", "/exec/a/b/c", "n");
  EXPECT_EQ(forbiddenMessage(a),
            "Forbidden (user=system:anonymous, verb=create, resource=nodes, "
            "subresource(s)=[proxy])");
}

TEST(RequestAttributes, SubjectAccessReviewCarriesUserAndResource) {
  auto a = requestAttributes({.name = "bob", .uid = "u1", .groups = {"g"}, .extra = {{"k", {"v"}}}},
                             "GET", "/stats/summary", "node-1");
  auto r = subjectAccessReview(a);
  EXPECT_EQ(r["apiVersion"], "authorization.k8s.io/v1");
  EXPECT_EQ(r["kind"], "SubjectAccessReview");
  EXPECT_EQ(r["spec"]["user"], "bob");
  EXPECT_EQ(r["spec"]["uid"], "u1");
  EXPECT_EQ(r["spec"]["groups"], nlohmann::json::array({"g"}));
  EXPECT_EQ(r["spec"]["extra"]["k"], nlohmann::json::array({"v"}));
  auto ra = r["spec"]["resourceAttributes"];
  EXPECT_EQ(ra["verb"], "get");
  EXPECT_EQ(ra["resource"], "nodes");
  EXPECT_EQ(ra["subresource"], "stats");
  EXPECT_EQ(ra["name"], "node-1");
  EXPECT_EQ(ra["group"], "");
  EXPECT_EQ(ra["version"], "v1");
}

TEST(Authenticator, OtherSchemesFallToAnonymous) {
  kubeapi::FakeClock clock;
  Authenticator a({.anonymous = true}, nullptr, clock);
  http::Request r;
  r.headers.add("Authorization", "Basic YTpi");
  auto u = a.authenticate(r);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->name, kAnonymousUser);
  EXPECT_EQ(u->groups, std::vector<std::string>{kUnauthenticatedGroup});
  Authenticator closed({.anonymous = false}, nullptr, clock);
  auto none = closed.authenticate(r);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), Code::kUnauthenticated);
}

TEST(TtlCache, ExpiresEntries) {
  kubeapi::FakeClock clock;
  TtlCache<int> c(clock, 2);
  c.put("a", 1, std::chrono::seconds(10));
  EXPECT_EQ(c.get("a"), 1);
  clock.advance(std::chrono::seconds(10));
  EXPECT_EQ(c.get("a"), std::nullopt);
  c.put("z", 1, std::chrono::seconds(0));  // a zero TTL is not cached
  EXPECT_EQ(c.get("z"), std::nullopt);
}

}  // namespace
}  // namespace berth::kubelet::server
