// berth-server: the bundled API server. Flags take kube-apiserver's names where one exists.
#include <signal.h>

#include <cstdio>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/command_line.h"
#include "common/log.h"
#include "common/termination_signals.h"
#include "controlplane/server.h"
#include "kubeapi/go_duration.h"

namespace {

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    std::size_t comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? comma : comma - start);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using berth::controlplane::ServerOptions;
  ServerOptions options;
  std::string etcdServers, tlsSans, saKeyFiles, apiAudiences, kubeletAddressTypes,
      logLevel = "info", clusterSigningDuration = "8760h";
  int minRequestTimeout = 1800, compactionSeconds = 300, bookmarkMs = 60'000;

  CLI::App app{"berth-server: a Kubernetes API server with an embedded store"};
  app.set_version_flag("--version", "berth-server " BERTH_VERSION);
  app.add_option("--bind-address", options.bindAddress, "Address to serve HTTPS on");
  app.add_option("--secure-port", options.securePort, "Port to serve HTTPS on (0: any free port)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--data-dir", options.dataDir,
                 "Store, certificates and admin.kubeconfig (default /var/lib/berth/server)");
  app.add_option("--etcd-servers", etcdServers,
                 "etcd v3 endpoints (comma-separated); empty: the embedded SQLite store");
  app.add_option("--etcd-cafile", options.etcdCaFile, "CA of the etcd servers (https://)");
  app.add_option("--etcd-certfile", options.etcdCertFile, "Client certificate for etcd");
  app.add_option("--etcd-keyfile", options.etcdKeyFile, "Client key for etcd");
  app.add_option("--service-cluster-ip-range", options.serviceClusterIpRange,
                 "Service ClusterIP ranges, one per family, primary first");
  app.add_option("--service-node-port-range", options.serviceNodePortRange, "NodePort range");
  app.add_option("--advertise-address", options.advertiseAddress,
                 "Address of the `kubernetes` Service's endpoints");
  app.add_option("--tls-san", tlsSans, "More names and addresses for the serving certificate");
  app.add_option("--client-ca-file", options.clientCaFile, "CA bundle for client certificates");
  app.add_option("--tls-cert-file", options.tlsCertFile, "Serving certificate (PEM)");
  app.add_option("--tls-private-key-file", options.tlsPrivateKeyFile, "Serving key (PEM)");
  app.add_option("--token-auth-file", options.tokenAuthFile, "Static bearer tokens (CSV)");
  app.add_option("--service-account-key-file", saKeyFiles,
                 "Public keys that verify service account tokens (comma-separated)");
  app.add_option("--service-account-signing-key-file", options.serviceAccountSigningKeyFile,
                 "Private key that signs service account tokens");
  app.add_option("--service-account-issuer", options.serviceAccountIssuer,
                 "iss of the service account tokens issued");
  app.add_option("--api-audiences", apiAudiences, "Audiences tokens must be meant for");
  app.add_option("--authorization-mode", options.authorizationMode,
                 "Ordered authorizers: Node, RBAC, AlwaysAllow, AlwaysDeny");
  app.add_option("--anonymous-auth", options.anonymousAuth,
                 "Let requests without credentials reach the health and version paths");
  app.add_option("--kubelet-client-certificate", options.kubeletClientCertificate,
                 "Client certificate for kubelets (default: the generated kubelet-client.crt)");
  app.add_option("--kubelet-client-key", options.kubeletClientKey, "Client key for kubelets");
  app.add_option("--kubelet-certificate-authority", options.kubeletCertificateAuthority,
                 "CA of the kubelets' serving certificates; unset: not verified");
  app.add_option("--kubelet-preferred-address-types", kubeletAddressTypes,
                 "Node address types to reach kubelets by, in order "
                 "(default InternalIP,ExternalIP,Hostname)");
  app.add_option("--cluster-signing-duration", clusterSigningDuration,
                 "Longest validity of a certificate signed for a CSR (Go duration, default 8760h)");
  app.add_option("--min-request-timeout", minRequestTimeout,
                 "A watch's server-side timeout when the client names none (s, times 1-2)");
  app.add_option("--etcd-compaction-interval", compactionSeconds,
                 "How often old revisions of the store are compacted (s)");
  app.add_option("--watch-bookmark-interval-ms", bookmarkMs,
                 "How often watches that allow bookmarks get one (ms)")
      ->group("");
  app.add_option("--log-level", logLevel, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.require_subcommand(0, 0);
  if (auto exitCode = berth::parseCommandLine(app, argc, argv)) return *exitCode;

  options.etcdServers = splitList(etcdServers);
  options.tlsSans = splitList(tlsSans);
  options.serviceAccountKeyFiles = splitList(saKeyFiles);
  options.apiAudiences = splitList(apiAudiences);
  options.kubeletPreferredAddressTypes = splitList(kubeletAddressTypes);
  options.minRequestTimeout = std::chrono::seconds(minRequestTimeout);
  auto signing = berth::kubeapi::parseGoDuration(clusterSigningDuration);
  if (!signing || signing->count() <= 0) {
    std::fprintf(stderr, "berth-server: --cluster-signing-duration %s: %s\n",
                 clusterSigningDuration.c_str(),
                 signing ? "must be positive" : signing.error().message().c_str());
    return 1;
  }
  options.clusterSigningDuration = std::chrono::duration_cast<std::chrono::seconds>(*signing);
  options.etcdCompactionInterval = std::chrono::seconds(compactionSeconds);
  options.watchBookmarkInterval = std::chrono::milliseconds(bookmarkMs);

  berth::setupLogging({.name = "server", .level = spdlog::level::from_str(logLevel)});

  const berth::TerminationSignals signals;

  auto server = berth::controlplane::Server::start(options);
  if (!server) {
    spdlog::error("berth-server: {}", server.error().message());
    return 1;
  }
  const int sig = signals.wait();
  spdlog::info("berth-server: signal {}, shutting down", sig);
  (*server)->shutdown(std::chrono::seconds(5));
  return 0;
}
