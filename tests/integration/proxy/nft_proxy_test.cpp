// The proxy's computed tables written by NftWriter into a network namespace the test creates (a
// "node"), read back with `nft -j`, and real TCP traffic to a ClusterIP from that node to two
// "pod" namespaces behind veth pairs. The service CIDR is routed only inside the node namespace
// (to a dummy device), so nothing can leave the machine; the host's ruleset is never touched.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/netns.h"
#include "common/nft_writer.h"
#include "common/unique_fd.h"
#include "proxy/ruleset.h"
#include "tests/integration/cni/cni_fixture.h"
#include "tests/integration/proxy/proxy_netns.h"

namespace berth::testing {
namespace {

using nlohmann::json;
using proxy::EndpointsMap;
using proxy::ProxyConfig;
using proxy::ServicePort;

json serviceJson(const std::string& name, const std::string& clusterIp) {
  return json::parse(fmt::format(R"({{"metadata": {{"namespace": "ns1", "name": "{}"}},
      "spec": {{"clusterIP": "{}", "ports": [{{"name": "http", "port": 80}}]}}}})",
                                 name, clusterIp));
}

// The slice of one family ("IPv4" or "IPv6") holding those of `ips`.
json sliceJson(const std::string& service, const std::vector<std::string>& ips,
               const std::string& family) {
  json eps = json::array();
  for (const std::string& ip : ips) {
    if ((ip.find(':') != std::string::npos) == (family == "IPv6"))
      eps.push_back({{"addresses", {ip}}, {"nodeName", "node"}});
  }
  return {
      {"metadata", {{"namespace", "ns1"}, {"labels", {{"kubernetes.io/service-name", service}}}}},
      {"addressType", family},
      {"ports", {{{"name", "http"}, {"port", 8080}}}},
      {"endpoints", eps}};
}

struct Svc {
  std::string name;
  std::string clusterIp;
  std::vector<std::string> endpoints;
  json extraSpec = json::object();  // merged into the Service's spec
  json status = json::object();
};

// The desired tables for these Services.
std::vector<nft::Table> tablesFor(const std::vector<Svc>& services) {
  std::vector<ServicePort> ports;
  EndpointsMap endpoints;
  for (const Svc& svc : services) {
    json object = serviceJson(svc.name, svc.clusterIp);
    object["spec"].update(svc.extraSpec);
    object["status"] = svc.status;
    auto p = proxy::servicePortsOf(object);
    EXPECT_TRUE(p) << p.error().message();
    if (p) ports.insert(ports.end(), p->begin(), p->end());
    for (const char* family : {"IPv4", "IPv6"})
      EXPECT_TRUE(proxy::addEndpointSlice(sliceJson(svc.name, svc.endpoints, family), endpoints));
  }
  ProxyConfig config;
  config.clusterCidrs = {*IpNet::parse("10.1.0.0/16"), *IpNet::parse("fd00:1::/64")};
  return proxy::computeRuleset(ports, endpoints, proxy::NodeInfo{"node", ""}, config);
}

class ProxyNftTest : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_ROOT();
    if (sh("command -v nft").first != 0) GTEST_SKIP() << "needs the nft CLI to read rules back";
    node_ = std::make_unique<TestNetns>("berth-proxy-node");
    ASSERT_TRUE(node_->ok());
    auto ns = NetNs::open(node_->path());
    ASSERT_TRUE(ns) << ns.error().message();
    auto writer = inNetNs(*ns, [] { return nft::NftWriter::open(); });
    ASSERT_TRUE(writer) << writer.error().message();
    writer_ = std::move(*writer);
    nodeNs_ = std::make_unique<NetNs>(std::move(*ns));
  }

  // `nft -j list table ip berth-proxy` in the node: "chain NAME", "rule CHAIN #HANDLE: expr",
  // "element MAP: key : value" lines.
  std::set<std::string> listed() {
    auto [code, out] = node_->exec({"nft", "-j", "list", "table", "ip", "berth-proxy"});
    EXPECT_EQ(code, 0) << out;
    std::set<std::string> items;
    json j = json::parse(out, nullptr, false);
    if (!j.is_object()) return items;
    for (const json& item : j["nftables"]) {
      if (item.contains("chain")) items.insert("chain " + item["chain"]["name"].get<std::string>());
      if (item.contains("rule")) {
        const json& r = item["rule"];
        items.insert(fmt::format("rule {} #{}: {}", r["chain"].get<std::string>(),
                                 r["handle"].get<int>(), r["expr"].dump()));
      }
      if (item.contains("map") || item.contains("set")) {
        const json& m = item.contains("map") ? item["map"] : item["set"];
        items.insert("set " + m["name"].get<std::string>());
        for (const json& e : m.value("elem", json::array()))
          items.insert(fmt::format("element {}: {}", m["name"].get<std::string>(), e.dump()));
      }
    }
    return items;
  }

  Status apply(const std::vector<nft::Table>& want, const nft::PlanOptions& options = {}) {
    std::vector<nft::Op> ops = nft::planChanges(want, applied_, options);
    Status s = writer_->send(ops);
    if (s) applied_ = nft::appliedAfter(want, applied_, options);
    return s;
  }

  std::unique_ptr<TestNetns> node_;
  std::unique_ptr<NetNs> nodeNs_;
  std::unique_ptr<nft::NftWriter> writer_;
  std::vector<nft::Table> applied_;
};

bool anyContains(const std::set<std::string>& items, const std::string& what) {
  return std::any_of(items.begin(), items.end(),
                     [&](const std::string& s) { return s.find(what) != std::string::npos; });
}

std::set<std::string> minus(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

TEST_F(ProxyNftTest, TheTableIsCreatedAndAnEndpointChangeTouchesOnlyItsElementAndChain) {
  auto v1 = tablesFor({{"web", "10.96.0.10", {"10.1.1.2", "10.1.2.2"}}});
  ASSERT_TRUE(apply(v1)) << "first apply";
  std::set<std::string> before = listed();
  std::string svcBase = proxy::servicePortChainBase({"ns1", "web", "http"});
  for (const char* chain :
       {"nat-prerouting", "nat-output", "filter-input", "services", "masquerading",
        "mark-for-masquerade", "endpoints-check", "reject-chain"})
    EXPECT_TRUE(before.contains(std::string("chain ") + chain)) << chain;
  EXPECT_TRUE(before.contains("chain service-" + svcBase));
  EXPECT_TRUE(before.contains("set service-ips"));
  EXPECT_TRUE(before.contains("set service-" + svcBase)) << "the endpoint map";
  EXPECT_TRUE(anyContains(before, "10.96.0.10")) << "the ClusterIP's element";
  EXPECT_TRUE(anyContains(before, "10.1.2.2/8080")) << "an endpoint chain";

  // What nft prints of our tables reads back (nft list ruleset > file; nft -f file).
  for (const char* family : {"ip", "ip6"}) {
    auto [code, out] = node_->exec(
        {"sh", "-c", fmt::format("nft list table {} berth-proxy | nft -c -f -", family)});
    EXPECT_EQ(code, 0) << family << ": " << out;
  }

  // Nothing to do: nothing sent.
  EXPECT_TRUE(nft::planChanges(v1, applied_).empty());

  auto v2 = tablesFor({{"web", "10.96.0.10", {"10.1.1.2", "10.1.3.2"}}});
  std::vector<std::string> ops;
  for (const nft::Op& op : nft::planChanges(v2, applied_))
    ops.push_back(nft::describe(op));
  std::string oldEp = "endpoint-" + proxy::endpointChainBase({"ns1", "web", "http"},
                                                             {*IpAddr::parse("10.1.2.2"), 8080});
  std::string newEp = "endpoint-" + proxy::endpointChainBase({"ns1", "web", "http"},
                                                             {*IpAddr::parse("10.1.3.2"), 8080});
  EXPECT_EQ(ops,
            (std::vector<std::string>{
                "add chain ip berth-proxy " + newEp,
                "delete element ip berth-proxy service-" + svcBase + " { 1 : goto " + oldEp + " }",
                "flush chain ip berth-proxy " + oldEp,
                "delete chain ip berth-proxy " + oldEp,
                "add element ip berth-proxy service-" + svcBase + " { 1 : goto " + newEp + " }",
                "add rule ip berth-proxy " + newEp + " ip saddr 10.1.3.2 jump mark-for-masquerade",
                "add rule ip berth-proxy " + newEp + " meta l4proto tcp dnat ip to 10.1.3.2:8080",
            }));
  ASSERT_TRUE(apply(v2)) << "the change";
  std::set<std::string> after = listed();
  // Rules keep their handles unless rewritten: what differs is the endpoint chain and element.
  for (const std::string& gone : minus(before, after))
    EXPECT_TRUE(gone.find(oldEp) != std::string::npos) << "changed: " << gone;
  for (const std::string& added : minus(after, before))
    EXPECT_TRUE(added.find(newEp) != std::string::npos) << "changed: " << added;
  EXPECT_TRUE(after.contains("chain " + newEp));
  EXPECT_FALSE(after.contains("chain " + oldEp));

  // The service goes away: back to the base table.
  ASSERT_TRUE(apply(tablesFor({})));
  std::set<std::string> empty = listed();
  EXPECT_FALSE(anyContains(empty, svcBase));
  EXPECT_TRUE(empty.contains("chain services"));
}

TEST_F(ProxyNftTest, DeferredChainDeletionEmptiesTheChainNowAndDeletesItNextTime) {
  nft::PlanOptions defer{true};
  ASSERT_TRUE(apply(tablesFor({{"web", "10.96.0.10", {"10.1.1.2", "10.1.2.2"}}}), defer));
  std::string oldEp = "endpoint-" + proxy::endpointChainBase({"ns1", "web", "http"},
                                                             {*IpAddr::parse("10.1.2.2"), 8080});
  auto v2 = tablesFor({{"web", "10.96.0.10", {"10.1.1.2"}}});
  ASSERT_TRUE(apply(v2, defer));
  std::set<std::string> items = listed();
  EXPECT_TRUE(items.contains("chain " + oldEp)) << "kept for now";
  // Empty, and named by no rule and no map element: only its own "chain" line names it.
  EXPECT_EQ(
      std::count_if(items.begin(), items.end(),
                    [&](const std::string& item) { return item.find(oldEp) != std::string::npos; }),
      1);
  ASSERT_TRUE(apply(v2, defer));
  EXPECT_FALSE(listed().contains("chain " + oldEp)) << "deleted by the next transaction";
}

TEST_F(ProxyNftTest, FiveThousandServicesGoInOneBatchAndOneChangeIsSmall) {
  // Large batches: the send buffer, element messages split at 256, thousands of chains.
  std::vector<Svc> services;
  for (int i = 0; i < 5000; ++i) {
    services.push_back({fmt::format("s{}", i),
                        fmt::format("10.96.{}.{}", i / 250, i % 250 + 1),
                        {fmt::format("10.2.{}.{}", i / 250, i % 250 + 1),
                         fmt::format("10.3.{}.{}", i / 250, i % 250 + 1)}});
  }
  auto want = tablesFor(services);
  auto start = std::chrono::steady_clock::now();
  Status s = apply(want);
  auto full = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(s) << s.error().message();
  auto [code, out] = node_->exec({"nft", "-j", "list", "map", "ip", "berth-proxy", "service-ips"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(json::parse(out)["nftables"][1]["map"]["elem"].size(), 5000u);

  services[4321].endpoints[1] = "10.4.0.1";
  auto changed = tablesFor(services);
  EXPECT_EQ(nft::planChanges(changed, applied_).size(), 7u)
      << "one endpoint chain in, one out, one map element";
  start = std::chrono::steady_clock::now();
  std::vector<nft::Op> ops = nft::planChanges(changed, applied_);
  auto plan = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(writer_->send(ops));
  auto one = std::chrono::steady_clock::now() - start;
  using ms = std::chrono::duration<double, std::milli>;
  RecordProperty("full_sync_5k_ms", std::to_string(ms(full).count()));
  RecordProperty("one_change_5k_ms", std::to_string(ms(one).count()));
  std::cerr << "5k services: full " << ms(full).count() << " ms, one change " << ms(one).count()
            << " ms (of which planning " << ms(plan).count() << " ms)\n";
}

TEST_F(ProxyNftTest, AColdStartSplitIntoTransactionsAndAPartChangeReachTheKernel) {
  std::vector<Svc> services;
  for (int i = 0; i < 300; ++i) {
    services.push_back({fmt::format("s{}", i),
                        fmt::format("10.96.{}.{}", 1 + i / 250, i % 250 + 1),
                        {fmt::format("10.2.{}.{}", i / 250, i % 250 + 1)}});
  }
  auto want = tablesFor(services);
  auto absent = writer_->hasTable(nft::Family::kIp, "berth-proxy");
  ASSERT_TRUE(absent && !*absent);
  std::vector<nft::Op> ops = nft::planChanges(want, {});
  auto txns = nft::splitTransactions(ops, 500, true);
  ASSERT_GT(txns.size(), 2u);
  for (const auto& txn : txns) {
    Status s = writer_->send(txn);
    ASSERT_TRUE(s) << s.error().message();
  }
  applied_ = want;
  auto present = writer_->hasTable(nft::Family::kIp, "berth-proxy");
  ASSERT_TRUE(present && *present);
  auto [code, out] = node_->exec({"nft", "-j", "list", "map", "ip", "berth-proxy", "service-ips"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(json::parse(out)["nftables"][1]["map"]["elem"].size(), 300u);
  // The same Services in one transaction leave the same table.
  std::set<std::string> split = listed();
  applied_.clear();
  ASSERT_TRUE(apply(want));
  auto withoutHandles = [](std::set<std::string> items) {
    std::set<std::string> out;
    for (std::string item : items)
      out.insert(item.substr(0, item.find(" #")) + item.substr(item.find(':') + 1));
    return out;
  };
  EXPECT_EQ(withoutHandles(split), withoutHandles(listed()));

  // One Service's endpoint changed, planned over its ServicePortRules alone.
  std::vector<ServicePort> ports;
  EndpointsMap before, after;
  json object = serviceJson("s7", "10.96.1.8");
  ports = *proxy::servicePortsOf(object);
  ASSERT_TRUE(proxy::addEndpointSlice(sliceJson("s7", {"10.2.0.8"}, "IPv4"), before));
  ASSERT_TRUE(proxy::addEndpointSlice(sliceJson("s7", {"10.5.5.5"}, "IPv4"), after));
  ProxyConfig config;
  config.clusterCidrs = {*IpNet::parse("10.1.0.0/16"), *IpNet::parse("fd00:1::/64")};
  proxy::NodeInfo node{"node", ""};
  auto key = proxy::EndpointsKey{ports[0].name, 4};
  auto oldRules = proxy::computeServicePortRules(ports[0], before.at(key), node, config);
  auto newRules = proxy::computeServicePortRules(ports[0], after.at(key), node, config);
  std::vector<nft::Op> one =
      nft::planPartChanges(want[0], {newRules.chains, newRules.sets, newRules.elements},
                           {oldRules.chains, oldRules.sets, oldRules.elements});
  ASSERT_FALSE(one.empty());
  ASSERT_TRUE(writer_->send(one));
  std::set<std::string> changed = listed();
  EXPECT_TRUE(anyContains(changed, "10.5.5.5"));
  EXPECT_FALSE(anyContains(changed, "10.2.0.8/"));
  EXPECT_TRUE(anyContains(changed, "10.2.0.9/")) << "other Services untouched";
  EXPECT_EQ(changed.size(), split.size());
}

TEST_F(ProxyNftTest, AFreshWriterReplacesWhateverTableItFinds) {
  ASSERT_TRUE(apply(tablesFor({{"a", "10.96.0.1", {"10.1.1.2"}}})));
  // A restarted proxy knows nothing applied: the old table is replaced in one transaction.
  applied_.clear();
  ASSERT_TRUE(apply(tablesFor({{"b", "10.96.0.2", {"10.1.1.3"}}})));
  std::set<std::string> items = listed();
  EXPECT_FALSE(anyContains(items, "ns1/a/")) << "service a's chains were left behind";
  EXPECT_TRUE(anyContains(items, "ns1/b/"));
}

TEST_F(ProxyNftTest, AnErrorNamesTheRefusedOperationAndChangesNothing) {
  auto good = tablesFor({{"web", "10.96.0.10", {"10.1.1.2"}}});
  ASSERT_TRUE(apply(good));
  std::set<std::string> before = listed();
  auto bad = good;
  // A rule jumping to a chain that does not exist.
  bad[0]
      .chain("services")
      .rules.push_back(nft::Rule{{nft::Immediate{nft::Verdict::jump("no-such-chain")}}, {}});
  Status s = writer_->apply(bad, applied_);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("services"), std::string::npos) << s.error().message();
  EXPECT_EQ(listed(), before) << "the transaction was not applied in part";
}

TEST_F(ProxyNftTest, TheKernelAcceptsEveryKindOfServiceInBothFamilies) {
  // NodePort, externalIPs, a LoadBalancer with source ranges, Local policies, affinity, and a
  // dual-stack Service: every expression kind the proxy writes, in ip and ip6.
  json lb = json::parse(R"({"type": "LoadBalancer", "externalIPs": ["192.0.2.7"],
      "clusterIPs": ["10.96.0.20", "fd00:96::20"], "ipFamilies": ["IPv4", "IPv6"],
      "externalTrafficPolicy": "Local", "internalTrafficPolicy": "Local",
      "loadBalancerSourceRanges": ["198.51.100.0/24", "2001:db8::/32"],
      "sessionAffinity": "ClientIP",
      "ports": [{"name": "http", "port": 80, "nodePort": 30080}]})");
  json udp = json::parse(R"({"type": "NodePort",
      "ports": [{"name": "http", "port": 53, "protocol": "UDP", "nodePort": 30053}]})");
  std::vector<nft::Table> want =
      tablesFor({{"lb",
                  "10.96.0.20",
                  {"10.1.1.2", "10.1.2.2", "fd00:1::2"},
                  lb,
                  json::parse(R"({"loadBalancer": {"ingress": [{"ip": "203.0.113.1"}]}})")},
                 {"dns", "10.96.0.21", {"10.1.1.3"}, udp},
                 {"none", "10.96.0.22", {}}});
  Status applied = apply(want);
  ASSERT_TRUE(applied) << applied.error().message();
  for (const char* family : {"ip", "ip6"}) {
    auto [code, out] = node_->exec({"nft", "list", "table", family, "berth-proxy"});
    EXPECT_EQ(code, 0) << out;
    auto [reload, err] = node_->exec(
        {"sh", "-c", fmt::format("nft list table {} berth-proxy | nft -c -f -", family)});
    EXPECT_EQ(reload, 0) << family << " does not read back: " << err;
    EXPECT_NE(out.find("update @affinity-"), std::string::npos) << family << out;
    EXPECT_NE(out.find("fib saddr type local"), std::string::npos) << family << out;
  }
  auto [code4, out4] = node_->exec({"nft", "list", "table", "ip", "berth-proxy"});
  EXPECT_NE(out4.find("ip saddr 198.51.100.0/24 return"), std::string::npos) << out4;
  EXPECT_NE(out4.find("203.0.113.1 . tcp . 80"), std::string::npos) << out4;
  auto [code, out] = node_->exec({"nft", "list", "table", "ip6", "berth-proxy"});
  EXPECT_NE(out.find("dnat to [fd00:1::2]:8080"), std::string::npos) << out;
  // And back to nothing.
  ASSERT_TRUE(apply(tablesFor({})));
}

// A node namespace with two pod namespaces behind veth pairs (10.1.1.2 and 10.1.2.2), each
// serving its name on port 8080.
class ProxyTrafficTest : public ProxyNftTest {
 protected:
  void SetUp() override {
    ProxyNftTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    podA_ = std::make_unique<TestNetns>("berth-proxy-pa");
    podB_ = std::make_unique<TestNetns>("berth-proxy-pb");
    ASSERT_TRUE(podA_->ok() && podB_->ok());
    Status st = addPod(*node_, *podA_, 1);
    if (st) st = addPod(*node_, *podB_, 2);
    if (st) st = routeServiceCidr(*node_, "10.96.0.0/16");
    ASSERT_TRUE(st) << st.error().message();
    auto nsA = NetNs::open(podA_->path());
    auto nsB = NetNs::open(podB_->path());
    ASSERT_TRUE(nsA && nsB);
    serverA_ = std::make_unique<PodServer>(*nsA, "10.1.1.2", "pod-a");
    serverB_ = std::make_unique<PodServer>(*nsB, "10.1.2.2", "pod-b");
    ASSERT_EQ(fetch(*nodeNs_, "10.1.1.2", 8080), "pod-a") << "the pod is reachable directly";
  }
  void TearDown() override {
    serverA_.reset();
    serverB_.reset();
  }

  std::unique_ptr<TestNetns> podA_, podB_;
  std::unique_ptr<PodServer> serverA_, serverB_;
};

TEST_F(ProxyTrafficTest, ClusterIpTrafficReachesBothEndpointsAndFollowsAChange) {
  ASSERT_TRUE(apply(
      tablesFor({{"web", "10.96.0.10", {"10.1.1.2", "10.1.2.2"}}, {"empty", "10.96.0.11", {}}})));
  std::map<std::string, int> seen;
  for (int i = 0; i < 40; ++i)
    ++seen[fetch(*nodeNs_, "10.96.0.10", 80)];
  EXPECT_EQ(seen.size(), 2u) << "numgen spreads connections over both endpoints";
  EXPECT_GT(seen["pod-a"], 0);
  EXPECT_GT(seen["pod-b"], 0);
  EXPECT_EQ(fetch(*nodeNs_, "10.96.0.11", 80), "refused")
      << "a Service without endpoints rejects (TCP reset)";

  ASSERT_TRUE(apply(tablesFor({{"web", "10.96.0.10", {"10.1.2.2"}}, {"empty", "10.96.0.11", {}}})));
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(fetch(*nodeNs_, "10.96.0.10", 80), "pod-b") << "after pod-a's endpoint went away";
}

TEST_F(ProxyTrafficTest, SessionAffinityKeepsAClientOnOneEndpoint) {
  json affinity = json::parse(R"({"sessionAffinity": "ClientIP"})");
  ASSERT_TRUE(apply(tablesFor({{"web", "10.96.0.10", {"10.1.1.2", "10.1.2.2"}, affinity}})));
  std::string first = fetch(*nodeNs_, "10.96.0.10", 80);
  ASSERT_TRUE(first == "pod-a" || first == "pod-b") << first;
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(fetch(*nodeNs_, "10.96.0.10", 80), first) << "connection " << i;
}

TEST_F(ProxyTrafficTest, ANodePortAnswersOnTheNodesAddress) {
  json nodePort = json::parse(R"({"type": "NodePort",
      "ports": [{"name": "http", "port": 80, "nodePort": 30080}]})");
  ASSERT_TRUE(apply(tablesFor({{"web", "10.96.0.10", {"10.1.2.2"}, nodePort}})));
  EXPECT_EQ(fetch(*nodeNs_, "10.1.1.1", 30080), "pod-b");
  EXPECT_EQ(fetch(*nodeNs_, "10.96.0.10", 80), "pod-b");
}

}  // namespace
}  // namespace berth::testing
