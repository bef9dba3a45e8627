#include "cni-plugins/host_local/config.h"

#include <gtest/gtest.h>

namespace berth::cni::hostlocal {
namespace {

NetConf conf(std::string_view json) {
  auto c = parseNetConf(json);
  EXPECT_TRUE(c) << c.error().msg;
  return *c;
}

TEST(HostLocalConfig, LegacyRangeGetsDefaults) {
  auto c = parseIpamConfig(conf(R"({"cniVersion": "1.0.0", "name": "n", "type": "bridge",
      "ipam": {"type": "host-local", "subnet": "10.1.2.3/24"}})"),
                           "");
  ASSERT_TRUE(c) << c.error().msg;
  ASSERT_EQ(c->ranges.size(), 1u);
  const auto& r = c->ranges[0][0];
  EXPECT_EQ(r.subnet.str(), "10.1.2.0/24");
  EXPECT_EQ(r.rangeStart.str(), "10.1.2.1");
  EXPECT_EQ(r.rangeEnd.str(), "10.1.2.254");
  EXPECT_EQ(r.gateway.str(), "10.1.2.1");
  EXPECT_EQ(c->dataDir, "/var/lib/cni/networks");
}

TEST(HostLocalConfig, DualStackRangesRoutesAndRequests) {
  auto c = parseIpamConfig(conf(R"({"cniVersion": "1.1.0", "name": "n", "type": "bridge",
      "args": {"cni": {"ips": ["10.1.0.7"]}},
      "runtimeConfig": {"ips": ["fd00::9/64"]},
      "ipam": {"type": "host-local", "dataDir": "/tmp/x",
        "ranges": [[{"subnet": "10.1.0.0/24", "rangeStart": "10.1.0.5", "rangeEnd": "10.1.0.9",
                     "gateway": "10.1.0.254"},
                    {"subnet": "10.1.1.0/24"}],
                   [{"subnet": "fd00::/64"}]],
        "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0", "gw": "fd00::1"}]}})"),
                           "IgnoreUnknown=1;IP=10.1.1.9");
  ASSERT_TRUE(c) << c.error().msg;
  ASSERT_EQ(c->ranges.size(), 2u);
  EXPECT_EQ(c->ranges[0].size(), 2u);
  EXPECT_EQ(c->ranges[0][0].gateway.str(), "10.1.0.254");
  EXPECT_EQ(c->ranges[1][0].rangeEnd.str(), "fd00::ffff:ffff:ffff:ffff");
  ASSERT_EQ(c->requestedIps.size(), 3u);
  EXPECT_EQ(c->requestedIps[0].str(), "10.1.1.9");
  EXPECT_EQ(c->requestedIps[2].str(), "fd00::9");
  EXPECT_EQ(c->routes[1].gw->str(), "fd00::1");
  EXPECT_EQ(c->dataDir, "/tmp/x");
}

TEST(HostLocalConfig, IpRangesCapabilityComesFirst) {
  auto c = parseIpamConfig(conf(R"({"cniVersion": "1.0.0", "name": "n", "type": "bridge",
      "runtimeConfig": {"ipRanges": [[{"subnet": "10.7.0.0/24"}]]},
      "ipam": {"type": "host-local", "subnet": "10.8.0.0/24"}})"),
                           "");
  ASSERT_TRUE(c) << c.error().msg;
  ASSERT_EQ(c->ranges.size(), 2u);
  EXPECT_EQ(c->ranges[0][0].subnet.str(), "10.7.0.0/24");
  EXPECT_EQ(c->ranges[1][0].subnet.str(), "10.8.0.0/24");
  auto bad = parseIpamConfig(conf(R"({"name": "n", "type": "b",
      "runtimeConfig": {"ipRanges": [[{"subnet": "nope"}]]}, "ipam": {}})"),
                             "");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().msg.find("runtimeConfig.ipRanges[0][0].subnet"), std::string::npos);
}

// Keys in any case, as the reference host-local reads them (Go's encoding/json): containerd's
// ipRanges (go-cni's IPRanges struct has no JSON tags and sends "" for what is unset) and an
// ipam section spelled otherwise.
TEST(HostLocalConfig, ReadsKeysInAnyCaseAsGoDoes) {
  auto c = parseIpamConfig(conf(R"({"cniVersion": "1.0.0", "Name": "n", "type": "bridge",
      "RuntimeConfig": {"ipRanges": [[{"Subnet": "10.7.0.0/24", "RangeStart": "", "RangeEnd": "",
                                        "Gateway": ""}]]},
      "Args": {"CNI": {"IPs": ["10.8.0.7"]}},
      "IPAM": {"Type": "host-local", "DataDir": "/tmp/x", "ResolvConf": "/etc/r",
        "Ranges": [[{"Subnet": "10.8.0.0/24", "RangeStart": "10.8.0.5", "Gateway": "10.8.0.254"}]],
        "Routes": [{"Dst": "0.0.0.0/0", "GW": "10.8.0.254"}]}})"),
                           "");
  ASSERT_TRUE(c) << c.error().msg;
  EXPECT_EQ(c->name, "n");
  ASSERT_EQ(c->ranges.size(), 2u);
  EXPECT_EQ(c->ranges[0][0].subnet.str(), "10.7.0.0/24");
  EXPECT_EQ(c->ranges[0][0].rangeStart.str(), "10.7.0.1");
  EXPECT_EQ(c->ranges[0][0].gateway.str(), "10.7.0.1");
  EXPECT_EQ(c->ranges[1][0].rangeStart.str(), "10.8.0.5");
  EXPECT_EQ(c->ranges[1][0].gateway.str(), "10.8.0.254");
  ASSERT_EQ(c->requestedIps.size(), 1u);
  EXPECT_EQ(c->requestedIps[0].str(), "10.8.0.7");
  ASSERT_EQ(c->routes.size(), 1u);
  EXPECT_EQ(c->routes[0].gw->str(), "10.8.0.254");
  EXPECT_EQ(c->dataDir, "/tmp/x");
  EXPECT_EQ(c->resolvConf, "/etc/r");
  // The legacy single range too.
  auto legacy = parseIpamConfig(
      conf(
          R"({"name": "n", "type": "b", "ipam": {"SUBNET": "10.9.0.0/24", "RangeEnd": "10.9.0.9"}})"),
      "");
  ASSERT_TRUE(legacy) << legacy.error().msg;
  EXPECT_EQ(legacy->ranges[0][0].rangeEnd.str(), "10.9.0.9");
}

TEST(HostLocalConfig, ErrorsNameTheField) {
  struct Case {
    const char* ipam;
    const char* field;
  };
  for (const auto& c : std::initializer_list<Case>{
           {R"({"type": "host-local"})", "ipam: no IP ranges"},
           {R"({"subnet": "10.0.0.0"})", "ipam.subnet: invalid CIDR"},
           {R"({"subnet": "10.0.0.0/31"})", "ipam.subnet: network 10.0.0.0/31 too small"},
           {R"({"subnet": "10.0.0.0/24", "rangeStart": "10.0.1.1"})", "ipam.rangeStart"},
           {R"({"subnet": "10.0.0.0/24", "rangeEnd": "10.0.0.255"})", "ipam.rangeEnd"},
           {R"({"subnet": "10.0.0.0/24", "rangeStart": "10.0.0.9", "rangeEnd": "10.0.0.8"})",
            "ipam.rangeEnd: 10.0.0.8 is before rangeStart"},
           {R"({"subnet": "10.0.0.0/24", "gateway": "10.9.0.1"})", "ipam.gateway"},
           {R"({"subnet": "10.0.0.0/24", "gateway": "nope"})", "ipam.gateway: invalid IP"},
           {R"({"ranges": [[]]})", "ipam.ranges[0]: must be a non-empty array"},
           {R"({"ranges": [[{"subnet": "10.0.0.0/24"}, {"subnet": "fd00::/64"}]]})",
            "ipam.ranges[0][1]: mixed address families"},
           {R"({"ranges": [[{"subnet": "10.0.0.0/24"}], [{"subnet": "10.0.0.0/16"}]]})",
            "range set 0 overlaps with 1"},
           {R"({"ranges": [[{"rangeStart": "10.0.0.1"}]]})", "ipam.ranges[0][0].subnet: required"},
           {R"({"subnet": "10.0.0.0/24", "routes": [{"dst": "x"}]})", "ipam.routes[0].dst"},
           {R"({"subnet": "10.0.0.0/24", "dataDir": 5})", "ipam.dataDir: must be a string"},
       }) {
    auto r = parseIpamConfig(
        conf(fmt::format(R"({{"cniVersion": "1.0.0", "name": "n", "type": "b", "ipam": {}}})",
                         c.ipam)),
        "");
    ASSERT_FALSE(r) << c.ipam;
    EXPECT_EQ(r.error().code, kInvalidNetworkConfig) << c.ipam;
    EXPECT_NE(r.error().msg.find(c.field), std::string::npos) << r.error().msg;
  }
  auto noIpam = parseIpamConfig(conf(R"({"cniVersion": "1.0.0", "name": "n", "type": "b"})"), "");
  ASSERT_FALSE(noIpam);
  EXPECT_EQ(noIpam.error().msg, "ipam: required (an object)");
  auto unknown = parseIpamConfig(
      conf(R"({"name": "n", "type": "b", "ipam": {"subnet": "10.0.0.0/24"}})"), "K8S_POD_NAME=x");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().msg, "CNI_ARGS: unknown args [\"K8S_POD_NAME\"]");
  EXPECT_TRUE(
      parseIpamConfig(conf(R"({"name": "n", "type": "b", "ipam": {"subnet": "10.0.0.0/24"}})"),
                      "IgnoreUnknown=true;K8S_POD_NAME=x"));
  auto badArg = parseIpamConfig(
      conf(R"({"name": "n", "type": "b", "ipam": {"subnet": "10.0.0.0/24"}})"), "IP=zz");
  ASSERT_FALSE(badArg);
  EXPECT_EQ(badArg.error().code, kInvalidEnvironment);
  // 0.2.0 results can hold one address per family.
  auto old = parseIpamConfig(conf(R"({"cniVersion": "0.2.0", "name": "n", "type": "b", "ipam":
      {"ranges": [[{"subnet": "10.0.0.0/24"}], [{"subnet": "10.1.0.0/24"}]]}})"),
                             "");
  ASSERT_FALSE(old);
}

}  // namespace
}  // namespace berth::cni::hostlocal
