#include "proxy/ruleset.h"

#include <openssl/sha.h>

#include <algorithm>

#include <fmt/format.h>

#include "proxy/categorize.h"

namespace berth::proxy {

using nft::Datum;
using nft::Field;
using nft::Rule;
using nft::Type;
using nft::Verdict;

namespace {

// kube-proxy's chain and set names (proxier.go).
constexpr const char* kServicesChain = "services";
constexpr const char* kServiceIpsMap = "service-ips";
constexpr const char* kServiceNodePortsMap = "service-nodeports";
constexpr const char* kNodePortIpsSet = "nodeport-ips";
constexpr const char* kEndpointsCheckChain = "endpoints-check";
constexpr const char* kNoEndpointServicesMap = "no-endpoint-services";
constexpr const char* kNoEndpointNodePortsMap = "no-endpoint-nodeports";
constexpr const char* kRejectChain = "reject-chain";
constexpr const char* kFirewallIpsMap = "firewall-ips";
constexpr const char* kFirewallCheckChain = "firewall-check";
constexpr const char* kMarkMasqChain = "mark-for-masquerade";
constexpr const char* kMasqueradingChain = "masquerading";

// knftables.NameLengthMax minus the longest prefix ("firewall-" and the like fit in 16).
constexpr size_t kChainNameBaseMax = 256 - 16;

// Per-family words: which header fields, what the loopback range is.
struct FamilyWords {
  nft::Family family;
  Type addrType;
  Field saddr, daddr;
  IpNet loopback;
};

FamilyWords wordsFor(int family) {
  if (family == 6)
    return {nft::Family::kIp6, Type::kIpv6Addr, Field::kIp6Saddr, Field::kIp6Daddr,
            *IpNet::parse("::1/128")};
  return {nft::Family::kIp, Type::kIpv4Addr, Field::kIpSaddr, Field::kIpDaddr,
          *IpNet::parse("127.0.0.0/8")};
}

// 32-bit registers a field takes (an IPv6 address spans four).
uint32_t regsFor(Field f) {
  return (nft::fieldLength(f) + 3) / 4;
}

// Builds one rule's expressions in nft's reading order.
class RuleBuilder {
 public:
  RuleBuilder& match(Field f, const Datum& value, bool equal = true) {
    exprs_.push_back(nft::Load{f, nft::reg(0)});
    exprs_.push_back(nft::Cmp{equal, nft::reg(0), value});
    return *this;
  }
  // "ip saddr != 10.0.0.0/8"
  RuleBuilder& notIn(Field f, const IpNet& net) {
    exprs_.push_back(nft::Load{f, nft::reg(0)});
    if (net.prefix() < net.ip().bits()) {
      exprs_.push_back(nft::Bitwise{nft::reg(0), nft::reg(0), Datum::addr(maskOf(net)),
                                    Datum::addr(zeroOf(net))});
    }
    exprs_.push_back(nft::Cmp{false, nft::reg(0), Datum::addr(net.network())});
    return *this;
  }
  RuleBuilder& ctStateNew() {
    exprs_.push_back(nft::Load{Field::kCtState, nft::reg(0)});
    exprs_.push_back(nft::TestBits{nft::reg(0), 8 /* NF_CT_STATE_BIT(IP_CT_NEW) */});
    return *this;
  }
  RuleBuilder& local(Field fibType) { return match(fibType, Datum::integer(2 /* RTN_LOCAL */)); }
  // "<fields concatenated> vmap @map" or, without a verdict register, "<fields> @set".
  RuleBuilder& lookup(const std::vector<Field>& fields, const std::string& set, bool vmap) {
    uint32_t r = 0;
    for (Field f : fields) {
      exprs_.push_back(nft::Load{f, nft::reg(r)});
      r += regsFor(f);
    }
    exprs_.push_back(nft::Lookup{set, nft::reg(0),
                                 vmap ? std::optional<uint32_t>(nft::kRegVerdict) : std::nullopt});
    return *this;
  }
  RuleBuilder& expr(nft::Expr e) {
    exprs_.push_back(std::move(e));
    return *this;
  }
  Rule then(const Verdict& v, std::string comment = {}) {
    exprs_.push_back(nft::Immediate{v});
    return done(std::move(comment));
  }
  Rule done(std::string comment = {}) { return Rule{std::move(exprs_), std::move(comment)}; }

 private:
  static IpAddr maskOf(const IpNet& net) {
    IpAddr ones = net.ip().isV6() ? *IpAddr::parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
                                  : IpAddr::v4(0xffffffff);
    // masked(prefix) keeps the first `prefix` bits of all-ones: the netmask.
    return ones.masked(net.prefix());
  }
  static IpAddr zeroOf(const IpNet& net) {
    return net.ip().isV6() ? *IpAddr::parse("::") : IpAddr::v4(0);
  }
  std::vector<nft::Expr> exprs_;
};

Rule jumpRule(const std::string& chain, bool ctNew) {
  RuleBuilder b;
  if (ctNew) b.ctStateNew();
  return b.then(Verdict::jump(chain));
}

nft::Chain baseChain(const std::string& name, const char* type, nft::Hook hook, int prio) {
  return nft::Chain{name, nft::BaseChain{type, hook, prio}, {}};
}

std::string base32Hash8(const std::string& s) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  // 8 base32 characters are the first 40 bits.
  uint64_t bits = 0;
  for (int i = 0; i < 5; ++i)
    bits = (bits << 8) | digest[i];
  std::string out(8, '?');
  for (int i = 7; i >= 0; --i, bits >>= 5)
    out[static_cast<size_t>(i)] = kAlphabet[bits & 31];
  return out;
}

// kube-proxy's hashAndTruncate.
std::string hashAndTruncate(const std::string& name) {
  std::string out = base32Hash8(name) + "-" + name;
  if (out.size() > kChainNameBaseMax) out = out.substr(0, kChainNameBaseMax - 3) + "...";
  return out;
}

Datum protoDatum(Protocol p) {
  return Datum::proto(static_cast<uint8_t>(p));
}

nft::Element mapElement(nft::Key key, Verdict v, std::string comment = {}) {
  return nft::Element{std::move(key), std::move(v), std::move(comment)};
}

}  // namespace

std::string servicePortChainBase(const ServicePortName& n) {
  return hashAndTruncate(
      fmt::format("{}/{}/{}/{}", n.ns, n.name, protocolName(n.protocol), n.port));
}

std::string endpointChainBase(const ServicePortName& n, const Endpoint& e) {
  // Chain names can't hold ':' (IPv6 addresses): kube-proxy writes '.' instead.
  std::string ip = e.ip.str();
  std::replace(ip.begin(), ip.end(), ':', '.');
  return hashAndTruncate(fmt::format("{}/{}/{}/{}__{}/{}", n.ns, n.name, protocolName(n.protocol),
                                     n.port, ip, e.port));
}

nft::Table baseTable(int family, const ProxyConfig& config) {
  FamilyWords w = wordsFor(family);
  nft::Table t{w.family, config.tableName, {}, {}};
  // Filtering sees pre-DNAT destinations, so the filter chains run before DNAT.
  const int dstnat = -100, srcnat = 100;
  for (nft::Chain c : {
           baseChain("filter-prerouting", "filter", nft::Hook::kPrerouting, dstnat - 10),
           baseChain("filter-input", "filter", nft::Hook::kInput, dstnat - 10),
           baseChain("filter-forward", "filter", nft::Hook::kForward, dstnat - 10),
           baseChain("filter-output", "filter", nft::Hook::kOutput, dstnat - 10),
           baseChain("nat-prerouting", "nat", nft::Hook::kPrerouting, dstnat),
           baseChain("nat-output", "nat", nft::Hook::kOutput, dstnat),
           baseChain("nat-postrouting", "nat", nft::Hook::kPostrouting, srcnat),
       })
    t.chains.emplace(c.name, std::move(c));
  // reject is valid only in input, forward and output: endpoints-check hangs there.
  t.chain("filter-input").rules.push_back(jumpRule(kEndpointsCheckChain, true));
  t.chain("filter-forward").rules.push_back(jumpRule(kEndpointsCheckChain, true));
  t.chain("filter-output").rules.push_back(jumpRule(kEndpointsCheckChain, true));
  t.chain("filter-prerouting").rules.push_back(jumpRule(kFirewallCheckChain, true));
  t.chain("filter-output").rules.push_back(jumpRule(kFirewallCheckChain, true));
  t.chain("nat-output").rules.push_back(jumpRule(kServicesChain, false));
  t.chain("nat-prerouting").rules.push_back(jumpRule(kServicesChain, false));
  t.chain("nat-postrouting").rules.push_back(jumpRule(kMasqueradingChain, false));

  Datum mark = Datum::mark(config.masqueradeMark);
  t.chain(kMarkMasqChain)
      .rules.push_back(RuleBuilder()
                           .expr(nft::Load{Field::kMark, nft::reg(0)})
                           .expr(nft::Bitwise{nft::reg(0), nft::reg(0),
                                              Datum::mark(~config.masqueradeMark), mark})
                           .expr(nft::MetaSetMark{nft::reg(0)})
                           .done());
  nft::Chain& masq = t.chain(kMasqueradingChain);
  masq.rules.push_back(RuleBuilder()
                           .expr(nft::Load{Field::kMark, nft::reg(0)})
                           .expr(nft::Bitwise{nft::reg(0), nft::reg(0), mark, Datum::mark(0)})
                           .expr(nft::Cmp{true, nft::reg(0), Datum::mark(0)})
                           .then(Verdict::ret()));
  masq.rules.push_back(
      RuleBuilder()
          .expr(nft::Load{Field::kMark, nft::reg(0)})
          .expr(nft::Bitwise{nft::reg(0), nft::reg(0), Datum::mark(0xffffffff), mark})
          .expr(nft::MetaSetMark{nft::reg(0)})
          .done());
  masq.rules.push_back(RuleBuilder().expr(nft::Masquerade{true}).done());

  // A TCP client gets a reset, the rest an ICMP port unreachable: both fail fast.
  nft::Chain& reject = t.chain(kRejectChain);
  reject.rules.push_back(RuleBuilder()
                             .match(Field::kL4Proto, protoDatum(Protocol::kTcp))
                             .expr(nft::Reject{true})
                             .done());
  reject.rules.push_back(RuleBuilder().expr(nft::Reject{false}).done());

  std::vector<Type> addrProtoPort{w.addrType, Type::kInetProto, Type::kInetService};
  std::vector<Type> protoPort{Type::kInetProto, Type::kInetService};
  t.set({kServiceIpsMap,
         addrProtoPort,
         Type::kVerdict,
         std::nullopt,
         "ClusterIP, ExternalIP and LoadBalancer IP traffic",
         {}});
  t.set({kServiceNodePortsMap, protoPort, Type::kVerdict, std::nullopt, "NodePort traffic", {}});
  t.set({kNoEndpointServicesMap,
         addrProtoPort,
         Type::kVerdict,
         std::nullopt,
         "vmap to drop or reject packets to services with no endpoints",
         {}});
  t.set({kNoEndpointNodePortsMap,
         protoPort,
         Type::kVerdict,
         std::nullopt,
         "vmap to drop or reject packets to service nodeports with no endpoints",
         {}});
  t.set({kFirewallIpsMap,
         addrProtoPort,
         Type::kVerdict,
         std::nullopt,
         "destinations that are subject to LoadBalancerSourceRanges",
         {}});

  // NodePorts: on every local address but loopback, or on the listed ones.
  std::vector<IpAddr> npIps;
  std::copy_if(config.nodePortAddresses.begin(), config.nodePortAddresses.end(),
               std::back_inserter(npIps), [&](const IpAddr& a) { return a.family() == family; });
  auto nodePortMatch = [&](RuleBuilder b) {
    if (config.nodePortAddresses.empty()) {
      b.local(Field::kFibDaddrType).notIn(w.daddr, w.loopback);
    } else {
      b.lookup({w.daddr}, kNodePortIpsSet, false);
    }
    return b;
  };
  if (!config.nodePortAddresses.empty()) {
    nft::Set& s = t.set({kNodePortIpsSet,
                         {w.addrType},
                         std::nullopt,
                         std::nullopt,
                         "IPs that accept NodePort traffic",
                         {}});
    for (const IpAddr& a : npIps)
      s.add(nft::Element{{Datum::addr(a)}, std::nullopt, {}});
  }

  std::vector<Field> addrProtoPortFields{w.daddr, Field::kL4Proto, Field::kThDport};
  std::vector<Field> protoPortFields{Field::kL4Proto, Field::kThDport};
  nft::Chain& check = t.chain(kEndpointsCheckChain);
  check.rules.push_back(
      RuleBuilder().lookup(addrProtoPortFields, kNoEndpointServicesMap, true).done());
  check.rules.push_back(
      nodePortMatch(RuleBuilder()).lookup(protoPortFields, kNoEndpointNodePortsMap, true).done());
  t.chain(kFirewallCheckChain)
      .rules.push_back(RuleBuilder().lookup(addrProtoPortFields, kFirewallIpsMap, true).done());
  nft::Chain& services = t.chain(kServicesChain);
  services.rules.push_back(RuleBuilder().lookup(addrProtoPortFields, kServiceIpsMap, true).done());
  services.rules.push_back(
      nodePortMatch(RuleBuilder()).lookup(protoPortFields, kServiceNodePortsMap, true).done());
  return t;
}

namespace {

// The rules of one Service port, as proxier.go's syncProxyRules writes them.
class ServicePortWriter {
 public:
  ServicePortWriter(const ServicePort& port, const NodeInfo& node, const ProxyConfig& config)
      : port_(port), config_(config), words_(wordsFor(port.family)), node_(node) {
    std::string base = servicePortChainBase(port.name);
    clusterChain_ = "service-" + base;
    localChain_ = "local-" + base;
    externalChain_ = "external-" + base;
    firewallChain_ = "firewall-" + base;
  }

  ServicePortRules write(const std::vector<Endpoint>& endpoints) {
    CategorizedEndpoints eps = categorizeEndpoints(endpoints, port_, node_, config_.topologyHints);
    bool usesCluster = !eps.cluster.empty() && port_.usesClusterEndpoints();
    bool usesLocal = !eps.local.empty() && port_.usesLocalEndpoints();

    std::string internalChain = clusterChain_;
    bool hasInternal = eps.hasAny;
    if (port_.internalPolicyLocal) {
      internalChain = localChain_;
      hasInternal = !eps.local.empty();
    }
    std::string externalPolicyChain = clusterChain_;
    bool hasExternal = eps.hasAny;
    if (port_.externalPolicyLocal) {
      externalPolicyChain = localChain_;
      hasExternal = !eps.local.empty();
    }
    // Needed even without external endpoints, for the short-circuit of local traffic.
    bool usesExternal = eps.hasAny && port_.externallyAccessible();

    // No endpoints at all: reject. A Local policy with no local endpoint: drop what is not
    // short-circuited.
    Verdict internalFilter = eps.hasAny ? Verdict::drop() : Verdict::goTo(kRejectChain);
    Verdict externalFilter = internalFilter;

    std::string comment = port_.name.str();
    Datum proto = protoDatum(port_.name.protocol);
    Datum port = Datum::port(port_.port);
    auto ipKey = [&](const IpAddr& ip) { return nft::Key{Datum::addr(ip), proto, port}; };

    if (hasInternal) {
      element(kServiceIpsMap, ipKey(port_.clusterIp), Verdict::goTo(internalChain));
    } else {
      element(kNoEndpointServicesMap, ipKey(port_.clusterIp), internalFilter, comment);
    }
    for (const IpAddr& ip : port_.externalIps) {
      if (eps.hasAny) element(kServiceIpsMap, ipKey(ip), Verdict::goTo(externalChain_));
      if (!hasExternal) element(kNoEndpointServicesMap, ipKey(ip), externalFilter, comment);
    }
    bool usesFirewall = !port_.loadBalancerIps.empty() && !port_.loadBalancerSourceRanges.empty();
    for (const IpAddr& ip : port_.loadBalancerIps) {
      if (eps.hasAny) element(kServiceIpsMap, ipKey(ip), Verdict::goTo(externalChain_));
      if (usesFirewall) element(kFirewallIpsMap, ipKey(ip), Verdict::goTo(firewallChain_), comment);
      if (!hasExternal) element(kNoEndpointServicesMap, ipKey(ip), externalFilter, comment);
    }
    if (usesFirewall) writeFirewall();
    if (port_.nodePort != 0) {
      nft::Key key{proto, Datum::port(port_.nodePort)};
      if (eps.hasAny) element(kServiceNodePortsMap, key, Verdict::goTo(externalChain_));
      if (!hasExternal) element(kNoEndpointNodePortsMap, key, externalFilter, comment);
    }

    if (usesCluster) chain(clusterChain_);
    if (usesLocal) chain(localChain_);
    if (hasInternal) writeInternalMasquerade(internalChain);
    if (usesExternal) writeExternal(externalPolicyChain, hasExternal);
    if (port_.affinitySeconds) {
      for (const Endpoint& e : eps.allReachable) {
        out_.sets.push_back(nft::Set{"affinity-" + endpointChainBase(port_.name, e),
                                     {words_.addrType},
                                     std::nullopt,
                                     uint64_t{*port_.affinitySeconds} * 1000,
                                     {},
                                     {}});
      }
    }
    if (usesCluster) writeEndpointChoice(clusterChain_, eps.cluster);
    if (usesLocal) writeEndpointChoice(localChain_, eps.local);
    for (const Endpoint& e : eps.allReachable)
      writeEndpoint(e);
    return std::move(out_);
  }

 private:
  nft::Chain& chain(const std::string& name) {
    for (nft::Chain& c : out_.chains) {
      if (c.name == name) return c;
    }
    out_.chains.push_back(nft::Chain{name, std::nullopt, {}});
    return out_.chains.back();
  }
  void element(const char* map, nft::Key key, Verdict v, std::string comment = {}) {
    out_.elements.emplace_back(map, mapElement(std::move(key), std::move(v), std::move(comment)));
  }

  // "ip daddr <clusterIP> tcp dport <port> [ip saddr != <cluster CIDR>] jump mark-for-masquerade"
  void writeInternalMasquerade(const std::string& internalChain) {
    const IpNet* cidr = nullptr;
    for (const IpNet& n : config_.clusterCidrs) {
      if (n.ip().family() == port_.family && cidr == nullptr) cidr = &n;
    }
    if (!config_.masqueradeAll && cidr == nullptr) return;
    RuleBuilder b;
    b.match(words_.daddr, Datum::addr(port_.clusterIp))
        .match(Field::kL4Proto, protoDatum(port_.name.protocol))
        .match(Field::kThDport, Datum::port(port_.port));
    if (!config_.masqueradeAll) b.notIn(words_.saddr, *cidr);
    chain(internalChain).rules.push_back(b.then(Verdict::jump(kMarkMasqChain)));
  }

  void writeExternal(const std::string& policyChain, bool hasExternal) {
    nft::Chain& ext = chain(externalChain_);
    if (!port_.externalPolicyLocal) {
      // The endpoint may be on another node: masquerade so replies come back through us.
      ext.rules.push_back(RuleBuilder().then(Verdict::jump(kMarkMasqChain)));
    } else {
      for (const IpNet& n : config_.clusterCidrs) {
        if (n.ip().family() != port_.family) continue;
        // Pods going to an external address of the Service act as if from outside the node,
        // but bypass the traffic policy (as if they went out to a load balancer and back).
        ext.rules.push_back(
            inNet(words_.saddr, n).then(Verdict::goTo(clusterChain_), "short-circuit pod traffic"));
        break;
      }
      ext.rules.push_back(RuleBuilder()
                              .local(Field::kFibSaddrType)
                              .then(Verdict::jump(kMarkMasqChain), "masquerade local traffic"));
      ext.rules.push_back(RuleBuilder()
                              .local(Field::kFibSaddrType)
                              .then(Verdict::goTo(clusterChain_), "short-circuit local traffic"));
    }
    if (hasExternal) ext.rules.push_back(RuleBuilder().then(Verdict::goTo(policyChain)));
  }

  // "ip saddr 10.0.0.0/8"
  static RuleBuilder inNet(Field f, const IpNet& net) {
    RuleBuilder b;
    b.notIn(f, net);
    // notIn built "!= network": the same expressions with an equality.
    Rule r = b.done();
    std::get<nft::Cmp>(r.exprs.back()).equal = true;
    RuleBuilder out;
    for (nft::Expr& e : r.exprs)
      out.expr(std::move(e));
    return out;
  }

  // loadBalancerSourceRanges: "ip saddr != { ranges } drop" as one return per range and a
  // drop (ranges are few; an interval set can replace them without changing the layout).
  void writeFirewall() {
    nft::Chain& c = chain(firewallChain_);
    for (const IpNet& range : port_.loadBalancerSourceRanges)
      c.rules.push_back(inNet(words_.saddr, range).then(Verdict::ret()));
    c.rules.push_back(RuleBuilder().then(Verdict::drop()));
  }

  // Affinity first (a client goes back to its endpoint), then numgen over the endpoints.
  void writeEndpointChoice(const std::string& policyChain, const std::vector<Endpoint>& eps) {
    nft::Chain& c = chain(policyChain);
    if (port_.affinitySeconds) {
      for (const Endpoint& e : eps) {
        std::string base = endpointChainBase(port_.name, e);
        c.rules.push_back(RuleBuilder()
                              .lookup({words_.saddr}, "affinity-" + base, false)
                              .then(Verdict::goTo("endpoint-" + base)));
      }
    }
    c.rules.push_back(RuleBuilder()
                          .expr(nft::Numgen{static_cast<uint32_t>(eps.size()), nft::reg(0)})
                          .expr(nft::Lookup{policyChain, nft::reg(0), nft::kRegVerdict})
                          .done());
    nft::Set map{policyChain, {Type::kInteger}, Type::kVerdict, std::nullopt, {}, {}};
    map.numgenModulus = static_cast<uint32_t>(eps.size());
    for (size_t i = 0; i < eps.size(); ++i) {
      map.add(mapElement({Datum::integer(static_cast<uint32_t>(i))},
                         Verdict::goTo("endpoint-" + endpointChainBase(port_.name, eps[i]))));
    }
    out_.sets.push_back(std::move(map));
  }

  void writeEndpoint(const Endpoint& e) {
    std::string base = endpointChainBase(port_.name, e);
    nft::Chain& c = chain("endpoint-" + base);
    // Hairpin: a pod reaching itself through the Service must see the node as the source.
    c.rules.push_back(
        RuleBuilder().match(words_.saddr, Datum::addr(e.ip)).then(Verdict::jump(kMarkMasqChain)));
    if (port_.affinitySeconds) {
      c.rules.push_back(RuleBuilder()
                            .expr(nft::Load{words_.saddr, nft::reg(0)})
                            .expr(nft::DynsetUpdate{"affinity-" + base, nft::reg(0)})
                            .done());
    }
    uint32_t portReg = nft::reg(regsFor(words_.daddr));
    c.rules.push_back(RuleBuilder()
                          .match(Field::kL4Proto, protoDatum(port_.name.protocol))
                          .expr(nft::LoadConst{Datum::addr(e.ip), nft::reg(0)})
                          .expr(nft::LoadConst{Datum::port(e.port), portReg})
                          .expr(nft::Dnat{words_.family, nft::reg(0), portReg})
                          .done());
  }

  const ServicePort& port_;
  const ProxyConfig& config_;
  FamilyWords words_;
  const NodeInfo& node_;
  std::string clusterChain_, localChain_, externalChain_, firewallChain_;
  ServicePortRules out_;
};

}  // namespace

ServicePortRules computeServicePortRules(const ServicePort& port,
                                         const std::vector<Endpoint>& endpoints,
                                         const NodeInfo& node, const ProxyConfig& config) {
  return ServicePortWriter(port, node, config).write(endpoints);
}

void addServicePortRules(nft::Table& table, const ServicePortRules& rules) {
  for (const nft::Chain& c : rules.chains)
    table.chains.insert_or_assign(c.name, c);
  for (const nft::Set& s : rules.sets)
    table.sets.insert_or_assign(s.name, s);
  for (const auto& [map, e] : rules.elements)
    table.sets.at(map).add(e);
}

std::vector<nft::Table> computeRuleset(const std::vector<ServicePort>& ports,
                                       const EndpointsMap& endpoints, const NodeInfo& node,
                                       const ProxyConfig& config) {
  std::vector<nft::Table> tables{baseTable(4, config), baseTable(6, config)};
  static const std::vector<Endpoint> kNone;
  for (const ServicePort& p : ports) {
    auto it = endpoints.find(EndpointsKey{p.name, p.family});
    const std::vector<Endpoint>& eps = it == endpoints.end() ? kNone : it->second;
    addServicePortRules(tables[p.family == 6 ? 1 : 0],
                        computeServicePortRules(p, eps, node, config));
  }
  return tables;
}

}  // namespace berth::proxy
