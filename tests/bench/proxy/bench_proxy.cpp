// berth-proxy's nftables path beside `nft -f` of the kube-proxy-nftables-style ruleset, in the
// same run, each in a network namespace of its own (never the host's ruleset): a full sync from
// empty and one Service changed, at each size of BENCH_SIZES Services with 2-10 endpoints each.
// berth: computeRuleset's parts, planChanges, one NftWriter transaction; the same cold start split
// into transactions (splitTransactions); one endpoint changed, planned over the whole tables and
// over the one Service port (planPartChanges). The peer: the text kube-proxy hands to `nft -f`
// (anonymous numgen vmaps per Service), then the partial-sync text of the same change.
// Each size runs in a child process, so its peak RSS is that size's (the bench holds several
// copies of the model); beside it, the heap one copy of the tables takes. Prints numbers, ratios
// and the targets; never asserts on time. Root and nft; exit 77 (skip) otherwise.
// Environment: BENCH_SIZES (default 1000,5000,10000), BENCH_NFT_MAX (largest size the peer runs
// at, default 10000), BENCH_TXN_MESSAGES (messages per split transaction, default 20000),
// BENCH_ONE_ROUNDS (the change is sent, undone and redone this many times; median; default 5).
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/netns.h"
#include "common/nft_plan.h"
#include "common/nft_writer.h"
#include "proxy/ruleset.h"
#include "tests/bench/tools/bench_util.h"

namespace {

using namespace berth;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

using berth::bench::envInt;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double systemSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_stime.tv_sec) + u.ru_stime.tv_usec / 1e6;
}

int run(const std::string& command) {
  return std::system(command.c_str());
}

// A network namespace of the bench's own, deleted on scope exit.
class BenchNetns {
 public:
  explicit BenchNetns(const std::string& tag)
      : name_(fmt::format("berth-bp-{}-{}", tag, ::getpid())) {
    ok_ = run("ip netns add " + name_) == 0;
  }
  ~BenchNetns() {
    if (ok_) run("ip netns del " + name_);
  }
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }

 private:
  std::string name_;
  bool ok_ = false;
};

// Service i: ClusterIP 10.96.x.y port 80, 2 + i % 9 endpoints on 10.(64+k).x.y:8080.
std::string clusterIp(int i) {
  return fmt::format("10.96.{}.{}", i / 250, i % 250 + 1);
}
std::string endpointIp(int i, int k) {
  return fmt::format("10.{}.{}.{}", 64 + k, i / 250, i % 250 + 1);
}
int endpointCount(int i) {
  return 2 + i % 9;
}

struct Model {
  std::vector<proxy::ServicePort> ports;
  proxy::EndpointsMap endpoints;
};

Model services(int n) {
  Model m;
  for (int i = 0; i < n; ++i) {
    Json svc = {
        {"metadata", {{"namespace", "bench"}, {"name", fmt::format("s{}", i)}}},
        {"spec", {{"clusterIP", clusterIp(i)}, {"ports", {{{"name", "http"}, {"port", 80}}}}}}};
    auto p = proxy::servicePortsOf(svc);
    if (p) m.ports.insert(m.ports.end(), p->begin(), p->end());
    Json eps = Json::array();
    for (int k = 0; k < endpointCount(i); ++k)
      eps.push_back({{"addresses", {endpointIp(i, k)}}, {"nodeName", "other"}});
    Json slice = {{"metadata",
                   {{"namespace", "bench"},
                    {"labels", {{"kubernetes.io/service-name", fmt::format("s{}", i)}}}}},
                  {"addressType", "IPv4"},
                  {"ports", {{{"name", "http"}, {"port", 8080}}}},
                  {"endpoints", eps}};
    (void)proxy::addEndpointSlice(slice, m.endpoints);
  }
  return m;
}

// ---- The peer: kube-proxy's nftables text for the same Services. ----

std::string kubeChain(const char* kind, int i) {
  return fmt::format("{}-{:08X}-bench/s{}/tcp/http", kind, static_cast<unsigned>(i) * 2654435761u,
                     i);
}
std::string kubeEndpointChain(int i, const std::string& ip) {
  return kubeChain("endpoint", i) + "__" + ip + "/8080";
}

std::string kubeServiceRules(int i, const std::vector<std::string>& ips) {
  std::string svc = kubeChain("service", i);
  std::string vmap;
  for (size_t k = 0; k < ips.size(); ++k)
    vmap += fmt::format("{}{} : goto {}", k ? ", " : "", k, kubeEndpointChain(i, ips[k]));
  return fmt::format(
      "add rule ip kube-proxy {0} ip daddr {1} tcp dport 80 ip saddr != 10.64.0.0/10 jump "
      "mark-for-masquerade\n"
      "add rule ip kube-proxy {0} numgen random mod {2} vmap {{ {3} }}\n",
      svc, clusterIp(i), ips.size(), vmap);
}

std::string kubeEndpoint(int i, const std::string& ip) {
  std::string ep = kubeEndpointChain(i, ip);
  return fmt::format(
      "add chain ip kube-proxy {0}\n"
      "add rule ip kube-proxy {0} ip saddr {1} jump mark-for-masquerade\n"
      "add rule ip kube-proxy {0} meta l4proto tcp dnat to {1}:8080\n",
      ep, ip);
}

std::string kubeProxyRuleset(int n) {
  std::string out =
      "add table ip kube-proxy\n"
      "add chain ip kube-proxy mark-for-masquerade\n"
      "add rule ip kube-proxy mark-for-masquerade meta mark set meta mark or 0x4000\n"
      "add chain ip kube-proxy masquerading { type nat hook postrouting priority srcnat; }\n"
      "add rule ip kube-proxy masquerading meta mark & 0x4000 == 0 return\n"
      "add rule ip kube-proxy masquerading meta mark set meta mark xor 0x4000\n"
      "add rule ip kube-proxy masquerading masquerade fully-random\n"
      "add chain ip kube-proxy services\n"
      "add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority dstnat; }\n"
      "add rule ip kube-proxy nat-prerouting jump services\n"
      "add chain ip kube-proxy nat-output { type nat hook output priority -100; }\n"
      "add rule ip kube-proxy nat-output jump services\n"
      "add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict; "
      "}\n"
      "add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips\n";
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> ips;
    for (int k = 0; k < endpointCount(i); ++k) {
      ips.push_back(endpointIp(i, k));
      out += kubeEndpoint(i, ips.back());
    }
    out += fmt::format("add chain ip kube-proxy {}\n", kubeChain("service", i));
    out += kubeServiceRules(i, ips);
    out += fmt::format("add element ip kube-proxy service-ips {{ {} . tcp . 80 : goto {} }}\n",
                       clusterIp(i), kubeChain("service", i));
  }
  return out;
}

// kube-proxy's partial sync after endpoint 1 of Service i became `ip`: the new endpoint chain,
// the Service chain rewritten (the old chain is deleted by a later sync).
std::string kubeProxyChange(int i, const std::string& ip) {
  std::vector<std::string> ips;
  for (int k = 0; k < endpointCount(i); ++k)
    ips.push_back(k == 1 ? ip : endpointIp(i, k));
  return kubeEndpoint(i, ip) +
         fmt::format("flush chain ip kube-proxy {}\n", kubeChain("service", i)) +
         kubeServiceRules(i, ips);
}

// Wall ms of `nft -f` of `text` in the namespace, or -1 when nft fails.
double nftFile(const BenchNetns& ns, const std::string& text, const std::string& file) {
  std::ofstream(file) << text;
  auto start = Clock::now();
  int rc = run(fmt::format("ip netns exec {} nft -f {}", ns.name(), file));
  double ms = msSince(start);
  std::remove(file.c_str());
  return rc == 0 ? ms : -1;
}

// ---- berth ----

struct Parts {
  nft::Table base;                                                  // the ip table without Services
  std::map<proxy::ServicePortName, proxy::ServicePortRules> rules;  // per Service port
};

nft::PartView view(const proxy::ServicePortRules& r) {
  return {r.chains, r.sets, r.elements};
}

std::vector<nft::Table> assemble(const Parts& parts) {
  std::vector<nft::Table> tables{parts.base};
  for (const auto& [name, r] : parts.rules)
    proxy::addServicePortRules(tables[0], r);
  return tables;
}

// What-if: the same parts with each Service's endpoint map replaced by one rule per endpoint
// (`numgen random mod N-i == 0 goto endpoint-i`, iptables' statistic chain in nft): no set per
// Service, so the kernel's per-table set list (searched by name on every set, element and
// lookup message) stays short.
void withoutEndpointMaps(proxy::ServicePortRules& r) {
  for (auto set = r.sets.begin(); set != r.sets.end();) {
    if (set->numgenModulus == 0) {
      ++set;
      continue;
    }
    for (nft::Chain& c : r.chains) {
      for (auto rule = c.rules.begin(); rule != c.rules.end(); ++rule) {
        auto* lookup = std::get_if<nft::Lookup>(&rule->exprs.back());
        if (lookup == nullptr || lookup->set != set->name) continue;
        std::vector<nft::Rule> picks;
        uint32_t n = static_cast<uint32_t>(set->elements.size()), i = 0;
        for (const auto& [key, e] : set->elements) {
          nft::Rule pick;
          if (i + 1 < n) {
            pick.exprs = {nft::Numgen{n - i, nft::reg(0)},
                          nft::Cmp{true, nft::reg(0), nft::Datum::integer(0)}};
          }
          pick.exprs.push_back(nft::Immediate{*e.verdict});
          picks.push_back(std::move(pick));
          ++i;
        }
        rule = c.rules.erase(rule);
        c.rules.insert(rule, picks.begin(), picks.end());
        break;
      }
    }
    set = r.sets.erase(set);
  }
}

struct Numbers {
  double computeMs = 0, planMs = 0, sendMs = 0, sendSysS = 0, noMapsSendMs = 0;
  double splitMs = 0, splitMaxTxnMs = 0;
  size_t txns = 0;
  double fullPlanOneMs = 0, partPlanOneUs = 0, partSendOneMs = 0;
  double nftFullMs = -1, nftOneMs = -1;
  long peakRssKiB = 0;
  double tableMiB = 0;  // heap of one copy of the tables
};

int failed(const std::string& what) {
  std::fprintf(stderr, "bench.proxy: %s\n", what.c_str());
  return 1;
}

// One size, in a child process; results go back through `out`.
int benchSize(int n, FILE* out) {
  Model model = services(n);
  proxy::ProxyConfig config;
  config.clusterCidrs = {*IpNet::parse("10.64.0.0/10")};
  proxy::NodeInfo node{"node", ""};
  Numbers r;

  auto start = Clock::now();
  Parts parts{proxy::baseTable(4, config), {}};
  for (const proxy::ServicePort& p : model.ports)
    parts.rules[p.name] = proxy::computeServicePortRules(
        p, model.endpoints.at(proxy::EndpointsKey{p.name, 4}), node, config);
  size_t heap = ::mallinfo2().uordblks;
  std::vector<nft::Table> want = assemble(parts);
  r.computeMs = msSince(start);
  r.tableMiB = static_cast<double>(::mallinfo2().uordblks - heap) / (1 << 20);

  // Full sync from empty, one transaction.
  BenchNetns ns("full");
  auto nsh = NetNs::open(ns.path());
  if (!ns.ok() || !nsh) return failed("network namespace");
  auto writer = inNetNs(*nsh, [] { return nft::NftWriter::open(); });
  if (!writer) return failed(writer.error().message());
  start = Clock::now();
  std::vector<nft::Op> ops = nft::planChanges(want, {});
  r.planMs = msSince(start);
  double sys = systemSeconds();
  start = Clock::now();
  if (Status s = (*writer)->send(ops); !s) return failed("full sync: " + s.error().message());
  r.sendMs = msSince(start);
  r.sendSysS = systemSeconds() - sys;

  // One endpoint of one Service changed: over the whole tables, and over its part.
  int changed = n / 2;
  const proxy::ServicePort& port = model.ports[static_cast<size_t>(changed)];
  std::vector<proxy::Endpoint> eps = model.endpoints.at(proxy::EndpointsKey{port.name, 4});
  eps[1].ip = *IpAddr::parse("10.127.255.254");
  std::string newIp = "10.127.255.254";
  Parts after = parts;
  after.rules[port.name] = proxy::computeServicePortRules(port, eps, node, config);
  std::vector<nft::Table> wantAfter = assemble(after);
  start = Clock::now();
  std::vector<nft::Op> full = nft::planChanges(wantAfter, want);
  r.fullPlanOneMs = msSince(start);
  start = Clock::now();
  std::vector<nft::Op> one =
      nft::planPartChanges(want[0], view(after.rules[port.name]), view(parts.rules[port.name]));
  r.partPlanOneUs = msSince(start) * 1000;
  // The change, then back and forth BENCH_ONE_ROUNDS times: the median send.
  std::vector<nft::Op> back =
      nft::planPartChanges(want[0], view(parts.rules[port.name]), view(after.rules[port.name]));
  std::vector<double> sends;
  for (int i = 0; i < 1 + 2 * envInt("BENCH_ONE_ROUNDS", 5); ++i) {
    start = Clock::now();
    if (Status s = (*writer)->send(i % 2 == 0 ? one : back); !s)
      return failed("one change: " + s.error().message());
    sends.push_back(msSince(start));
  }
  std::sort(sends.begin(), sends.end());
  r.partSendOneMs = sends[sends.size() / 2];
  if (full.size() != one.size()) std::fprintf(stderr, "the part plan differs from the table's\n");

  // The same cold start, split into transactions.
  {
    BenchNetns split("split");
    auto sh = NetNs::open(split.path());
    if (!split.ok() || !sh) return failed("network namespace");
    auto w = inNetNs(*sh, [] { return nft::NftWriter::open(); });
    if (!w) return failed(w.error().message());
    start = Clock::now();
    auto absent = (*w)->hasTable(nft::Family::kIp, config.tableName);
    auto txns = nft::splitTransactions(
        ops, static_cast<size_t>(envInt("BENCH_TXN_MESSAGES", 20000)), absent && !*absent);
    for (const auto& txn : txns) {
      auto t = Clock::now();
      if (Status s = (*w)->send(txn); !s) return failed("split: " + s.error().message());
      r.splitMaxTxnMs = std::max(r.splitMaxTxnMs, msSince(t));
    }
    r.splitMs = msSince(start);
    r.txns = txns.size();
  }

  // The what-if layout, one transaction.
  {
    Parts noMaps = parts;
    for (auto& [name, rules] : noMaps.rules)
      withoutEndpointMaps(rules);
    std::vector<nft::Table> tables = assemble(noMaps);
    BenchNetns alt("nomaps");
    auto ah = NetNs::open(alt.path());
    if (!alt.ok() || !ah) return failed("network namespace");
    auto w = inNetNs(*ah, [] { return nft::NftWriter::open(); });
    if (!w) return failed(w.error().message());
    start = Clock::now();
    if (Status s = (*w)->send(nft::planChanges(tables, {})); !s)
      return failed("no endpoint maps: " + s.error().message());
    r.noMapsSendMs = msSince(start);
  }

  // The peer.
  if (n <= envInt("BENCH_NFT_MAX", 10000)) {
    BenchNetns peer("nft");
    if (!peer.ok()) return failed("network namespace");
    std::string file = fmt::format("/tmp/berth-bench-proxy-{}.nft", ::getpid());
    r.nftFullMs = nftFile(peer, kubeProxyRuleset(n), file);
    r.nftOneMs = nftFile(peer, kubeProxyChange(changed, newIp), file);
  }

  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  r.peakRssKiB = u.ru_maxrss;
  std::fwrite(&r, sizeof r, 1, out);
  std::fflush(out);  // the child leaves with _exit
  return 0;
}

std::string ratio(double ours, double theirs) {
  return ours > 0 && theirs > 0 ? fmt::format("{:.1f}x", theirs / ours) : "n/a";
}

}  // namespace

int main() {
  if (::geteuid() != 0) {
    std::puts("bench.proxy: needs root (network namespaces); skipped");
    return 77;
  }
  if (run("command -v nft >/dev/null") != 0) {
    std::puts("bench.proxy: needs the nft CLI (the peer); skipped");
    return 77;
  }
  std::vector<int> sizes;
  std::stringstream list(std::getenv("BENCH_SIZES") ? std::getenv("BENCH_SIZES")
                                                    : "1000,5000,10000");
  for (std::string s; std::getline(list, s, ',');)
    sizes.push_back(std::atoi(s.c_str()));

  std::puts(
      "Services x 2-10 endpoints, ip table. berth: compute + plan + send (one transaction); "
      "split: the same cold start in transactions (max one); one change: planned over the whole "
      "tables vs over its Service port, then sent. nft: kube-proxy's text through `nft -f`.");
  std::puts(
      "services | compute ms | plan ms | send ms (sys s) | split ms (txns, max txn ms) | "
      "send ms without per-Service maps | "
      "nft -f ms | full vs nft | one: table plan ms | part plan us | send ms | nft -f ms | one "
      "vs nft | peak RSS MiB (one copy of the tables)");
  int failures = 0;
  for (int n : sizes) {
    std::fflush(stdout);
    FILE* tmp = std::tmpfile();
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(benchSize(n, tmp));
    int status = 0;
    ::waitpid(pid, &status, 0);
    Numbers r;
    std::rewind(tmp);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || std::fread(&r, sizeof r, 1, tmp) != 1) {
      std::printf("%d | failed\n", n);
      ++failures;
      std::fclose(tmp);
      continue;
    }
    std::fclose(tmp);
    double berthFull = r.computeMs + r.planMs + r.sendMs;
    std::string nftFull = r.nftFullMs < 0 ? "n/a" : fmt::format("{:.0f}", r.nftFullMs);
    std::string nftOne = r.nftOneMs < 0 ? "n/a" : fmt::format("{:.1f}", r.nftOneMs);
    std::printf("%s\n",
                fmt::format("{} | {:.0f} | {:.0f} | {:.0f} ({:.2f}) | {:.0f} ({}, {:.0f}) | {:.0f} "
                            "| {} | {} | {:.1f} "
                            "| {:.0f} | {:.2f} | {} | {} | {:.1f} ({:.1f})",
                            n, r.computeMs, r.planMs, r.sendMs, r.sendSysS, r.splitMs, r.txns,
                            r.splitMaxTxnMs, r.noMapsSendMs, nftFull, ratio(berthFull, r.nftFullMs),
                            r.fullPlanOneMs, r.partPlanOneUs, r.partSendOneMs, nftOne,
                            ratio(r.partPlanOneUs / 1000 + r.partSendOneMs, r.nftOneMs),
                            r.peakRssKiB / 1024.0, r.tableMiB)
                    .c_str());
  }
  std::puts(
      "Targets (issue 15): full sync 5k <= 500 ms, 50k <= 5 s; one Service changed among 50k "
      "<= 5 ms; RSS <= 64 MiB at 50k.");
  return failures == 0 ? 0 : 1;
}
