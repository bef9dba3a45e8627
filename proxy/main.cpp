// berth-proxy: the node's service proxy, kube-proxy's nftables mode with its flags and
// KubeProxyConfiguration file (proxy/proxy_options.h). main maps them onto the Proxier and waits
// for a signal.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "common/log.h"
#include "common/termination_signals.h"
#include "kubeapi/kubeconfig.h"
#include "kubeapi/node_name.h"
#include "proxy/proxier.h"

namespace {

using namespace berth;
using namespace berth::proxy;

// The local addresses inside --nodeport-addresses' CIDRs ("primary" and none: every local
// address, which the ruleset matches with `fib daddr type local`). Read once at start.
std::vector<IpAddr> nodePortAddresses(const std::vector<std::string>& cidrs) {
  std::vector<IpNet> nets;
  for (const std::string& c : cidrs) {
    if (auto net = IpNet::parse(c)) nets.push_back(*net);
  }
  std::vector<IpAddr> out;
  if (nets.empty()) return out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || (a->ifa_addr->sa_family != AF_INET && a->ifa_addr->sa_family != AF_INET6))
      continue;
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw =
        a->ifa_addr->sa_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr)
            : &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr;
    ::inet_ntop(a->ifa_addr->sa_family, raw, text, sizeof text);
    auto ip = IpAddr::parse(text);
    if (!ip) continue;
    if (std::any_of(nets.begin(), nets.end(), [&](const IpNet& n) { return n.contains(*ip); }) &&
        std::find(out.begin(), out.end(), *ip) == out.end())
      out.push_back(*ip);
  }
  ::freeifaddrs(list);
  return out;
}

int fatal(const std::string& message) {
  std::fprintf(stderr, "berth-proxy: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  auto loaded = loadProxyOptions(std::vector<std::string>(argv, argv + argc));
  if (!loaded) return fatal(loaded.error().message());
  if (!*loaded) return 0;  // --help
  const ProxyOptions& o = **loaded;
  const TerminationSignals signals;  // before any thread starts
  setupLogging({.name = "proxy", .level = o.verbose ? spdlog::level::debug : spdlog::level::info});
  if (o.kubeconfig.empty())
    return fatal("--kubeconfig (or clientConnection.kubeconfig) is required");

  ProxierOptions po;
  po.nodeName = kubeapi::nodeNameOrHostname(o.hostnameOverride);
  po.config.clusterCidrs = o.clusterCidrs;
  po.config.masqueradeAll = o.masqueradeAll;
  po.config.masqueradeMark = 1u << o.masqueradeBit;
  po.syncPeriod = o.syncPeriod;
  po.minSyncPeriod = o.minSyncPeriod;
  po.configSyncPeriod = o.configSyncPeriod;
  po.healthz = *parseBindAddress(o.healthzBindAddress);  // checked by loadProxyOptions
  po.metrics = *parseBindAddress(o.metricsBindAddress);

  auto kubeconfig = kubeapi::Kubeconfig::load(o.kubeconfig);
  if (!kubeconfig) return fatal(kubeconfig.error().message());
  auto rest = kubeconfig->restConfig();
  if (!rest) return fatal(rest.error().context(o.kubeconfig).message());
  rest->qps = o.apiQps;
  rest->burst = o.apiBurst;
  rest->userAgent = "berth-proxy/" BERTH_VERSION;
  auto api = kubeapi::RestClient::create(*rest);
  if (!api) return fatal(api.error().message());

  auto writer = nft::NftWriter::open();
  if (!writer) return fatal(writer.error().message());
  auto monitor = NftMonitor::open(po.config.tableName);
  if (!monitor) return fatal(monitor.error().message());
  po.config.nodePortAddresses = nodePortAddresses(o.nodePortAddresses);

  const std::string node = po.nodeName;
  Proxier proxier(*api, std::move(*writer), std::move(*monitor), std::move(po));
  if (auto st = proxier.start(); !st) return fatal(st.error().message());
  spdlog::info("berth-proxy: node {} [healthz port={} metrics port={}]", node,
               proxier.healthzPort(), proxier.metricsPort());
  const int sig = signals.wait();
  spdlog::info("berth-proxy: signal {}, shutting down", sig);
  proxier.stop();
  return 0;
}
