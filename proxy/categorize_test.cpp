#include "proxy/categorize.h"

#include <gtest/gtest.h>

namespace berth::proxy {
namespace {

// "10.1.0.1" ready on this node; suffixes: '~' terminating and serving, '!' not ready and not
// serving, '@' on another node, '#z2' hinted for zone z2 (else z1 when hints are used).
Endpoint ep(std::string spec, bool hints = false) {
  Endpoint e;
  e.port = 80;
  e.nodeName = "me";
  std::string zone = "z1";
  if (auto h = spec.find('#'); h != std::string::npos) {
    zone = spec.substr(h + 1);
    spec.resize(h);
    hints = true;
  }
  while (!spec.empty() && std::string("~!@").find(spec.back()) != std::string::npos) {
    char c = spec.back();
    spec.pop_back();
    if (c == '~') e.ready = false, e.terminating = true;
    if (c == '!') e.ready = false, e.serving = false;
    if (c == '@') e.nodeName = "other";
  }
  e.ip = *IpAddr::parse(spec);
  if (hints) e.zoneHints = {zone};
  return e;
}

std::vector<std::string> ips(const std::vector<Endpoint>& eps) {
  std::vector<std::string> out;
  for (const Endpoint& e : eps)
    out.push_back(e.ip.str());
  return out;
}

using Ips = std::vector<std::string>;

TEST(CategorizeEndpoints, Table) {
  struct Case {
    const char* name;
    std::vector<std::string> endpoints;
    bool etpLocal, itpLocal, nodePort;
    Ips cluster, local, all;
    bool hasAny;
  } cases[] = {
      {"cluster policy: ready endpoints anywhere, sorted",
       {"10.1.0.3@", "10.1.0.1", "10.1.0.2!"},
       false,
       false,
       false,
       {"10.1.0.1", "10.1.0.3"},
       {},
       {"10.1.0.1", "10.1.0.3"},
       true},
      {"no ready endpoint: serving terminating ones",
       {"10.1.0.1~", "10.1.0.2!", "10.1.0.3~@"},
       false,
       false,
       false,
       {"10.1.0.1", "10.1.0.3"},
       {},
       {"10.1.0.1", "10.1.0.3"},
       true},
      {"nothing usable", {"10.1.0.2!"}, false, false, false, {}, {}, {}, false},
      {"internal Local: only this node's",
       {"10.1.0.1", "10.1.0.2@"},
       false,
       true,
       false,
       {},
       {"10.1.0.1"},
       {"10.1.0.1"},
       true},
      {"internal Local, none here: still hasAny (traffic is dropped, not rejected)",
       {"10.1.0.2@"},
       false,
       true,
       false,
       {},
       {},
       {},
       true},
      {"external Local: cluster for internal, local for external, union reachable",
       {"10.1.0.1~", "10.1.0.2@", "10.1.0.4"},
       true,
       false,
       true,
       {"10.1.0.2", "10.1.0.4"},
       {"10.1.0.4"},
       {"10.1.0.2", "10.1.0.4"},
       true},
      {"both policies Local on a NodePort: Cluster endpoints too, for the short-circuit",
       {"10.1.0.1", "10.1.0.2@"},
       true,
       true,
       true,
       {"10.1.0.1", "10.1.0.2"},
       {"10.1.0.1"},
       {"10.1.0.1", "10.1.0.2"},
       true},
      {"external Local with only a terminating local endpoint: it is used for Local",
       {"10.1.0.1~", "10.1.0.2@"},
       true,
       false,
       true,
       {"10.1.0.2"},
       {"10.1.0.1"},
       {"10.1.0.1", "10.1.0.2"},
       true},
  };
  for (const Case& c : cases) {
    std::vector<Endpoint> eps;
    for (const std::string& s : c.endpoints)
      eps.push_back(ep(s));
    ServicePort port;
    port.nodePort = c.nodePort ? 30000 : 0;
    port.externalPolicyLocal = c.etpLocal;
    port.internalPolicyLocal = c.itpLocal;
    CategorizedEndpoints got = categorizeEndpoints(eps, port, NodeInfo{"me", "z1"}, true);
    EXPECT_EQ(ips(got.cluster), c.cluster) << c.name;
    EXPECT_EQ(ips(got.local), c.local) << c.name;
    EXPECT_EQ(ips(got.allReachable), c.all) << c.name;
    EXPECT_EQ(got.hasAny, c.hasAny) << c.name;
  }
}

TEST(CategorizeEndpoints, TopologyHintsApplyOnlyWhenEveryReadyEndpointHasOneAndOneIsForThisZone) {
  ServicePort port;
  NodeInfo node{"me", "z1"};
  std::vector<Endpoint> hinted{ep("10.1.0.1@#z1"), ep("10.1.0.2@#z2")};
  EXPECT_EQ(ips(categorizeEndpoints(hinted, port, node, true).cluster), Ips{"10.1.0.1"});
  EXPECT_EQ(ips(categorizeEndpoints(hinted, port, node, false).cluster),
            (Ips{"10.1.0.1", "10.1.0.2"}))
      << "hints off";
  std::vector<Endpoint> oneUnhinted{ep("10.1.0.1@#z1"), ep("10.1.0.2@")};
  EXPECT_EQ(ips(categorizeEndpoints(oneUnhinted, port, node, true).cluster),
            (Ips{"10.1.0.1", "10.1.0.2"}));
  std::vector<Endpoint> otherZone{ep("10.1.0.2@#z2")};
  EXPECT_EQ(ips(categorizeEndpoints(otherZone, port, node, true).cluster), Ips{"10.1.0.2"})
      << "no endpoint for this zone: hints ignored";
}

}  // namespace
}  // namespace berth::proxy
