#include "proxy/ruleset.h"

#include <regex>

#include <gtest/gtest.h>

namespace berth::proxy {
namespace {

using nlohmann::json;
using Lines = std::vector<std::string>;

// What the Services put in a table: the elements of the shared maps ("map: element") and every
// per-Service chain and set with its rules or elements, in name order. Chain-name hashes are
// left out ("service-ns1/svc1/tcp/p80"); NameHashes checks them against kube-proxy's.
Lines servicePart(const nft::Table& t) {
  static const std::regex kHash("(service|local|external|firewall|endpoint|affinity)-[A-Z2-7]{8}-");
  auto unhash = [](const std::string& s) { return std::regex_replace(s, kHash, "$1-"); };
  // Blocks sorted by their name without the hash: sets and maps first, then chains.
  std::map<std::string, Lines> sets, chains;
  for (const auto& [name, set] : t.sets) {
    bool perService = name.find('/') != std::string::npos;
    Lines& block = sets[unhash(name)];
    if (perService)
      block.push_back(unhash(
          fmt::format("{} {}{}", set.data ? "map" : "set", name,
                      set.timeoutMs ? fmt::format(" timeout {}s", *set.timeoutMs / 1000) : "")));
    for (const auto& [k, e] : set.elements) {
      if (perService) {
        block.push_back(unhash("  " + nft::describe(e)));
      } else if (name != "nodeport-ips") {
        block.push_back(unhash(name + ": " + nft::describe(e)));
      }
    }
  }
  for (const auto& [name, chain] : t.chains) {
    if (name.find('/') == std::string::npos) continue;
    Lines& block = chains[unhash(name)];
    block.push_back(unhash("chain " + name));
    for (const nft::Rule& r : chain.rules)
      block.push_back(unhash("  " + nft::describe(r, t.family)));
  }
  Lines out;
  for (auto* blocks : {&sets, &chains}) {
    for (const auto& [name, block] : *blocks)
      out.insert(out.end(), block.begin(), block.end());
  }
  return out;
}

// The ruleset of `services` and `slices` (JSON) on node "me" in zone z1.
std::vector<nft::Table> compute(const json& services, const json& slices, ProxyConfig config = {}) {
  std::vector<ServicePort> ports;
  for (const json& s : services) {
    auto p = servicePortsOf(s);
    EXPECT_TRUE(p) << p.error().message();
    if (p) ports.insert(ports.end(), p->begin(), p->end());
  }
  EndpointsMap endpoints;
  for (const json& s : slices)
    EXPECT_TRUE(addEndpointSlice(s, endpoints));
  return computeRuleset(ports, endpoints, NodeInfo{"me", "z1"}, config);
}

json service(const std::string& spec) {
  return json::parse(R"({"metadata": {"namespace": "ns1", "name": "svc1"}, "spec": )" + spec + "}");
}

// endpoints: "addr" ready on node me; "addr@" on another node; "addr~" terminating.
json slice(const std::vector<std::string>& endpoints, const std::string& type = "IPv4") {
  json eps = json::array();
  for (std::string e : endpoints) {
    json o;
    o["nodeName"] = "me";
    if (e.back() == '@') o["nodeName"] = "other", e.pop_back();
    if (e.back() == '~') {
      e.pop_back();
      o["conditions"] = {{"ready", false}, {"serving", true}, {"terminating", true}};
    }
    o["addresses"] = {e};
    eps.push_back(o);
  }
  return {{"metadata",
           {{"namespace", "ns1"},
            {"name", "svc1-x"},
            {"labels", {{"kubernetes.io/service-name", "svc1"}}}}},
          {"addressType", type},
          {"ports", {{{"name", "p80"}, {"port", 8080}}}},
          {"endpoints", eps}};
}

TEST(ComputeRuleset, NameHashesAreKubeProxys) {
  // The examples in kube-proxy's proxier.go.
  ServicePortName n{"ns1", "svc1", "p80", Protocol::kTcp};
  EXPECT_EQ(servicePortChainBase(n), "ULMVA6XW-ns1/svc1/tcp/p80");
  Endpoint e;
  e.ip = *IpAddr::parse("10.180.0.1");
  e.port = 80;
  EXPECT_EQ(endpointChainBase(n, e), "5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80");
}

struct Case {
  const char* name;
  std::string spec;
  std::vector<std::string> endpoints;
  Lines ip;   // servicePart of the ip table
  Lines ip6;  // of the ip6 table
};

const char* kClusterIp = R"({"clusterIP": "10.96.0.1", "ports": [{"name": "p80", "port": 80}]})";

TEST(ComputeRuleset, ServicesToTables) {
  Case cases[] = {
      {"ClusterIP with two endpoints: numgen over a map named as the chain, DNAT per endpoint",
       kClusterIp,
       {"10.1.0.2@", "10.1.0.1"},
       {
           "service-ips: 10.96.0.1 . tcp . 80 : goto service-ns1/svc1/tcp/p80",
           "map service-ns1/svc1/tcp/p80",
           "  0 : goto endpoint-ns1/svc1/tcp/p80__10.1.0.1/8080",
           "  1 : goto endpoint-ns1/svc1/tcp/p80__10.1.0.2/8080",
           "chain endpoint-ns1/svc1/tcp/p80__10.1.0.1/8080",
           "  ip saddr 10.1.0.1 jump mark-for-masquerade",
           "  meta l4proto tcp dnat ip to 10.1.0.1:8080",
           "chain endpoint-ns1/svc1/tcp/p80__10.1.0.2/8080",
           "  ip saddr 10.1.0.2 jump mark-for-masquerade",
           "  meta l4proto tcp dnat ip to 10.1.0.2:8080",
           "chain service-ns1/svc1/tcp/p80",
           "  ip daddr 10.96.0.1 meta l4proto tcp th dport 80 ip saddr != 10.1.0.0/16 jump "
           "mark-for-masquerade",
           "  numgen random mod 2 vmap @service-ns1/svc1/tcp/p80",
       },
       {}},
      {"no endpoints: rejected",
       kClusterIp,
       {},
       {"no-endpoint-services: 10.96.0.1 . tcp . 80 : goto reject-chain comment \"ns1/svc1:p80\""},
       {}},
      {"only terminating endpoints: they still serve",
       kClusterIp,
       {"10.1.0.1~"},
       {
           "service-ips: 10.96.0.1 . tcp . 80 : goto service-ns1/svc1/tcp/p80",
           "map service-ns1/svc1/tcp/p80",
           "  0 : goto endpoint-ns1/svc1/tcp/p80__10.1.0.1/8080",
           "chain endpoint-ns1/svc1/tcp/p80__10.1.0.1/8080",
           "  ip saddr 10.1.0.1 jump mark-for-masquerade",
           "  meta l4proto tcp dnat ip to 10.1.0.1:8080",
           "chain service-ns1/svc1/tcp/p80",
           "  ip daddr 10.96.0.1 meta l4proto tcp th dport 80 ip saddr != 10.1.0.0/16 jump "
           "mark-for-masquerade",
           "  numgen random mod 1 vmap @service-ns1/svc1/tcp/p80",
       },
       {}},
      {"internalTrafficPolicy Local without a local endpoint: dropped",
       R"({"clusterIP": "10.96.0.1", "internalTrafficPolicy": "Local",
           "ports": [{"name": "p80", "port": 80}]})",
       {"10.1.0.2@"},
       {"no-endpoint-services: 10.96.0.1 . tcp . 80 : drop comment \"ns1/svc1:p80\""},
       {}},
      {"NodePort and externalIP with externalTrafficPolicy Local",
       R"({"type": "LoadBalancer", "clusterIP": "10.96.0.1", "externalIPs": ["192.0.2.7"],
           "externalTrafficPolicy": "Local",
           "ports": [{"name": "p80", "port": 80, "nodePort": 30080}]})",
       {"10.1.0.1", "10.1.0.2@"},
       {
           "map local-ns1/svc1/tcp/p80",
           "  0 : goto endpoint-ns1/svc1/tcp/p80__10.1.0.1/8080",
           "service-ips: 10.96.0.1 . tcp . 80 : goto service-ns1/svc1/tcp/p80",
           "service-ips: 192.0.2.7 . tcp . 80 : goto external-ns1/svc1/tcp/p80",
           "service-nodeports: tcp . 30080 : goto external-ns1/svc1/tcp/p80",
           "map service-ns1/svc1/tcp/p80",
           "  0 : goto endpoint-ns1/svc1/tcp/p80__10.1.0.1/8080",
           "  1 : goto endpoint-ns1/svc1/tcp/p80__10.1.0.2/8080",
           "chain endpoint-ns1/svc1/tcp/p80__10.1.0.1/8080",
           "  ip saddr 10.1.0.1 jump mark-for-masquerade",
           "  meta l4proto tcp dnat ip to 10.1.0.1:8080",
           "chain endpoint-ns1/svc1/tcp/p80__10.1.0.2/8080",
           "  ip saddr 10.1.0.2 jump mark-for-masquerade",
           "  meta l4proto tcp dnat ip to 10.1.0.2:8080",
           "chain external-ns1/svc1/tcp/p80",
           "  ip saddr 10.1.0.0/16 goto service-ns1/svc1/tcp/p80 comment \"short-circuit pod "
           "traffic\"",
           "  fib saddr type local jump mark-for-masquerade comment \"masquerade local traffic\"",
           "  fib saddr type local goto service-ns1/svc1/tcp/p80 comment \"short-circuit local "
           "traffic\"",
           "  goto local-ns1/svc1/tcp/p80",
           "chain local-ns1/svc1/tcp/p80",
           "  numgen random mod 1 vmap @local-ns1/svc1/tcp/p80",
           "chain service-ns1/svc1/tcp/p80",
           "  ip daddr 10.96.0.1 meta l4proto tcp th dport 80 ip saddr != 10.1.0.0/16 jump "
           "mark-for-masquerade",
           "  numgen random mod 2 vmap @service-ns1/svc1/tcp/p80",
       },
       {}},
      {"externalTrafficPolicy Local without a local endpoint: external traffic dropped",
       R"({"type": "NodePort", "clusterIP": "10.96.0.1", "externalTrafficPolicy": "Local",
           "ports": [{"name": "p80", "port": 80, "nodePort": 30080}]})",
       {"10.1.0.2@"},
       {
           "no-endpoint-nodeports: tcp . 30080 : drop comment \"ns1/svc1:p80\"",
           "service-ips: 10.96.0.1 . tcp . 80 : goto service-ns1/svc1/tcp/p80",
           "service-nodeports: tcp . 30080 : goto external-ns1/svc1/tcp/p80",
           "map service-ns1/svc1/tcp/p80",
           "  0 : goto endpoint-ns1/svc1/tcp/p80__10.1.0.2/8080",
           "chain endpoint-ns1/svc1/tcp/p80__10.1.0.2/8080",
           "  ip saddr 10.1.0.2 jump mark-for-masquerade",
           "  meta l4proto tcp dnat ip to 10.1.0.2:8080",
           "chain external-ns1/svc1/tcp/p80",
           "  ip saddr 10.1.0.0/16 goto service-ns1/svc1/tcp/p80 comment \"short-circuit pod "
           "traffic\"",
           "  fib saddr type local jump mark-for-masquerade comment \"masquerade local traffic\"",
           "  fib saddr type local goto service-ns1/svc1/tcp/p80 comment \"short-circuit local "
           "traffic\"",
           "chain service-ns1/svc1/tcp/p80",
           "  ip daddr 10.96.0.1 meta l4proto tcp th dport 80 ip saddr != 10.1.0.0/16 jump "
           "mark-for-masquerade",
           "  numgen random mod 1 vmap @service-ns1/svc1/tcp/p80",
       },
       {}},
      {"NodePort with Cluster policy: external traffic is masqueraded",
       R"({"type": "NodePort", "clusterIP": "10.96.0.1",
           "ports": [{"name": "p80", "port": 80, "nodePort": 30080}]})",
       {"10.1.0.1"},
       {
           "service-ips: 10.96.0.1 . tcp . 80 : goto service-ns1/svc1/tcp/p80",
           "service-nodeports: tcp . 30080 : goto external-ns1/svc1/tcp/p80",
           "map service-ns1/svc1/tcp/p80",
           "  0 : goto endpoint-ns1/svc1/tcp/p80__10.1.0.1/8080",
           "chain endpoint-ns1/svc1/tcp/p80__10.1.0.1/8080",
           "  ip saddr 10.1.0.1 jump mark-for-masquerade",
           "  meta l4proto tcp dnat ip to 10.1.0.1:8080",
           "chain external-ns1/svc1/tcp/p80",
           "  jump mark-for-masquerade",
           "  goto service-ns1/svc1/tcp/p80",
           "chain service-ns1/svc1/tcp/p80",
           "  ip daddr 10.96.0.1 meta l4proto tcp th dport 80 ip saddr != 10.1.0.0/16 jump "
           "mark-for-masquerade",
           "  numgen random mod 1 vmap @service-ns1/svc1/tcp/p80",
       },
       {}},
      {"sessionAffinity ClientIP: an affinity set per endpoint, checked before numgen",
       R"({"clusterIP": "10.96.0.1", "sessionAffinity": "ClientIP",
           "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
           "ports": [{"name": "p80", "port": 80}]})",
       {"10.1.0.1"},
       {
           "set affinity-ns1/svc1/tcp/p80__10.1.0.1/8080 timeout 60s",
           "service-ips: 10.96.0.1 . tcp . 80 : goto service-ns1/svc1/tcp/p80",
           "map service-ns1/svc1/tcp/p80",
           "  0 : goto endpoint-ns1/svc1/tcp/p80__10.1.0.1/8080",
           "chain endpoint-ns1/svc1/tcp/p80__10.1.0.1/8080",
           "  ip saddr 10.1.0.1 jump mark-for-masquerade",
           "  update @affinity-ns1/svc1/tcp/p80__10.1.0.1/8080 { ip saddr }",
           "  meta l4proto tcp dnat ip to 10.1.0.1:8080",
           "chain service-ns1/svc1/tcp/p80",
           "  ip daddr 10.96.0.1 meta l4proto tcp th dport 80 ip saddr != 10.1.0.0/16 jump "
           "mark-for-masquerade",
           "  ip saddr @affinity-ns1/svc1/tcp/p80__10.1.0.1/8080 goto "
           "endpoint-ns1/svc1/tcp/p80__10.1.0.1/8080",
           "  numgen random mod 1 vmap @service-ns1/svc1/tcp/p80",
       },
       {}},
      {"IPv6: the ip6 table, colons become dots in names",
       R"({"clusterIPs": ["fd00:96::1"], "ports": [{"name": "p80", "port": 80}]})",
       {"fd00:1::1"},
       {},
       {
           "service-ips: fd00:96::1 . tcp . 80 : goto service-ns1/svc1/tcp/p80",
           "map service-ns1/svc1/tcp/p80",
           "  0 : goto endpoint-ns1/svc1/tcp/p80__fd00.1..1/8080",
           "chain endpoint-ns1/svc1/tcp/p80__fd00.1..1/8080",
           "  ip6 saddr fd00:1::1 jump mark-for-masquerade",
           "  meta l4proto tcp dnat ip6 to [fd00:1::1]:8080",
           "chain service-ns1/svc1/tcp/p80",
           "  ip6 daddr fd00:96::1 meta l4proto tcp th dport 80 ip6 saddr != fd00:1::/64 jump "
           "mark-for-masquerade",
           "  numgen random mod 1 vmap @service-ns1/svc1/tcp/p80",
       }},
      {"LoadBalancer source ranges: the firewall chain returns for allowed sources, drops the "
       "rest",
       R"({"type": "LoadBalancer", "clusterIP": "10.96.0.1",
           "loadBalancerSourceRanges": ["198.51.100.0/24"],
           "ports": [{"name": "p80", "port": 80, "nodePort": 30080}]})",
       {"10.1.0.1"},
       {},  // checked below with the status added
       {}},
  };
  ProxyConfig config;
  config.clusterCidrs = {*IpNet::parse("10.1.0.0/16"), *IpNet::parse("fd00:1::/64")};
  for (Case& c : cases) {
    json svc = service(c.spec);
    json slices = json::array();
    if (!c.endpoints.empty()) {
      bool v6 = c.endpoints[0].find(':') != std::string::npos;
      slices.push_back(slice(c.endpoints, v6 ? "IPv6" : "IPv4"));
    }
    if (std::string(c.name).starts_with("LoadBalancer source ranges")) {
      svc["status"] = json::parse(R"({"loadBalancer": {"ingress": [{"ip": "203.0.113.1"}]}})");
      auto tables = compute(json::array({svc}), slices, config);
      Lines part = servicePart(tables[0]);
      Lines want{
          "firewall-ips: 203.0.113.1 . tcp . 80 : goto firewall-ns1/svc1/tcp/p80 comment "
          "\"ns1/svc1:p80\"",
          "chain firewall-ns1/svc1/tcp/p80",
          "  ip saddr 198.51.100.0/24 return",
          "  drop",
      };
      for (const std::string& line : want)
        EXPECT_NE(std::find(part.begin(), part.end(), line), part.end()) << line;
      continue;
    }
    auto tables = compute(json::array({svc}), slices, config);
    ASSERT_EQ(tables.size(), 2u);
    EXPECT_EQ(tables[0].family, nft::Family::kIp);
    EXPECT_EQ(tables[1].family, nft::Family::kIp6);
    EXPECT_EQ(servicePart(tables[0]), c.ip) << c.name;
    EXPECT_EQ(servicePart(tables[1]), c.ip6) << c.name;
  }
}

TEST(ComputeRuleset, TheBaseTableIsKubeProxysLayout) {
  ProxyConfig config;
  nft::Table t = baseTable(4, config);
  EXPECT_EQ(t.name, "berth-proxy");
  struct Base {
    const char* chain;
    const char* type;
    nft::Hook hook;
    int priority;
    Lines rules;
  } bases[] = {
      {"filter-prerouting",
       "filter",
       nft::Hook::kPrerouting,
       -110,
       {"ct state new jump firewall-check"}},
      {"filter-input", "filter", nft::Hook::kInput, -110, {"ct state new jump endpoints-check"}},
      {"filter-forward",
       "filter",
       nft::Hook::kForward,
       -110,
       {"ct state new jump endpoints-check"}},
      {"filter-output",
       "filter",
       nft::Hook::kOutput,
       -110,
       {"ct state new jump endpoints-check", "ct state new jump firewall-check"}},
      {"nat-prerouting", "nat", nft::Hook::kPrerouting, -100, {"jump services"}},
      {"nat-output", "nat", nft::Hook::kOutput, -100, {"jump services"}},
      {"nat-postrouting", "nat", nft::Hook::kPostrouting, 100, {"jump masquerading"}},
  };
  auto rules = [&](const std::string& chain) {
    Lines out;
    for (const nft::Rule& r : t.chains.at(chain).rules)
      out.push_back(nft::describe(r, t.family));
    return out;
  };
  for (const Base& b : bases) {
    ASSERT_TRUE(t.chains.contains(b.chain)) << b.chain;
    const nft::Chain& c = t.chains.at(b.chain);
    ASSERT_TRUE(c.base) << b.chain;
    EXPECT_EQ(c.base->type, b.type) << b.chain;
    EXPECT_EQ(c.base->hook, b.hook) << b.chain;
    EXPECT_EQ(c.base->priority, b.priority) << b.chain;
    EXPECT_EQ(rules(b.chain), b.rules) << b.chain;
  }
  EXPECT_EQ(rules("services"),
            (Lines{"ip daddr . meta l4proto . th dport vmap @service-ips",
                   "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap "
                   "@service-nodeports"}));
  EXPECT_EQ(rules("endpoints-check"),
            (Lines{"ip daddr . meta l4proto . th dport vmap @no-endpoint-services",
                   "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap "
                   "@no-endpoint-nodeports"}));
  EXPECT_EQ(rules("mark-for-masquerade"), Lines{"meta mark set meta mark or 0x00004000"});
  EXPECT_EQ(rules("masquerading"),
            (Lines{"meta mark & 0x00004000 == 0x00000000 return",
                   "meta mark set meta mark xor 0x00004000", "masquerade fully-random"}));
  EXPECT_EQ(rules("reject-chain"), (Lines{"meta l4proto tcp reject with tcp reset", "reject"}));

  config.nodePortAddresses = {*IpAddr::parse("192.168.1.5"), *IpAddr::parse("fd00::5")};
  t = baseTable(6, config);
  EXPECT_EQ(rules("services")[1],
            "ip6 daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports");
  ASSERT_EQ(t.sets.at("nodeport-ips").elements.size(), 1u);
  EXPECT_EQ(nft::describe(t.sets.at("nodeport-ips").elements.begin()->second), "fd00::5");
}

TEST(ComputeRuleset, OneEndpointReplacedChangesOnlyItsMapElementAndEndpointChain) {
  json svc = service(kClusterIp);
  auto before = compute(json::array({svc}), json::array({slice({"10.1.0.1", "10.1.0.2"})}));
  auto after = compute(json::array({svc}), json::array({slice({"10.1.0.1", "10.1.0.3"})}));
  EXPECT_EQ(before[0].chains.at("services"), after[0].chains.at("services"));
  const std::string svcChain = "service-" + servicePortChainBase({"ns1", "svc1", "p80"});
  EXPECT_EQ(before[0].chains.at(svcChain), after[0].chains.at(svcChain))
      << "the service chain's rules don't change";
  const auto& mapBefore = before[0].sets.at(svcChain).elements;
  const auto& mapAfter = after[0].sets.at(svcChain).elements;
  ASSERT_EQ(mapBefore.size(), 2u);
  EXPECT_EQ(before[0].sets.at(svcChain).numgenModulus, 2u) << "typeof numgen random mod 2";
  ASSERT_EQ(mapAfter.size(), 2u);
  EXPECT_EQ(mapBefore.begin()->second, mapAfter.begin()->second);
  EXPECT_NE(std::next(mapBefore.begin())->second, std::next(mapAfter.begin())->second);
}

}  // namespace
}  // namespace berth::proxy
