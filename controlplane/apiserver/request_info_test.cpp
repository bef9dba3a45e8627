#include "controlplane/apiserver/request_info.h"

#include <gtest/gtest.h>

namespace berth::controlplane::apiserver {
namespace {

struct Case {
  const char* method;
  const char* path;
  std::vector<std::pair<std::string, std::string>> query;
  bool resource;
  const char* verb;
  const char* group;
  const char* version;
  const char* ns;
  const char* resourceName;
  const char* name;
  const char* subresource;
};

TEST(RequestInfo, ReadsPathsAsTheApiserverDoes) {
  const std::vector<Case> cases = {
      {"GET", "/api/v1/namespaces", {}, true, "list", "", "v1", "", "namespaces", "", ""},
      {"GET",
       "/api/v1/namespaces/other",
       {},
       true,
       "get",
       "",
       "v1",
       "other",
       "namespaces",
       "other",
       ""},
      {"GET", "/api/v1/namespaces/other/pods", {}, true, "list", "", "v1", "other", "pods", "", ""},
      {"GET",
       "/api/v1/namespaces/other/pods/foo",
       {},
       true,
       "get",
       "",
       "v1",
       "other",
       "pods",
       "foo",
       ""},
      {"GET",
       "/api/v1/namespaces/other/pods/foo/log",
       {},
       true,
       "get",
       "",
       "v1",
       "other",
       "pods",
       "foo",
       "log"},
      {"PUT",
       "/api/v1/namespaces/other/finalize",
       {},
       true,
       "update",
       "",
       "v1",
       "other",
       "namespaces",
       "other",
       "finalize"},
      {"PUT",
       "/api/v1/namespaces/other/status",
       {},
       true,
       "update",
       "",
       "v1",
       "other",
       "namespaces",
       "other",
       "status"},
      {"GET", "/api/v1/pods", {}, true, "list", "", "v1", "", "pods", "", ""},
      {"GET", "/api/v1/pods", {{"watch", "true"}}, true, "watch", "", "v1", "", "pods", "", ""},
      {"GET",
       "/api/v1/namespaces/ns/pods",
       {{"watch", "1"}},
       true,
       "watch",
       "",
       "v1",
       "ns",
       "pods",
       "",
       ""},
      {"GET",
       "/api/v1/namespaces/ns/pods",
       {{"watch", "true"}, {"fieldSelector", "metadata.name=web-1"}},
       true,
       "watch",
       "",
       "v1",
       "ns",
       "pods",
       "web-1",
       ""},
      {"GET",
       "/api/v1/watch/namespaces/ns/pods",
       {},
       true,
       "watch",
       "",
       "v1",
       "ns",
       "pods",
       "",
       ""},
      {"POST", "/api/v1/namespaces/ns/pods", {}, true, "create", "", "v1", "ns", "pods", "", ""},
      {"DELETE",
       "/api/v1/namespaces/ns/pods",
       {},
       true,
       "deletecollection",
       "",
       "v1",
       "ns",
       "pods",
       "",
       ""},
      {"DELETE",
       "/api/v1/namespaces/ns/pods/a",
       {},
       true,
       "delete",
       "",
       "v1",
       "ns",
       "pods",
       "a",
       ""},
      {"PATCH",
       "/apis/apps/v1/namespaces/ns/deployments/web/scale",
       {},
       true,
       "patch",
       "apps",
       "v1",
       "ns",
       "deployments",
       "web",
       "scale"},
      {"GET",
       "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin",
       {},
       true,
       "get",
       "rbac.authorization.k8s.io",
       "v1",
       "",
       "clusterroles",
       "admin",
       ""},
      {"GET",
       "/api/v1/nodes/n1/proxy/stats/summary",
       {},
       true,
       "get",
       "",
       "v1",
       "",
       "nodes",
       "n1",
       "proxy"},
      {"GET", "/api/v1/proxy/nodes/n1/stats", {}, true, "proxy", "", "v1", "", "nodes", "n1", ""},
      {"GET", "/healthz", {}, false, "get", "", "", "", "", "", ""},
      {"GET", "/api", {}, false, "get", "", "", "", "", "", ""},
      {"GET", "/api/v1", {}, false, "get", "", "", "", "", "", ""},
      {"GET", "/apis/apps/v1", {}, false, "get", "", "", "", "", "", ""},
      {"POST", "/openapi/v3", {}, false, "post", "", "", "", "", "", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.path);
    auto info = parseRequestInfo(c.method, c.path, c.query);
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_EQ(info->isResourceRequest, c.resource);
    EXPECT_EQ(info->verb, c.verb);
    EXPECT_EQ(info->apiGroup, c.group);
    EXPECT_EQ(info->apiVersion, c.version);
    EXPECT_EQ(info->namespace_, c.ns);
    EXPECT_EQ(info->resource, c.resourceName);
    EXPECT_EQ(info->name, c.name);
    EXPECT_EQ(info->subresource, c.subresource);
  }
}

TEST(RequestInfo, SpecialVerbWithoutResourceIsAnError) {
  EXPECT_FALSE(parseRequestInfo("GET", "/api/v1/watch", {}));
  auto bad = parseRequestInfo("GET", "/apis/apps/v1/watch", {});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("unable to determine kind and namespace"),
            std::string::npos);
}

TEST(RequestInfo, NameFromSelectorMustBeAPathSegment) {
  auto info = parseRequestInfo("GET", "/api/v1/namespaces/ns/pods",
                               {{"fieldSelector", "metadata.name=a/b"}});
  ASSERT_TRUE(info);
  EXPECT_EQ(info->verb, "list");
  EXPECT_EQ(info->name, "");
}

}  // namespace
}  // namespace berth::controlplane::apiserver
