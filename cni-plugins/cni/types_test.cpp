#include "cni-plugins/cni/types.h"

#include <gtest/gtest.h>

namespace berth::cni {
namespace {

PluginResult sampleResult() {
  auto j = Json::parse(R"({
    "cniVersion": "1.1.0",
    "interfaces": [{"name": "cni0", "mac": "aa:bb:cc:dd:ee:ff", "mtu": 1400},
                   {"name": "eth0", "mac": "11:22:33:44:55:66", "sandbox": "/run/netns/a",
                    "socketPath": "/s", "pciID": "0000:00:01.0"}],
    "ips": [{"address": "10.1.0.5/16", "gateway": "10.1.0.1", "interface": 1},
            {"address": "fd00::5/64", "gateway": "fd00::1", "interface": 1}],
    "routes": [{"dst": "0.0.0.0/0", "gw": "10.1.0.1", "mtu": 1300, "priority": 5},
               {"dst": "::/0"}],
    "dns": {"nameservers": ["10.1.0.1"], "search": ["svc"]}
  })");
  auto r = parseResult(j);
  EXPECT_TRUE(r) << r.error().msg;
  return *r;
}

TEST(Result, RoundTripsIn11) {
  auto r = sampleResult();
  ASSERT_EQ(r.interfaces.size(), 2u);
  EXPECT_EQ(r.interfaces[0].mtu, 1400);
  EXPECT_EQ(r.ips[1].address.str(), "fd00::5/64");
  EXPECT_EQ(r.routes[0].priority, 5);
  auto j = resultToJson(r, "1.1.0");
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["interfaces"][0]["mtu"], 1400);
  EXPECT_EQ((*j)["interfaces"][1]["socketPath"], "/s");
  EXPECT_EQ((*j)["routes"][0]["mtu"], 1300);
  EXPECT_FALSE((*j)["ips"][0].contains("version"));
  auto back = parseResult(Json::parse(j->dump()));
  ASSERT_TRUE(back);
  EXPECT_EQ(resultToJson(*back, "1.1.0")->dump(), j->dump());
}

TEST(Result, ConvertsDownToEachVersion) {
  auto r = sampleResult();
  // 1.0.0: no 1.1 fields.
  auto v1 = *resultToJson(r, "1.0.0");
  EXPECT_EQ(v1["cniVersion"], "1.0.0");
  EXPECT_FALSE(v1["interfaces"][0].contains("mtu"));
  EXPECT_FALSE(v1["interfaces"][1].contains("socketPath"));
  EXPECT_FALSE(v1["routes"][0].contains("priority"));
  EXPECT_FALSE(v1["ips"][0].contains("version"));
  // 0.3.x/0.4.0: ips carry "version".
  for (const char* v : {"0.3.0", "0.3.1", "0.4.0"}) {
    auto j = *resultToJson(r, v);
    EXPECT_EQ(j["cniVersion"], v);
    EXPECT_EQ(j["ips"][0]["version"], "4");
    EXPECT_EQ(j["ips"][1]["version"], "6");
    EXPECT_EQ(j["ips"][0]["interface"], 1);
    EXPECT_EQ(j["dns"]["nameservers"][0], "10.1.0.1");
  }
  // 0.2.0: ip4/ip6 with their routes.
  auto old = *resultToJson(r, "0.2.0");
  EXPECT_EQ(old["ip4"]["ip"], "10.1.0.5/16");
  EXPECT_EQ(old["ip4"]["gateway"], "10.1.0.1");
  EXPECT_EQ(old["ip4"]["routes"][0]["dst"], "0.0.0.0/0");
  EXPECT_EQ(old["ip6"]["routes"][0]["dst"], "::/0");
  EXPECT_FALSE(old.contains("interfaces"));
  // And back up from 0.2.0.
  auto up = parseResult(Json::parse(old.dump()));
  ASSERT_TRUE(up);
  EXPECT_EQ(up->ips.size(), 2u);
  EXPECT_EQ(up->routes.size(), 2u);
}

TEST(Result, ConversionErrors) {
  auto r = sampleResult();
  r.ips.push_back(r.ips[0]);
  auto j = resultToJson(r, "0.2.0");
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().code, kIncompatibleVersion);
  auto bad = resultToJson(r, "2.0.0");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, kIncompatibleVersion);
}

TEST(Result, ParseErrorsNameTheField) {
  struct Case {
    const char* json;
    const char* field;
  };
  for (const auto& c : std::initializer_list<Case>{
           {R"({"ips": [{"address": "10.0.0.1"}]})", "result.ips[0].address"},
           {R"({"ips": [{"address": "10.0.0.1/8", "gateway": "x"}]})", "result.ips[0].gateway"},
           {R"({"routes": [{"gw": "10.0.0.1"}]})", "result.routes[0].dst"},
           {R"({"interfaces": [{"mac": "x"}]})", "result.interfaces[0].name"},
           {R"({"ip4": {"ip": "bad"}})", "result.ip4.ip"},
       }) {
    auto r = parseResult(Json::parse(c.json));
    ASSERT_FALSE(r) << c.json;
    EXPECT_EQ(r.error().code, kDecodeFailure);
    EXPECT_NE(r.error().msg.find(c.field), std::string::npos) << r.error().msg;
  }
}

TEST(NetConf, ParsesConfigWithRuntimeConfigAndPrevResult) {
  auto c = parseNetConf(R"({
    "cniVersion": "1.0.0", "name": "net1", "type": "bridge",
    "ipam": {"type": "host-local"},
    "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "UDP",
                                        "hostIP": "127.0.0.1"}],
                      "ips": ["10.1.0.9/16", "fd00::9"], "mac": "aa:bb:cc:dd:ee:ff"},
    "prevResult": {"cniVersion": "1.0.0", "ips": [{"address": "10.1.0.5/16"}]}
  })");
  ASSERT_TRUE(c) << c.error().msg;
  EXPECT_EQ(c->name, "net1");
  EXPECT_EQ(c->ipamType, "host-local");
  ASSERT_EQ(c->runtimeConfig.portMappings.size(), 1u);
  EXPECT_EQ(c->runtimeConfig.portMappings[0].protocol, "udp");
  EXPECT_EQ(c->runtimeConfig.ips[1].str(), "fd00::9/128");
  EXPECT_EQ(c->runtimeConfig.mac, "aa:bb:cc:dd:ee:ff");
  ASSERT_TRUE(c->prevResult);
  EXPECT_EQ(c->prevResult->ips[0].address.str(), "10.1.0.5/16");
}

// Keys in any case, as the reference plugins read them (Go's encoding/json): what containerd's
// CRI sends portmap (its PortMapping struct has no JSON tags), and every other part in other
// spellings. An exact spelling wins over another; null is absent; map keys stay exact.
TEST(NetConf, ReadsKeysInAnyCaseAsGoDoes) {
  auto containerd = parseNetConf(R"({
    "cniVersion": "1.0.0", "name": "containerd-net", "type": "portmap",
    "capabilities": {"portMappings": true},
    "runtimeConfig": {"portMappings": [
      {"HostPort": 18080, "ContainerPort": 80, "Protocol": "tcp", "HostIP": "127.0.0.1"},
      {"HostPort": 18443, "ContainerPort": 443, "Protocol": "udp", "HostIP": ""}]},
    "prevResult": {"cniVersion": "1.0.0",
      "interfaces": [{"name": "cni0", "mac": "aa:bb:cc:dd:ee:ff"},
                     {"name": "eth0", "sandbox": "/var/run/netns/cni-1"}],
      "ips": [{"interface": 1, "address": "10.88.0.5/16", "gateway": "10.88.0.1"}],
      "routes": [{"dst": "0.0.0.0/0"}], "dns": {}}
  })");
  ASSERT_TRUE(containerd) << containerd.error().msg;
  const auto& pm = containerd->runtimeConfig.portMappings;
  ASSERT_EQ(pm.size(), 2u);
  EXPECT_EQ(pm[0].hostPort, 18080);
  EXPECT_EQ(pm[0].containerPort, 80);
  EXPECT_EQ(pm[0].protocol, "tcp");
  EXPECT_EQ(pm[0].hostIP, "127.0.0.1");
  EXPECT_EQ(pm[1].protocol, "udp");
  EXPECT_EQ(pm[1].hostIP, "");

  auto shouting = parseNetConf(R"({
    "CNIVersion": "1.1.0", "NAME": "n", "Type": "bridge", "IPAM": {"Type": "host-local"},
    "DNS": {"Nameservers": ["10.0.0.10"]},
    "RuntimeConfig": {"PortMappings": [{"hostport": 8080, "CONTAINERPORT": 80}],
                      "IPs": ["10.1.0.9/16"], "Mac": "aa:bb:cc:dd:ee:ff"},
    "PrevResult": {"CniVersion": "1.1.0",
                   "Interfaces": [{"Name": "eth0", "Sandbox": "/run/netns/x", "MTU": 1400}],
                   "IPs": [{"Address": "10.1.0.5/16", "Gateway": "", "Interface": 0}],
                   "Routes": [{"Dst": "0.0.0.0/0", "GW": "10.1.0.1"}]},
    "CNI.dev/Valid-Attachments": [{"ContainerID": "c1", "IfName": "eth0"}]
  })");
  ASSERT_TRUE(shouting) << shouting.error().msg;
  EXPECT_EQ(shouting->cniVersion, "1.1.0");
  EXPECT_EQ(shouting->name, "n");
  EXPECT_EQ(shouting->type, "bridge");
  EXPECT_EQ(shouting->ipamType, "host-local");
  EXPECT_EQ(shouting->dns.nameservers, std::vector<std::string>{"10.0.0.10"});
  ASSERT_EQ(shouting->runtimeConfig.portMappings.size(), 1u);
  EXPECT_EQ(shouting->runtimeConfig.portMappings[0].containerPort, 80);
  EXPECT_EQ(shouting->runtimeConfig.ips[0].str(), "10.1.0.9/16");
  EXPECT_EQ(shouting->runtimeConfig.mac, "aa:bb:cc:dd:ee:ff");
  ASSERT_TRUE(shouting->prevResult);
  EXPECT_EQ(shouting->prevResult->interfaces[0].sandbox, "/run/netns/x");
  EXPECT_EQ(shouting->prevResult->interfaces[0].mtu, 1400);
  EXPECT_EQ(shouting->prevResult->ips[0].address.str(), "10.1.0.5/16");
  EXPECT_FALSE(shouting->prevResult->ips[0].gateway);  // "" is no address, as Go's net.IP
  EXPECT_EQ(shouting->prevResult->routes[0].gw->str(), "10.1.0.1");
  ASSERT_EQ(shouting->validAttachments.size(), 1u);
  EXPECT_EQ(shouting->validAttachments[0].ifname, "eth0");

  // The exact spelling wins; a key that is not the name in another case is not it.
  auto both = parseNetConf(R"({"type": "b", "runtimeConfig": {"portMappings": [
      {"HostPort": 1, "hostPort": 2, "containerPort": 80}]}})");
  ASSERT_TRUE(both) << both.error().msg;
  EXPECT_EQ(both->runtimeConfig.portMappings[0].hostPort, 2);
  auto other = parseNetConf(R"({"type": "b", "runtimeConfig": {"portMappings": [
      {"host_port": 1, "containerPort": 80}]}})");
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().msg.find("runtimeConfig.portMappings[0].hostPort: required"),
            std::string::npos)
      << other.error().msg;
}

TEST(NetConf, ErrorsNameTheField) {
  struct Case {
    const char* json;
    int code;
    const char* field;
  };
  for (const auto& c : std::initializer_list<Case>{
           {R"({"name": "n"})", kInvalidNetworkConfig, "type: required"},
           {R"({"type": 5})", kInvalidNetworkConfig, "type: must be a string"},
           {"{not json", kDecodeFailure, "invalid JSON"},
           {R"({"type": "b", "runtimeConfig": {"portMappings": [{"hostPort": 0,
               "containerPort": 80}]}})",
            kInvalidNetworkConfig, "runtimeConfig.portMappings[0].hostPort"},
           {R"({"type": "b", "runtimeConfig": {"portMappings": [{"hostPort": 1,
               "containerPort": 80, "protocol": "icmp"}]}})",
            kInvalidNetworkConfig, "runtimeConfig.portMappings[0].protocol"},
           {R"({"type": "b", "runtimeConfig": {"ips": ["nope"]}})", kInvalidNetworkConfig,
            "runtimeConfig.ips[0]"},
           {R"({"type": "b", "prevResult": {"ips": [{"address": "1"}]}})", kDecodeFailure,
            "prevResult: result.ips[0].address"},
           {R"({"type": "b", "cni.dev/valid-attachments": [{"ifname": "eth0"}]})",
            kInvalidNetworkConfig, "cni.dev/valid-attachments[0].containerID"},
       }) {
    auto r = parseNetConf(c.json);
    ASSERT_FALSE(r) << c.json;
    EXPECT_EQ(r.error().code, c.code) << c.json;
    EXPECT_NE(r.error().msg.find(c.field), std::string::npos) << r.error().msg;
  }
}

TEST(NetConf, ForDelPartsThatDoNotParseAreLeftOutAndNoted) {
  constexpr std::string_view bad = R"({"cniVersion": 1, "name": "n", "type": 5,
      "ipam": "host-local", "dns": [], "runtimeConfig": {"portMappings": [{"hostPort": 0}],
      "mac": "aa:bb:cc:dd:ee:ff"}, "prevResult": {"ips": [{"address": "10.1.0.5"}]},
      "cni.dev/valid-attachments": 7})";
  ASSERT_FALSE(parseNetConf(bad));
  auto c = parseNetConf(bad, ParseMode::kDel);
  ASSERT_TRUE(c) << c.error().msg;
  EXPECT_EQ(c->name, "n");
  EXPECT_EQ(c->cniVersion, "");
  EXPECT_EQ(c->type, "");
  EXPECT_EQ(c->ipamType, "");
  EXPECT_EQ(c->runtimeConfig.mac, "");  // the runtimeConfig is left out as a whole
  EXPECT_FALSE(c->prevResult);
  EXPECT_EQ(c->ignored.size(), 7u);
  EXPECT_FALSE(parseNetConf("[1]", ParseMode::kDel));
}

TEST(CniArgs, Parses) {
  auto a = parseCniArgs("IgnoreUnknown=1;K8S_POD_NAME=web;IP=10.0.0.5;");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->at("K8S_POD_NAME"), "web");
  EXPECT_EQ(a->at("IP"), "10.0.0.5");
  EXPECT_TRUE(parseCniArgs("")->empty());
  auto bad = parseCniArgs("a=1;oops");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, kInvalidEnvironment);
  EXPECT_NE(bad.error().msg.find("CNI_ARGS"), std::string::npos);
}

TEST(Names, ValidateContainerIdAndIfname) {
  EXPECT_TRUE(validateContainerId("abc-1.2_3"));
  EXPECT_FALSE(validateContainerId("-abc"));
  EXPECT_FALSE(validateContainerId("a/b"));
  EXPECT_TRUE(validateInterfaceName("eth0"));
  EXPECT_FALSE(validateInterfaceName("0123456789abcdef"));
  EXPECT_FALSE(validateInterfaceName("a:b"));
  EXPECT_FALSE(validateInterfaceName(".."));
}

TEST(Versions, Compare) {
  EXPECT_LT(compareVersions("0.3.1", "0.4.0"), 0);
  EXPECT_GT(compareVersions("1.1.0", "1.0.0"), 0);
  EXPECT_EQ(compareVersions("1.0.0", "1.0.0"), 0);
  EXPECT_LT(compareVersions("0.10.0", "1.0.0"), 0);
  EXPECT_GT(compareVersions("0.10.0", "0.4.0"), 0);
}

}  // namespace
}  // namespace berth::cni
