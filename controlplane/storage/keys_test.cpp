#include "controlplane/storage/keys.h"

#include <gtest/gtest.h>

#include "controlplane/storage/backend.h"

namespace berth::controlplane::storage {
namespace {

TEST(Keys, LayoutPerScopeAndGroup) {
  struct Case {
    std::string_view group, resource, ns, name;
    std::string key, nsPrefix, prefix;
  };
  const Case cases[] = {
      {"", "pods", "default", "web-1", "/registry/pods/default/web-1", "/registry/pods/default/",
       "/registry/pods/"},
      {"apps", "deployments", "default", "web", "/registry/deployments.apps/default/web",
       "/registry/deployments.apps/default/", "/registry/deployments.apps/"},
      {"", "nodes", "", "n1", "/registry/nodes/n1", "/registry/nodes/", "/registry/nodes/"},
      {"rbac.authorization.k8s.io", "clusterroles", "", "admin",
       "/registry/clusterroles.rbac.authorization.k8s.io/admin",
       "/registry/clusterroles.rbac.authorization.k8s.io/",
       "/registry/clusterroles.rbac.authorization.k8s.io/"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(objectKey(c.group, c.resource, c.ns, c.name), c.key);
    EXPECT_EQ(namespacePrefix(c.group, c.resource, c.ns), c.nsPrefix);
    EXPECT_EQ(resourcePrefix(c.group, c.resource), c.prefix);
  }
}

TEST(Keys, PrefixesDoNotMatchSiblingResources) {
  auto pods = resourcePrefix("", "pods");
  auto templates = objectKey("", "podtemplates", "default", "t");
  EXPECT_FALSE(inRange(templates, pods, prefixEnd(pods)));
  EXPECT_TRUE(inRange(objectKey("", "pods", "default", "p"), pods, prefixEnd(pods)));
  // A namespace prefix does not match a namespace whose name extends it.
  auto ns1 = namespacePrefix("", "pods", "ns1");
  EXPECT_FALSE(inRange(objectKey("", "pods", "ns10", "p"), ns1, prefixEnd(ns1)));
}

TEST(PrefixEnd, IncrementsTheLastByteBelow0xff) {
  EXPECT_EQ(prefixEnd("/registry/pods/"), "/registry/pods0");
  EXPECT_EQ(prefixEnd("a\xff"), "b");
  EXPECT_EQ(prefixEnd("\xff\xff"), std::string(1, '\0'));
  EXPECT_EQ(prefixEnd(""), std::string(1, '\0'));
}

TEST(InRange, SingleKeyBoundedAndOpen) {
  EXPECT_TRUE(inRange("a", "a", ""));
  EXPECT_FALSE(inRange("ab", "a", ""));
  EXPECT_TRUE(inRange("ab", "a", "b"));
  EXPECT_FALSE(inRange("b", "a", "b"));
  EXPECT_TRUE(inRange("\xff", "a", std::string(1, '\0')));
  EXPECT_FALSE(inRange("0", "a", std::string(1, '\0')));
  // Bytewise, as etcd: 0xc3 (the first byte of "é") sorts after 'z'.
  EXPECT_TRUE(inRange("z", "a", "\xc3"));
  EXPECT_FALSE(inRange("\xc3\xa9", "a", "\xc3"));
}

}  // namespace
}  // namespace berth::controlplane::storage
