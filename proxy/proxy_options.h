#pragma once
// berth-proxy's command line and its KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1)
// file, for the fields that apply to an nftables-only proxy. As kube-proxy: the file gives the
// configuration and the flags given override it (flags > file > defaults). The file is read
// strictly: an unknown field names itself and stops the start.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/result.h"

namespace berth::proxy {

struct ProxyOptions {
  std::string kubeconfig;           // --kubeconfig, clientConnection.kubeconfig
  double apiQps = 5;                // clientConnection.qps
  int apiBurst = 10;                // clientConnection.burst
  std::string configFile;           // --config
  std::string hostnameOverride;     // --hostname-override, hostnameOverride
  std::vector<IpNet> clusterCidrs;  // --cluster-cidr, clusterCIDR (comma-separated)
  // --nodeport-addresses, nodePortAddresses: CIDRs, or "primary" (kube-proxy's default).
  std::vector<std::string> nodePortAddresses;
  bool masqueradeAll = false;  // --masquerade-all, nftables.masqueradeAll
  int masqueradeBit = 14;      // nftables.masqueradeBit
  // "" disables the server. Ours bind loopback by default (kube-proxy's healthz binds 0.0.0.0).
  std::string healthzBindAddress = "127.0.0.1:10256";          // --healthz-bind-address
  std::string metricsBindAddress = "127.0.0.1:10249";          // --metrics-bind-address
  std::string mode = "nftables";                               // --proxy-mode, mode
  std::chrono::milliseconds configSyncPeriod{15 * 60 * 1000};  // --config-sync-period
  std::chrono::milliseconds syncPeriod{30'000};                // --sync-period, nftables.syncPeriod
  std::chrono::milliseconds minSyncPeriod{1'000};  // --min-sync-period, nftables.minSyncPeriod
  bool verbose = false;                            // --v >= 4
};

// Decodes a KubeProxyConfiguration (YAML or JSON) over `options`. Errors name the field
// ("nftables.minSyncPeriod: invalid duration ...", "unknown key").
[[nodiscard]] Status decodeKubeProxyConfiguration(std::string_view text, ProxyOptions& options);

// Parses argv (and --config). nullopt: --help was printed (exit 0). Errors name the flag or the
// file's field.
[[nodiscard]] Result<std::optional<ProxyOptions>> loadProxyOptions(std::vector<std::string> args);

// "127.0.0.1:10256", "[::1]:10249" -> host and port. "" gives nullopt (the server is off).
struct BindAddress {
  std::string host;
  uint16_t port = 0;
};
[[nodiscard]] Result<std::optional<BindAddress>> parseBindAddress(std::string_view text);

}  // namespace berth::proxy
