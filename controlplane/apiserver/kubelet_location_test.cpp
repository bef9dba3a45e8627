#include "controlplane/apiserver/kubelet_location.h"

#include <gtest/gtest.h>

namespace berth::controlplane::apiserver {
namespace {

Json pod(std::vector<std::string> containers, std::vector<std::string> init = {}) {
  Json p = {{"metadata", {{"name", "web"}, {"namespace", "ns1"}}},
            {"spec", {{"nodeName", "n1"}, {"containers", Json::array()}}}};
  for (const auto& c : containers)
    p["spec"]["containers"].push_back({{"name", c}});
  for (const auto& c : init)
    p["spec"]["initContainers"].push_back({{"name", c}});
  return p;
}

TEST(KubeletLocation, LogContainerIsDefaultedWhenThePodHasOne) {
  auto path = podLogPath(pod({"app"}), {});
  ASSERT_TRUE(path) << path.error().message;
  EXPECT_EQ(*path, "/containerLogs/ns1/web/app");
}

TEST(KubeletLocation, SeveralContainersNeedANameWithUpstreamsMessage) {
  auto path = podLogPath(pod({"a", "b"}, {"setup"}), {});
  ASSERT_FALSE(path);
  EXPECT_EQ(path.error().code, 400);
  EXPECT_EQ(path.error().message,
            "a container name must be specified for pod web, choose one of: [setup a b]");
  auto unknown = podLogPath(pod({"a", "b"}), {{"container", "c"}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "container c is not valid for pod web");
  auto named = podLogPath(pod({"a", "b"}, {"setup"}), {{"container", "setup"}});
  ASSERT_TRUE(named);
  EXPECT_EQ(*named, "/containerLogs/ns1/web/setup");
}

TEST(KubeletLocation, LogOptionsMapToTheKubeletsQuery) {
  QueryParams q = {{"container", "app"},
                   {"follow", "true"},
                   {"previous", "1"},
                   {"timestamps", "false"},
                   {"tailLines", "10"},
                   {"limitBytes", "500"},
                   {"sinceTime", "2024-01-02T03:04:05Z"}};
  auto path = podLogPath(pod({"app"}), q);
  ASSERT_TRUE(path) << path.error().message;
  EXPECT_EQ(
      *path,
      "/containerLogs/ns1/web/app?follow=true&previous=true&sinceTime=2024-01-02T03%3A04%3A05Z"
      "&tailLines=10&limitBytes=500");
  auto since = podLogPath(pod({"app"}), {{"sinceSeconds", "30"}});
  ASSERT_TRUE(since);
  EXPECT_EQ(*since, "/containerLogs/ns1/web/app?sinceSeconds=30");
}

TEST(KubeletLocation, BadLogOptionsNameTheField) {
  for (const QueryParams& q : std::vector<QueryParams>{{{"tailLines", "-1"}},
                                                       {{"tailLines", "x"}},
                                                       {{"limitBytes", "0"}},
                                                       {{"sinceSeconds", "0"}}}) {
    auto path = podLogPath(pod({"app"}), q);
    ASSERT_FALSE(path) << q[0].first;
    EXPECT_EQ(path.error().code, 400);
    EXPECT_NE(path.error().message.find(q[0].first), std::string::npos) << path.error().message;
  }
  auto both =
      podLogPath(pod({"app"}), {{"sinceSeconds", "1"}, {"sinceTime", "2024-01-02T03:04:05Z"}});
  ASSERT_FALSE(both);
}

TEST(KubeletLocation, ExecOptionsBecomeTheKubeletsStreamParameters) {
  QueryParams q = {{"command", "sh"}, {"command", "-c"},   {"command", "echo a&b"},
                   {"stdin", "true"}, {"stdout", "true"},  {"stderr", "true"},
                   {"tty", "false"},  {"container", "app"}};
  auto exec = podStreamPath(pod({"app", "side"}), "exec", q);
  ASSERT_TRUE(exec) << exec.error().message;
  EXPECT_EQ(
      *exec,
      "/exec/ns1/web/app?input=1&output=1&error=1&command=sh&command=-c&command=echo%20a%26b");
  auto attach = podStreamPath(pod({"app"}), "attach", {{"stdout", "1"}});
  ASSERT_TRUE(attach);
  EXPECT_EQ(*attach, "/attach/ns1/web/app?output=1");
  auto pf = podStreamPath(pod({"app", "side"}), "portforward", {{"ports", "80"}});
  ASSERT_TRUE(pf);
  EXPECT_EQ(*pf, "/portForward/ns1/web?port=80");
  auto noCommand = podStreamPath(pod({"app"}), "exec", {{"stdout", "1"}});
  ASSERT_FALSE(noCommand);
  EXPECT_NE(noCommand.error().message.find("command"), std::string::npos);
}

TEST(KubeletLocation, UnscheduledPodHasNoStreamLocation) {
  Json p = pod({"app"});
  p["spec"].erase("nodeName");
  auto exec = podStreamPath(p, "exec", {{"command", "ls"}});
  ASSERT_FALSE(exec);
  EXPECT_EQ(exec.error().message, "pod web does not have a host assigned");
}

TEST(KubeletLocation, NodeAddressFollowsThePreferredTypes) {
  Json node = {{"status",
                {{"addresses",
                  {{{"type", "Hostname"}, {"address", "n1"}},
                   {{"type", "InternalIP"}, {"address", "fd00::5"}}}},
                 {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10260}}}}}}}};
  auto url = kubeletBaseUrl(node, kDefaultKubeletAddressTypes);
  ASSERT_TRUE(url);
  EXPECT_EQ(*url, "https://[fd00::5]:10260");
  auto byName = kubeletBaseUrl(node, {"Hostname", "InternalIP"});
  ASSERT_TRUE(byName);
  EXPECT_EQ(*byName, "https://n1:10260");
  auto none = kubeletBaseUrl(node, {"ExternalIP"});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, 500);
  EXPECT_NE(
      none.error().message.find(
          "no preferred addresses found; known addresses: [{Hostname n1} {InternalIP fd00::5}]"),
      std::string::npos)
      << none.error().message;
}

TEST(KubeletLocation, NodeProxyKeepsTheRestOfThePathAndQuery) {
  EXPECT_EQ(nodeProxyPath({"configz"}, false, ""), "/configz");
  EXPECT_EQ(nodeProxyPath({"stats", "summary"}, false, "only_cpu_and_memory=true"),
            "/stats/summary?only_cpu_and_memory=true");
  EXPECT_EQ(nodeProxyPath({}, false, ""), "/");
  EXPECT_EQ(nodeProxyPath({"logs"}, true, ""), "/logs/");
}

}  // namespace
}  // namespace berth::controlplane::apiserver
