// berth-kubelet: the node agent. Flags and the config file are the upstream kubelet's
// (kubelet/config); main only maps them onto the kubelet's parts and waits for a signal.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <malloc.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "common/log.h"
#include "common/termination_signals.h"
#include "kubeapi/kubeconfig.h"
#include "kubeapi/node_name.h"
#include "kubeapi/quantity.h"
#include "kubelet/certificate/bootstrap.h"
#include "kubelet/certificate/certificate_manager.h"
#include "kubelet/config/kubelet_options.h"
#include "kubelet/kubelet.h"

namespace {

using namespace berth;
using namespace berth::kubelet;

// --node-ip, else the first global address of an interface that is up (IPv4 first), as the
// kubelet falls back to when the hostname does not resolve.
std::vector<std::string> nodeIps(const KubeletFlags& flags) {
  std::vector<std::string> ips;
  for (const auto& ip : flags.nodeIPs)
    ips.push_back(ip.str());
  if (!ips.empty()) return ips;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {"127.0.0.1"};
  std::string v4, v6;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || !(a->ifa_flags & IFF_UP) || (a->ifa_flags & IFF_LOOPBACK)) continue;
    char text[64] = {};
    if (a->ifa_addr->sa_family == AF_INET && v4.empty()) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text,
                  sizeof text);
      v4 = text;
    } else if (a->ifa_addr->sa_family == AF_INET6 && v6.empty()) {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(a->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr)) continue;
      ::inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
      v6 = text;
    }
  }
  ::freeifaddrs(list);
  if (!v4.empty()) return {v4};
  if (!v6.empty()) return {v6};
  return {"127.0.0.1"};
}

// systemReserved + kubeReserved, plus the hard eviction threshold of memory.available when it
// is a quantity (a percentage is of capacity, which allocatable subtracts later).
std::map<std::string, std::string> reserved(const KubeletConfiguration& c) {
  std::map<std::string, kubeapi::Quantity> sum;
  auto add = [&](const std::map<std::string, std::string>& m) {
    for (const auto& [name, value] : m)
      if (auto q = kubeapi::Quantity::parse(value)) sum[name].add(*q);
  };
  add(c.systemReserved);
  add(c.kubeReserved);
  if (auto it = c.evictionHard.find("memory.available");
      it != c.evictionHard.end() && !it->second.ends_with("%")) {
    add({{"memory", it->second}});
  }
  std::map<std::string, std::string> out;
  for (const auto& [name, q] : sum)
    out[name] = q.str();
  return out;
}

KubeletOptions options(const KubeletFlags& flags, const KubeletConfiguration& c) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  KubeletOptions o;
  const std::string host = kubeapi::nodeNameOrHostname(flags.hostnameOverride);
  o.nodeName = host;
  o.nodeIps = nodeIps(flags);
  o.criEndpoint = c.containerRuntimeEndpoint;
  o.runtimeRequestTimeout = duration_cast<milliseconds>(c.runtimeRequestTimeout);
  o.rootDir = flags.rootDirectory;
  o.staticPodPath = c.staticPodPath;
  o.fileCheckFrequency = duration_cast<milliseconds>(c.fileCheckFrequency);
  NodeConfig& node = o.nodeAgent.node;
  node.nodeName = host;
  node.hostname = host;
  node.nodeIps = o.nodeIps;
  node.labels = flags.nodeLabels;
  node.taints = nlohmann::json::array();
  for (const auto& t : c.registerWithTaints) {
    nlohmann::json taint = {{"key", t.key}, {"effect", t.effect}};
    if (!t.value.empty()) taint["value"] = t.value;
    node.taints.push_back(std::move(taint));
  }
  node.maxPods = c.maxPods;
  node.kubeletPort = c.port;
  node.reserved = reserved(c);
  node.providerId = c.providerID;
  o.nodeAgent.registerNode = c.registerNode;
  o.nodeAgent.leaseDurationSeconds = c.nodeLeaseDurationSeconds;
  o.nodeAgent.statusUpdateFrequency = duration_cast<milliseconds>(c.nodeStatusUpdateFrequency);
  o.nodeAgent.statusReportFrequency = duration_cast<milliseconds>(c.nodeStatusReportFrequency);
  SandboxOptions& sandbox = o.sync.sandbox;
  sandbox.nodeHostname = host;
  sandbox.podLogsDir = c.podLogsDir;
  sandbox.clusterDns = c.clusterDNS;
  sandbox.clusterDomain = c.clusterDomain;
  sandbox.resolvConf = c.resolvConf;
  o.sync.env.nodeName = host;
  o.sync.env.hostIps = o.nodeIps;
  o.sync.env.clusterDomain = c.clusterDomain;
  o.sync.nodeMemoryCapacity = readMachineInfo(flags.rootDirectory).memoryBytes;
  o.sync.cpuCfsQuota = c.cpuCFSQuota;
  o.sync.cpuCfsQuotaPeriodUs =
      std::chrono::duration_cast<std::chrono::microseconds>(c.cpuCFSQuotaPeriod).count();
  o.cgroups = {.cgroupsPerQos = c.cgroupsPerQOS,
               .cgroupRoot = c.cgroupRoot,
               .cgroupDriver = c.cgroupDriver,
               .cpuCfsQuota = c.cpuCFSQuota,
               .cpuCfsQuotaPeriodUs = o.sync.cpuCfsQuotaPeriodUs,
               .podPidsLimit = c.podPidsLimit};
  o.syncFrequency = duration_cast<milliseconds>(c.syncFrequency);
  // The evented PLEG is on unless the EventedPLEG gate turns it off (upstream's is off by
  // default; ours falls back to relisting by itself when the runtime has no events).
  if (auto gate = c.featureGates.find("EventedPLEG"); gate != c.featureGates.end()) {
    o.eventedPleg = gate->second;
  }
  o.healthzBindAddress = c.healthzBindAddress;
  o.healthzPort = c.healthzPort;
  o.maxParallelImagePulls = c.maxParallelImagePulls.value_or(0);
  o.serializeImagePulls = c.serializeImagePulls;
  o.configz = toJson(c);
  if (c.enableServer) {
    server::KubeletServerOptions s;
    s.nodeName = host;
    s.bindAddress = c.address;
    s.port = static_cast<std::uint16_t>(c.port);
    s.tlsCertFile = c.tlsCertFile;
    s.tlsPrivateKeyFile = c.tlsPrivateKeyFile;
    s.certDirectory = flags.certDirectory;
    s.nodeIps = o.nodeIps;
    s.clientCaFile = c.authentication.x509.clientCAFile;
    s.authentication = {.anonymous = c.authentication.anonymous.enabled,
                        .webhook = c.authentication.webhook.enabled,
                        .cacheTtl = c.authentication.webhook.cacheTTL};
    s.authorization = {.mode = c.authorization.mode == "AlwaysAllow"
                                   ? server::AuthorizationMode::kAlwaysAllow
                                   : server::AuthorizationMode::kWebhook,
                       .authorizedTtl = c.authorization.webhook.cacheAuthorizedTTL,
                       .unauthorizedTtl = c.authorization.webhook.cacheUnauthorizedTTL};
    s.enableDebuggingHandlers = c.enableDebuggingHandlers;
    s.streamIdleTimeout = duration_cast<milliseconds>(c.streamingConnectionIdleTimeout);
    o.server = std::move(s);
  }
  return o;
}

using certificate::CertificateManager;
using certificate::CertificateStore;

// rotateCertificates: the client certificate renews itself and the API client presents each new
// one (upstream's kubelet client certificate manager).
std::unique_ptr<CertificateManager> clientCertificateManager(
    const KubeletFlags& flags, const KubeletOptions& o,
    const std::shared_ptr<kubeapi::RestClient>& api) {
  CertificateStore store(flags.certDirectory, certificate::kClientPairPrefix,
                         api->config().certFile, api->config().keyFile);
  auto manager = std::make_unique<CertificateManager>(
      std::move(store), certificate::CertificateManagerOptions{
                            .name = "kubelet-client",
                            .csrTemplate = certificate::kubeletClientTemplate(o.nodeName),
                            .api = api,
                            .onRotated = [api](const certificate::CertificatePair& pair) {
                              api->setClientCertificate(pair.certPem, pair.keyPem);
                            }});
  if (auto pair = manager->current()) api->setClientCertificate(pair->certPem, pair->keyPem);
  return manager;
}

// serverTLSBootstrap: the :10250 server serves kubelet-server-current.pem, requested from the
// kubernetes.io/kubelet-serving signer for the node's names and addresses and renewed the same
// way; the server re-reads it for new connections.
std::unique_ptr<CertificateManager> servingCertificateManager(
    const KubeletFlags& flags, KubeletOptions& o, const std::shared_ptr<kubeapi::RestClient>& api) {
  CertificateStore store(flags.certDirectory, certificate::kServerPairPrefix);
  o.server->tlsCertFile = o.server->tlsPrivateKeyFile = store.currentPath().string();
  o.server->rotatedCertificate = true;
  return std::make_unique<CertificateManager>(
      std::move(store), certificate::CertificateManagerOptions{
                            .name = "kubelet-server",
                            .csrTemplate = certificate::kubeletServingTemplate(
                                o.nodeName, {o.nodeAgent.node.hostname}, o.nodeIps),
                            .api = api});
}

int fatal(const std::string& message) {
  std::fprintf(stderr, "berth-kubelet: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // One thread per pod would give glibc an arena each (up to 8 per core), each holding freed
  // memory of its own: two arenas keep the idle node's RSS ~10% lower at 100 pods (bench.kubelet).
  // MALLOC_ARENA_MAX in the environment still wins.
  if (::getenv("MALLOC_ARENA_MAX") == nullptr) ::mallopt(M_ARENA_MAX, 2);
  auto loaded = loadKubeletConfig(argc, argv);
  if (!loaded) return fatal(loaded.error().message());
  if (!*loaded) return 0;  // --help
  const auto& [flags, config] = **loaded;
  setupLogging(
      {.name = "kubelet",
       .level = config.logging.verbosity >= 4 ? spdlog::level::debug : spdlog::level::info});

  if (flags.kubeConfig.empty()) {
    return fatal(
        "--kubeconfig is required (standalone mode without an API server is not supported)");
  }
  // The root (pods/, pki/) exists before anything measures or writes into it.
  std::error_code ec;
  std::filesystem::create_directories(flags.rootDirectory, ec);
  if (ec) return fatal(fmt::format("--root-dir {}: {}", flags.rootDirectory, ec.message()));
  KubeletOptions o = options(flags, config);
  if (!flags.bootstrapKubeconfig.empty()) {
    auto st = certificate::loadClientCert({.kubeconfig = flags.kubeConfig,
                                           .bootstrapKubeconfig = flags.bootstrapKubeconfig,
                                           .certDir = flags.certDirectory,
                                           .nodeName = o.nodeName,
                                           .userAgent = "berth-kubelet/" BERTH_VERSION});
    if (!st) return fatal(st.error().message());
  }
  auto kubeconfig = kubeapi::Kubeconfig::load(flags.kubeConfig);
  if (!kubeconfig) return fatal(kubeconfig.error().message());
  auto rest = kubeconfig->restConfig();
  if (!rest) return fatal(rest.error().context(flags.kubeConfig).message());
  rest->qps = config.kubeAPIQPS;
  rest->burst = config.kubeAPIBurst;
  rest->userAgent = "berth-kubelet/" BERTH_VERSION;
  auto api = kubeapi::RestClient::create(*rest);
  if (!api) return fatal(api.error().message());

  const TerminationSignals signals;

  std::unique_ptr<CertificateManager> clientCertificates, servingCertificates;
  if (config.rotateCertificates) clientCertificates = clientCertificateManager(flags, o, *api);
  if (o.server && config.serverTLSBootstrap && config.tlsCertFile.empty())
    servingCertificates = servingCertificateManager(flags, o, *api);
  for (auto* manager : {clientCertificates.get(), servingCertificates.get()}) {
    if (manager) manager->start();
  }

  Kubelet kubelet(*api, std::move(o));
  if (auto st = kubelet.start(); !st) return fatal(st.error().message());
  const int sig = signals.wait();
  spdlog::info("berth-kubelet: signal {}, shutting down", sig);
  kubelet.stop();
  return 0;
}
