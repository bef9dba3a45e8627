#include "dns/unbound_config.h"

#include <gtest/gtest.h>

namespace berth::dns {
namespace {

TEST(UpstreamsTest, NameserversInOrderWithoutSelf) {
  const char* conf =
      "# comment\nsearch example.com\nnameserver 10.43.0.10\nnameserver 192.0.2.1\n"
      "nameserver   fe80::1%eth0\nnameserver bogus\noptions ndots:5\n";
  EXPECT_EQ(upstreamsOf(conf, {"10.43.0.10"}),
            (std::vector<std::string>{"192.0.2.1", "fe80::1%eth0"}));
  EXPECT_EQ(upstreamsOf(conf, {}).front(), "10.43.0.10");
  EXPECT_EQ(upstreamsOf(conf, {"10.43.0.10", "192.0.2.1"}),
            (std::vector<std::string>{"fe80::1%eth0"}));
}

TEST(UnboundConfigTest, RecordsZoneAndForwarders) {
  UnboundSettings s{.domain = "cluster.local",
                    .listenAddress = "127.0.0.1",
                    .port = 1053,
                    .stateDir = "/run/dns",
                    .controlSocket = "/run/dns/control.sock"};
  RecordSet records = {{"web.ns.svc.cluster.local.", "A", "10.43.0.5"},
                       {"ext.ns.svc.cluster.local.", "CNAME", "example.com."}};
  std::string conf = renderUnboundConfig(s, records, {"192.0.2.1", "192.0.2.2"});
  for (const char* want : {
           "interface: 127.0.0.1@1053\n",
           "local-zone: \"cluster.local.\" static\n",
           "local-data: 'web.ns.svc.cluster.local. 5 IN A 10.43.0.5'\n",
           "local-zone: \"ext.ns.svc.cluster.local.\" redirect\n",
           "local-data: 'ext.ns.svc.cluster.local. 5 IN CNAME example.com.'\n",
           "control-interface: \"/run/dns/control.sock\"\n",
           "forward-zone:\n  name: \".\"\n  forward-addr: 192.0.2.1\n  forward-addr: 192.0.2.2\n",
       }) {
    EXPECT_NE(conf.find(want), std::string::npos) << want << " missing from\n" << conf;
  }
  EXPECT_EQ(conf.find("refuse"), std::string::npos);
  EXPECT_NE(conf.find("access-control: 0.0.0.0/0 allow\n  access-control: ::/0 allow\n"),
            std::string::npos);
}

TEST(UnboundConfigTest, AllowFromLimitsClients) {
  UnboundSettings s;
  s.allowFrom = {"10.42.0.0/16", "10.43.0.0/16"};
  std::string conf = renderUnboundConfig(s, {}, {"192.0.2.1"});
  EXPECT_NE(conf.find("access-control: 10.42.0.0/16 allow\n  access-control: 10.43.0.0/16 allow\n"),
            std::string::npos);
  EXPECT_EQ(conf.find("0.0.0.0/0"), std::string::npos);
}

TEST(UnboundConfigTest, RecordsThatWouldBreakTheSyntaxAreDropped) {
  RecordSet records = {{"ext.ns.svc.cluster.local.", "CNAME", "x.'\n  forward-zone:"},
                       {"a\\b.ns.svc.cluster.local.", "A", "10.43.0.5"},
                       {"ok.ns.svc.cluster.local.", "A", "10.43.0.6"}};
  std::string conf = renderUnboundConfig({}, records, {"192.0.2.1"});
  EXPECT_EQ(conf.find("ext.ns"), std::string::npos) << conf;
  EXPECT_EQ(conf.find("a\\b"), std::string::npos) << conf;
  EXPECT_NE(conf.find("ok.ns.svc.cluster.local. 5 IN A 10.43.0.6"), std::string::npos);
}

TEST(UnboundConfigTest, NoUpstreamsRefusesOutsideNames) {
  std::string conf = renderUnboundConfig({}, {}, {});
  EXPECT_NE(conf.find("local-zone: \".\" refuse\n"), std::string::npos);
  EXPECT_EQ(conf.find("forward-zone"), std::string::npos);
}

}  // namespace
}  // namespace berth::dns
