#include "kubelet/container_config.h"

#include <gtest/gtest.h>

#include "kubelet/runtime_pod.h"

namespace berth::kubelet {
namespace container_config_test {

using Json = nlohmann::json;

Json pod(Json spec) {
  if (!spec.contains("containers")) spec["containers"] = {{{"name", "app"}, {"image", "busybox"}}};
  return {{"metadata",
           {{"name", "web-0"},
            {"namespace", "shop"},
            {"uid", "u1"},
            {"labels", {{"app", "web"}}},
            {"annotations", {{"note", "x"}}}}},
          {"spec", spec}};
}

SandboxOptions options() {
  SandboxOptions o;
  o.nodeHostname = "node1";
  o.clusterDns = {"10.96.0.10"};
  o.resolvConf = "";
  o.cgroupParent = "/kubepods/besteffort/podu1";
  return o;
}

const std::string kHostResolv = "nameserver 192.0.2.53\nsearch corp.example\noptions rotate\n";

TEST(SandboxConfig, MetadataLabelsPortsAndNamespaces) {
  Json ports = Json::array({{{"containerPort", 80}, {"hostPort", 8080}, {"protocol", "TCP"}},
                            {{"containerPort", 53}, {"hostPort", 5353}, {"protocol", "UDP"}},
                            {{"containerPort", 9090}}});
  Json sysctls = Json::array({{{"name", "net.ipv4.ip_unprivileged_port_start"}, {"value", "0"}}});
  Json p =
      pod({{"containers", Json::array({{{"name", "app"}, {"image", "busybox"}, {"ports", ports}}})},
           {"shareProcessNamespace", true},
           {"securityContext", {{"sysctls", sysctls}, {"runAsUser", 1000}, {"fsGroup", 2000}}}});
  auto c = makeSandboxConfig(p, 2, options());
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->metadata().name(), "web-0");
  EXPECT_EQ(c->metadata().namespace_(), "shop");
  EXPECT_EQ(c->metadata().attempt(), 2u);
  EXPECT_EQ(c->hostname(), "web-0");
  EXPECT_EQ(c->log_directory(), "/var/log/pods/shop_web-0_u1");
  EXPECT_EQ(c->labels().at("app"), "web");
  EXPECT_EQ(c->labels().at(kPodUidLabel), "u1");
  EXPECT_EQ(c->annotations().at("note"), "x");
  ASSERT_EQ(c->port_mappings_size(), 2);
  EXPECT_EQ(c->port_mappings(1).protocol(), cri::UDP);
  EXPECT_EQ(c->port_mappings(1).host_port(), 5353);
  const auto& linux = c->linux();
  EXPECT_EQ(linux.cgroup_parent(), "/kubepods/besteffort/podu1");
  EXPECT_EQ(linux.sysctls().at("net.ipv4.ip_unprivileged_port_start"), "0");
  EXPECT_EQ(linux.security_context().namespace_options().pid(), cri::POD);
  EXPECT_EQ(linux.security_context().namespace_options().network(), cri::POD);
  EXPECT_EQ(linux.security_context().run_as_user().value(), 1000);
  ASSERT_EQ(linux.security_context().supplemental_groups_size(), 1);
  EXPECT_EQ(linux.security_context().supplemental_groups(0), 2000);
}

TEST(SandboxConfig, DnsPolicies) {
  SandboxOptions o = options();
  auto dns = podDnsConfig(pod(Json::object()), o, kHostResolv);
  ASSERT_TRUE(dns);
  EXPECT_EQ(std::vector<std::string>(dns->servers().begin(), dns->servers().end()),
            std::vector<std::string>{"10.96.0.10"});
  EXPECT_EQ(std::vector<std::string>(dns->searches().begin(), dns->searches().end()),
            (std::vector<std::string>{"shop.svc.cluster.local", "svc.cluster.local",
                                      "cluster.local", "corp.example"}));
  EXPECT_EQ(dns->options(0), "ndots:5");

  dns = podDnsConfig(pod({{"dnsPolicy", "Default"}}), o, kHostResolv);
  EXPECT_EQ(dns->servers(0), "192.0.2.53");
  EXPECT_EQ(dns->options(0), "rotate");

  // hostNetwork with ClusterFirst falls back to the host's, unless ClusterFirstWithHostNet.
  dns = podDnsConfig(pod({{"hostNetwork", true}}), o, kHostResolv);
  EXPECT_EQ(dns->servers(0), "192.0.2.53");
  dns = podDnsConfig(pod({{"hostNetwork", true}, {"dnsPolicy", "ClusterFirstWithHostNet"}}), o,
                     kHostResolv);
  EXPECT_EQ(dns->servers(0), "10.96.0.10");

  dns = podDnsConfig(
      pod({{"dnsPolicy", "None"},
           {"dnsConfig",
            {{"nameservers", {"1.2.3.4"}},
             {"searches", {"a.example"}},
             {"options", {{{"name", "ndots"}, {"value", "2"}}, {{"name", "edns0"}}}}}}}),
      o, kHostResolv);
  EXPECT_EQ(dns->servers_size(), 1);
  EXPECT_EQ(dns->searches(0), "a.example");
  EXPECT_EQ(dns->options(0), "ndots:2");
  EXPECT_EQ(dns->options(1), "edns0");

  // dnsConfig options replace the policy's of the same name.
  dns = podDnsConfig(pod({{"dnsConfig", {{"options", {{{"name", "ndots"}, {"value", "1"}}}}}}}), o,
                     kHostResolv);
  ASSERT_EQ(dns->options_size(), 1);
  EXPECT_EQ(dns->options(0), "ndots:1");

  auto bad = podDnsConfig(pod({{"dnsPolicy", "Sometimes"}}), o, kHostResolv);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("spec.dnsPolicy"), std::string::npos);
}

TEST(SandboxConfig, HostnameRules) {
  EXPECT_EQ(podHostname(pod({{"hostname", "custom"}}), "node1"), "custom");
  EXPECT_EQ(podHostname(pod({{"hostNetwork", true}}), "node1"), "node1");
  Json longName = pod(Json::object());
  longName["metadata"]["name"] = std::string(62, 'a') + "-b";
  EXPECT_EQ(podHostname(longName, "node1"), std::string(62, 'a'));
}

TEST(ContainerConfig, ResourcesAsTheKubeletComputesThem) {
  Json c = {{"name", "app"},
            {"resources",
             {{"requests", {{"cpu", "250m"}, {"memory", "1Gi"}}},
              {"limits", {{"cpu", "500m"}, {"memory", "2Gi"}}}}}};
  Json p = pod({{"containers", {c}}});
  auto r = containerResources(p, c, 8LL << 30, true, 100000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cpu_shares(), 256);
  EXPECT_EQ(r->cpu_quota(), 50000);
  EXPECT_EQ(r->cpu_period(), 100000);
  EXPECT_EQ(r->memory_limit_in_bytes(), 2LL << 30);
  // Burstable: 1000 - 1000 * 1Gi / 8Gi.
  EXPECT_EQ(r->oom_score_adj(), 875);

  Json guaranteed = {{"name", "g"},
                     {"resources",
                      {{"requests", {{"cpu", "1"}, {"memory", "1Gi"}}},
                       {"limits", {{"cpu", "1"}, {"memory", "1Gi"}}}}}};
  EXPECT_EQ(oomScoreAdjust(pod({{"containers", {guaranteed}}}), guaranteed, 8LL << 30), -997);
  Json none = {{"name", "b"}};
  auto be = containerResources(pod({{"containers", {none}}}), none, 8LL << 30, true, 100000);
  EXPECT_EQ(be->cpu_shares(), 2);
  EXPECT_EQ(be->cpu_quota(), 0);
  EXPECT_EQ(be->oom_score_adj(), 1000);
  // Tiny limits still get the minimum quota.
  Json tiny = {{"name", "t"}, {"resources", {{"limits", {{"cpu", "1m"}}}}}};
  EXPECT_EQ(containerResources(pod({{"containers", {tiny}}}), tiny, 0, true, 100000)->cpu_quota(),
            1000);
  Json bad = {{"name", "x"}, {"resources", {{"limits", {{"memory", "lots"}}}}}};
  auto err = containerResources(pod({{"containers", {bad}}}), bad, 0, true, 100000);
  ASSERT_FALSE(err);
  EXPECT_NE(err.error().message().find("container x: resources.limits.memory"), std::string::npos);
}

TEST(ContainerConfig, CommandEnvLabelsAndSecurity) {
  Json c = {{"name", "app"},
            {"image", "busybox"},
            {"command", {"sh", "-c"}},
            {"args", {"echo $(GREETING) $(MISSING)"}},
            {"workingDir", "/w"},
            {"tty", true},
            {"securityContext",
             {{"capabilities", {{"add", {"NET_ADMIN"}}, {"drop", {"ALL"}}}},
              {"allowPrivilegeEscalation", false},
              {"readOnlyRootFilesystem", true},
              {"runAsGroup", 3000},
              {"seccompProfile", {{"type", "RuntimeDefault"}}}}}};
  Json p = pod({{"containers", {c}},
                {"terminationGracePeriodSeconds", 5},
                {"securityContext", {{"runAsUser", 1000}, {"supplementalGroups", {4000}}}}});
  auto config = makeContainerConfig({.pod = p,
                                     .container = c,
                                     .restartCount = 3,
                                     .imageRef = "busybox@sha256:abc",
                                     .env = {{"GREETING", "hi"}}});
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->metadata().attempt(), 3u);
  EXPECT_EQ(config->image().image(), "busybox@sha256:abc");
  EXPECT_EQ(config->image().user_specified_image(), "busybox");
  EXPECT_EQ(config->args(0), "echo hi $(MISSING)");
  EXPECT_EQ(config->working_dir(), "/w");
  EXPECT_EQ(config->log_path(), "app/3.log");
  EXPECT_TRUE(config->tty());
  EXPECT_EQ(config->labels().at(kContainerNameLabel), "app");
  EXPECT_EQ(config->annotations().at(kRestartCountAnnotation), "3");
  EXPECT_EQ(config->annotations().at(kTerminationGraceAnnotation), "5");
  EXPECT_EQ(config->annotations().at(kTerminationMessagePathAnnotation), "/dev/termination-log");
  const auto& sc = config->linux().security_context();
  EXPECT_EQ(sc.capabilities().add_capabilities(0), "NET_ADMIN");
  EXPECT_EQ(sc.capabilities().drop_capabilities(0), "ALL");
  EXPECT_TRUE(sc.no_new_privs());
  EXPECT_TRUE(sc.readonly_rootfs());
  EXPECT_EQ(sc.run_as_user().value(), 1000);  // from the pod
  EXPECT_EQ(sc.run_as_group().value(), 3000);
  EXPECT_EQ(sc.supplemental_groups(0), 4000);
  EXPECT_EQ(sc.seccomp().profile_type(), cri::SecurityProfile::RuntimeDefault);
  EXPECT_EQ(sc.masked_paths_size(), 11);
  EXPECT_EQ(sc.readonly_paths_size(), 5);

  // Privileged and procMount Unmasked mask nothing.
  c["securityContext"] = {{"privileged", true}};
  config = makeContainerConfig({.pod = p, .container = c});
  EXPECT_EQ(config->linux().security_context().masked_paths_size(), 0);
  EXPECT_TRUE(config->linux().security_context().privileged());

  // runAsNonRoot with uid 0 is refused, naming the container.
  c["securityContext"] = {{"runAsNonRoot", true}, {"runAsUser", 0}};
  auto refused = makeContainerConfig({.pod = p, .container = c});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(),
            "container app: container's runAsUser breaks non-root policy");
}

}  // namespace container_config_test
}  // namespace berth::kubelet
