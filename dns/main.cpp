// berth-dns: cluster DNS on its own (`berth up` runs the same ClusterDns in its process):
// Unbound answering the cluster's records from the API and forwarding the rest.
#include <cstdio>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/log.h"
#include "common/termination_signals.h"
#include "dns/cluster_dns.h"
#include "kubeapi/informer_factory.h"
#include "kubeapi/kubeconfig.h"
#include "kubeapi/rest_client.h"

namespace {

using namespace berth;

int fatal(const std::string& message) {
  std::fprintf(stderr, "berth-dns: %s\n", message.c_str());
  return 1;
}

// "127.0.0.1:53", "[fd00::10]:53" -> (address, port).
bool splitHostPort(const std::string& text, std::string& host, int& port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) return false;
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  try {
    size_t used = 0;
    port = std::stoi(text.substr(colon + 1), &used);
    return used == text.size() - colon - 1 && port > 0 && port < 65536 && !host.empty();
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"berth-dns: cluster DNS (Unbound driven by the API's Services and EndpointSlices)"};
  std::string kubeconfigPath, listen = "127.0.0.1:53";
  dns::ClusterDnsOptions o;
  bool verbose = false;
  app.add_option("--kubeconfig", kubeconfigPath, "kubeconfig of the API server")->required();
  app.add_option("--listen", listen, "address:port to answer on ([v6]:port for IPv6)")
      ->capture_default_str();
  app.add_option("--cluster-domain", o.domain)->capture_default_str();
  app.add_option("--resolv-conf", o.resolvConf, "the upstream resolvers")->capture_default_str();
  app.add_option("--state-dir", o.stateDir, "rendered configuration, control socket, log")
      ->capture_default_str();
  app.add_option("--allow-from", o.allowFrom, "client CIDRs answered (default: all)")
      ->delimiter(',');
  app.add_option("--self-address", o.selfAddresses,
                 "more addresses reaching this server at port 53, never forwarded to")
      ->delimiter(',');
  app.add_option("--unbound", o.unboundPath, "Unbound binary")->capture_default_str();
  app.add_flag("-v,--verbose", verbose);
  CLI11_PARSE(app, argc, argv);
  if (!splitHostPort(listen, o.listenAddress, o.port))
    return fatal("--listen: want address:port, got " + listen);

  const TerminationSignals signals;  // before any thread starts
  setupLogging({.name = "dns", .level = verbose ? spdlog::level::debug : spdlog::level::info});
  auto kubeconfig = kubeapi::Kubeconfig::load(kubeconfigPath);
  if (!kubeconfig) return fatal(kubeconfig.error().message());
  auto rest = kubeconfig->restConfig();
  if (!rest) return fatal(rest.error().context(kubeconfigPath).message());
  rest->userAgent = "berth-dns/" BERTH_VERSION;
  auto api = kubeapi::RestClient::create(*rest);
  if (!api) return fatal(api.error().message());

  kubeapi::InformerFactory informers(*api);
  dns::ClusterDns dns(informers, o);
  if (auto st = dns.start(); !st) return fatal(st.error().message());
  informers.start();
  const int sig = signals.wait();
  spdlog::info("berth-dns: signal {}, shutting down", sig);
  dns.stop();
  informers.stop();
  return 0;
}
