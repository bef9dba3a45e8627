#include "proxy/proxy_options.h"

#include <charconv>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "common/file_util.h"
#include "common/yaml_reader.h"
#include "kubeapi/go_duration.h"

namespace berth::proxy {

namespace {

constexpr std::string_view kApiVersion = "kubeproxy.config.k8s.io/v1alpha1";

Result<std::chrono::milliseconds> parseDuration(std::string_view text) {
  auto d = kubeapi::parseGoDuration(text);
  if (!d) return std::unexpected(d.error());
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

Status readDuration(yaml::MapReader& m, std::string_view key, std::chrono::milliseconds& out) {
  std::string text;
  BERTH_TRY(m.readString(key, text));
  if (text.empty()) return {};
  auto d = parseDuration(text);
  if (!d) return std::unexpected(m.keyError(key, "invalid duration \"" + text + "\""));
  out = *d;
  return {};
}

Result<std::vector<IpNet>> parseCidrs(std::string_view text) {
  std::vector<IpNet> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = std::min(text.find(',', start), text.size());
    std::string_view item = text.substr(start, end - start);
    if (!item.empty()) {
      auto net = IpNet::parse(item);
      if (!net) return fail(Code::kInvalidArgument, "invalid CIDR \"{}\"", item);
      out.push_back(*net);
    }
    start = end + 1;
  }
  return out;
}

Status checkMode(const std::string& mode) {
  if (mode.empty() || mode == "nftables") return {};
  return fail(Code::kInvalidArgument,
              "proxy mode \"{}\" is not supported: berth-proxy implements only \"nftables\"", mode);
}

Status checkNodePortAddresses(const std::vector<std::string>& items) {
  for (const std::string& item : items) {
    if (item != "primary" && !IpNet::parse(item))
      return fail(Code::kInvalidArgument, "invalid CIDR \"{}\" (or \"primary\")", item);
  }
  return {};
}

// Upstream fields with no meaning for an nftables-only proxy: read (so the file is accepted as
// kube-proxy's) and ignored.
Status skipInapplicable(yaml::MapReader& m) {
  for (const char* key :
       {"conntrack", "iptables", "ipvs", "winkernel", "logging", "featureGates", "detectLocal"}) {
    BERTH_TRY(m.readMap(key));
  }
  std::string ignored;
  for (const char* key :
       {"bindAddress", "portRange", "detectLocalMode", "showHiddenMetricsForVersion", "oomScoreAdj",
        "enableProfiling", "bindAddressHardFail"}) {
    BERTH_TRY(m.readString(key, ignored));
  }
  return {};
}

Status decodeClientConnection(yaml::MapReader& m, ProxyOptions& o) {
  auto cc = BERTH_TRY(m.readMap("clientConnection"));
  if (!cc) return {};
  BERTH_TRY(cc->readString("kubeconfig", o.kubeconfig));
  std::string qps, ignored;
  BERTH_TRY(cc->readString("qps", qps));
  if (!qps.empty()) {
    char* end = nullptr;
    o.apiQps = std::strtod(qps.c_str(), &end);
    if (*end != '\0') return std::unexpected(cc->keyError("qps", "must be a number"));
  }
  int64_t burst = o.apiBurst;
  BERTH_TRY(cc->readInt("burst", burst, 0, 1 << 20));
  o.apiBurst = static_cast<int>(burst);
  BERTH_TRY(cc->readString("contentType", ignored));
  BERTH_TRY(cc->readString("acceptContentTypes", ignored));
  return cc->finish();
}

Status decodeNftables(yaml::MapReader& m, ProxyOptions& o) {
  auto nft = BERTH_TRY(m.readMap("nftables"));
  if (!nft) return {};
  BERTH_TRY(nft->readBool("masqueradeAll", o.masqueradeAll));
  int64_t bit = o.masqueradeBit;
  BERTH_TRY(nft->readInt("masqueradeBit", bit, 0, 31));
  o.masqueradeBit = static_cast<int>(bit);
  BERTH_TRY(readDuration(*nft, "syncPeriod", o.syncPeriod));
  BERTH_TRY(readDuration(*nft, "minSyncPeriod", o.minSyncPeriod));
  return nft->finish();
}

}  // namespace

Status decodeKubeProxyConfiguration(std::string_view text, ProxyOptions& o) {
  YAML::Node doc = BERTH_TRY(yaml::parse(text));
  yaml::MapReader m = BERTH_TRY(yaml::MapReader::open(doc, ""));
  std::string apiVersion, kind;
  BERTH_TRY(m.readString("apiVersion", apiVersion));
  BERTH_TRY(m.readString("kind", kind));
  if (apiVersion != kApiVersion || kind != "KubeProxyConfiguration") {
    return fail(Code::kInvalidArgument,
                "apiVersion/kind: must be {} KubeProxyConfiguration, not {} {}", kApiVersion,
                apiVersion, kind);
  }
  BERTH_TRY(decodeClientConnection(m, o));
  BERTH_TRY(m.readString("hostnameOverride", o.hostnameOverride));
  std::string clusterCidr;
  BERTH_TRY(m.readString("clusterCIDR", clusterCidr));
  if (!clusterCidr.empty()) {
    o.clusterCidrs = BERTH_TRY_CTX(parseCidrs(clusterCidr), "clusterCIDR");
  }
  BERTH_TRY(m.readStringList("nodePortAddresses", o.nodePortAddresses));
  BERTH_TRY_CTX(checkNodePortAddresses(o.nodePortAddresses), "nodePortAddresses");
  BERTH_TRY(m.readBool("masqueradeAll", o.masqueradeAll));  // before v1.29 it sat at the top
  BERTH_TRY(m.readString("healthzBindAddress", o.healthzBindAddress));
  BERTH_TRY(m.readString("metricsBindAddress", o.metricsBindAddress));
  BERTH_TRY(m.readString("mode", o.mode));
  BERTH_TRY_CTX(checkMode(o.mode), "mode");
  BERTH_TRY(readDuration(m, "configSyncPeriod", o.configSyncPeriod));
  BERTH_TRY(readDuration(m, "syncPeriod", o.syncPeriod));
  BERTH_TRY(readDuration(m, "minSyncPeriod", o.minSyncPeriod));
  BERTH_TRY(decodeNftables(m, o));
  BERTH_TRY(skipInapplicable(m));
  return m.finish();
}

Result<std::optional<BindAddress>> parseBindAddress(std::string_view text) {
  if (text.empty()) return std::optional<BindAddress>{};
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return fail(Code::kInvalidArgument, "\"{}\" must be host:port", text);
  std::string_view host = text.substr(0, colon), portText = text.substr(colon + 1);
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc() || p != portText.data() + portText.size() || port > 65535 ||
      !IpAddr::parse(host)) {
    return fail(Code::kInvalidArgument, "\"{}\" must be an IP address and a port", text);
  }
  return BindAddress{std::string(host), static_cast<uint16_t>(port)};
}

Result<std::optional<ProxyOptions>> loadProxyOptions(std::vector<std::string> args) {
  ProxyOptions o;
  CLI::App app("berth-proxy: the node's service proxy (kube-proxy's nftables mode)", "berth-proxy");
  // Flags are kept as text and applied over the file afterwards, so that a flag given wins.
  std::optional<std::string> kubeconfig, hostname, clusterCidr, nodePorts, healthz, metrics, mode,
      configSync, syncPeriod, minSync;
  std::optional<bool> masqueradeAll;
  int verbosity = 0;
  app.add_option("--config", o.configFile, "KubeProxyConfiguration file");
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig of the API server");
  app.add_option("--hostname-override", hostname, "the node's name, if not the hostname");
  app.add_option("--cluster-cidr", clusterCidr, "pod CIDRs, comma-separated");
  app.add_option("--nodeport-addresses", nodePorts,
                 "CIDRs whose local addresses take NodePorts, or \"primary\"");
  app.add_flag("--masquerade-all", masqueradeAll, "SNAT all traffic sent via Service IPs");
  app.add_option("--healthz-bind-address", healthz, "host:port of /healthz (\"\" disables)")
      ->expected(0, 1)  // pflag reads "--flag=" as empty; CLI11 would take the next word
      ->allow_extra_args(false);
  app.add_option("--metrics-bind-address", metrics, "host:port of /metrics (\"\" disables)")
      ->expected(0, 1)  // pflag reads "--flag=" as empty; CLI11 would take the next word
      ->allow_extra_args(false);
  app.add_option("--proxy-mode", mode, "only \"nftables\"");
  app.add_option("--config-sync-period", configSync, "informer resync period");
  app.add_option("--sync-period", syncPeriod, "full resync of the rules");
  app.add_option("--min-sync-period", minSync, "minimum interval between syncs");
  app.add_option("--v", verbosity, "log verbosity");
  std::vector<char*> argv;
  for (std::string& a : args)
    argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    return fail(Code::kInvalidArgument, "{}", e.what());
  }
  if (!o.configFile.empty()) {
    std::string text = BERTH_TRY(readFile(o.configFile));
    BERTH_TRY_CTX(decodeKubeProxyConfiguration(text, o), o.configFile);
  }
  auto flagError = [](const char* flag) { return fmt::format("invalid --{}", flag); };
  if (kubeconfig) o.kubeconfig = *kubeconfig;
  if (hostname) o.hostnameOverride = *hostname;
  if (clusterCidr)
    o.clusterCidrs = BERTH_TRY_CTX(parseCidrs(*clusterCidr), flagError("cluster-cidr"));
  if (nodePorts) {
    o.nodePortAddresses.clear();
    for (std::string_view rest = *nodePorts; !rest.empty();) {
      size_t comma = std::min(rest.find(','), rest.size());
      if (comma > 0) o.nodePortAddresses.emplace_back(rest.substr(0, comma));
      rest = rest.substr(std::min(comma + 1, rest.size()));
    }
    BERTH_TRY_CTX(checkNodePortAddresses(o.nodePortAddresses), flagError("nodeport-addresses"));
  }
  if (masqueradeAll) o.masqueradeAll = *masqueradeAll;
  if (healthz) o.healthzBindAddress = *healthz;
  if (metrics) o.metricsBindAddress = *metrics;
  if (mode) o.mode = *mode;
  BERTH_TRY_CTX(checkMode(o.mode), flagError("proxy-mode"));
  for (auto [text, out, name] : {std::tuple{&configSync, &o.configSyncPeriod, "config-sync-period"},
                                 std::tuple{&syncPeriod, &o.syncPeriod, "sync-period"},
                                 std::tuple{&minSync, &o.minSyncPeriod, "min-sync-period"}}) {
    if (*text) *out = BERTH_TRY_CTX(parseDuration(**text), flagError(name));
  }
  BERTH_TRY_CTX(parseBindAddress(o.healthzBindAddress), "healthzBindAddress");
  BERTH_TRY_CTX(parseBindAddress(o.metricsBindAddress), "metricsBindAddress");
  if (o.syncPeriod.count() <= 0 || o.minSyncPeriod.count() < 0)
    return fail(Code::kInvalidArgument,
                "syncPeriod must be positive and minSyncPeriod not negative");
  o.verbose = verbosity >= 4;
  return o;
}

}  // namespace berth::proxy
