#include "kubelet/config/kubelet_options.h"

#include <iostream>
#include <map>

#include "kubelet/config/validation.h"

namespace berth::kubelet {

namespace {

constexpr MapSyntax kLangle = MapSyntax::kLangle;

// The non-config flags, bound to KubeletFlags.
void addNodeFlags(CLI::App& app, KubeletFlags& f, std::vector<std::string>& nodeLabels) {
  app.add_option("--config", f.kubeletConfigFile,
                 "The kubelet loads its initial configuration from this file (a "
                 "kubelet.config.k8s.io/v1beta1 KubeletConfiguration). Flags override it");
  app.add_option("--kubeconfig", f.kubeConfig,
                 "Path to a kubeconfig file for the API server; omitted: standalone mode");
  app.add_option("--bootstrap-kubeconfig", f.bootstrapKubeconfig,
                 "Kubeconfig used to get a client certificate when --kubeconfig does not exist");
  app.add_option("--hostname-override", f.hostnameOverride,
                 "Use this name as the node's identification instead of the hostname");
  app.add_option("--node-ip", f.nodeIP,
                 "IP address (or comma-separated dual-stack pair) of the node");
  app.add_option("--root-dir", f.rootDirectory, "Directory for kubelet files (volume mounts, etc)")
      ->default_str(kDefaultRootDirectory);
  app.add_option("--cert-dir", f.certDirectory,
                 "Directory of the TLS certs; ignored when --tls-cert-file and "
                 "--tls-private-key-file are given (default <root-dir>/pki)");
  app.add_option("--cloud-provider", f.cloudProvider, "\"external\" or empty");
  app.add_option("--node-labels", nodeLabels,
                 "Labels to add when registering the node: key=value pairs separated by ','");
  app.add_option("--lock-file", f.lockFilePath, "Path to a file the kubelet uses as a lock");
  app.add_flag("--exit-on-lock-contention", f.exitOnLockContention,
               "Exit when another process tries to take the lock file");
  app.add_option("--runtime-cgroups", f.runtimeCgroups, "Cgroups of the container runtime");
  app.add_option("--image-credential-provider-config", f.imageCredentialProviderConfigFile,
                 "Path to the credential provider plugin config file");
  app.add_option("--image-credential-provider-bin-dir", f.imageCredentialProviderBinDir,
                 "Directory of the credential provider plugin binaries");
}

// Every occurrence of every config flag, in command-line order per flag.
using FlagValues = std::map<std::string, std::vector<std::string>>;

void addConfigFlags(CLI::App& app, FlagValues& values) {
  for (const ConfigFlag& flag : configFlags()) {
    std::string names = flag.name == std::string("v") ? "-v,--v" : fmt::format("--{}", flag.name);
    std::string help = fmt::format("{} (config: {})", flag.help, flag.fieldPath);
    std::vector<std::string>& out = values[flag.name];
    if (fieldKind(flag.fieldPath) == FieldKind::kBool)
      app.add_flag(names, out, help)->group("Config flags");
    else
      app.add_option(names, out, help)->allow_extra_args(false)->group("Config flags");
  }
}

// What CLI11 left over: an unknown flag or a positional word, as pflag and the kubelet say it.
Status checkRemaining(const std::vector<std::string>& remaining) {
  if (remaining.empty()) return {};
  const std::string& word = remaining.front();
  if (word.starts_with("--")) {
    return fail(Code::kInvalidArgument, "unknown flag: {}", word.substr(0, word.find('=')));
  }
  if (word.starts_with("-") && word.size() > 1) {
    return fail(Code::kInvalidArgument, "unknown shorthand flag: '{}' in {}", word[1], word);
  }
  return fail(Code::kInvalidArgument, "unknown command \"{}\"", word);
}

Status applyConfigFlags(KubeletConfiguration& config, const FlagValues& values) {
  for (const ConfigFlag& flag : configFlags()) {
    const std::vector<std::string>& uses = values.at(flag.name);
    for (size_t i = 0; i < uses.size(); ++i) {
      BERTH_TRY_CTX(setFieldFromText(config, flag.fieldPath, uses[i], flag.mapSyntax, i == 0),
                    fmt::format("invalid argument \"{}\" for \"--{}\" flag", uses[i], flag.name));
    }
  }
  return {};
}

Result<std::map<std::string, std::string>> parseLabels(const std::vector<std::string>& uses) {
  std::map<std::string, std::string> labels;
  for (const std::string& use : uses) {
    BERTH_TRY_CTX(setMapFromText(labels, use, MapSyntax::kEquals, false),
                  fmt::format("invalid argument \"{}\" for \"--node-labels\" flag", use));
  }
  return labels;
}

}  // namespace

const std::vector<ConfigFlag>& configFlags() {
  static const std::vector<ConfigFlag> kFlags = {
      {"fail-swap-on", "failSwapOn", "Makes the kubelet fail to start if swap is enabled"},
      {"enable-server", "enableServer", "Enable the kubelet's server"},
      {"pod-manifest-path", "staticPodPath", "Path to the static pod manifests"},
      {"sync-frequency", "syncFrequency", "Max period between synchronizing running containers"},
      {"file-check-frequency", "fileCheckFrequency", "Duration between checking config files"},
      {"http-check-frequency", "httpCheckFrequency", "Duration between checking http for new data"},
      {"manifest-url", "staticPodURL", "URL for accessing additional pod specifications"},
      {"address", "address", "The IP address for the kubelet to serve on"},
      {"port", "port", "The port for the kubelet to serve on"},
      {"read-only-port", "readOnlyPort", "The read-only port (0 disables it)"},
      {"anonymous-auth", "authentication.anonymous.enabled", "Allow anonymous requests"},
      {"authentication-token-webhook", "authentication.webhook.enabled",
       "Use the TokenReview API for bearer tokens"},
      {"authentication-token-webhook-cache-ttl", "authentication.webhook.cacheTTL",
       "Duration to cache webhook token authenticator responses"},
      {"client-ca-file", "authentication.x509.clientCAFile", "CA bundle for client certificates"},
      {"authorization-mode", "authorization.mode", "AlwaysAllow or Webhook"},
      {"authorization-webhook-cache-authorized-ttl", "authorization.webhook.cacheAuthorizedTTL",
       "Duration to cache 'authorized' webhook responses"},
      {"authorization-webhook-cache-unauthorized-ttl", "authorization.webhook.cacheUnauthorizedTTL",
       "Duration to cache 'unauthorized' webhook responses"},
      {"tls-cert-file", "tlsCertFile", "x509 certificate for HTTPS"},
      {"tls-private-key-file", "tlsPrivateKeyFile", "x509 private key matching --tls-cert-file"},
      {"rotate-server-certificates", "serverTLSBootstrap", "Request serving certificates via CSR"},
      {"tls-cipher-suites", "tlsCipherSuites", "Comma-separated cipher suites for the server"},
      {"tls-min-version", "tlsMinVersion", "Minimum TLS version (VersionTLS12, VersionTLS13, ...)"},
      {"rotate-certificates", "rotateCertificates", "Rotate the client certificate"},
      {"registry-qps", "registryPullQPS", "Registry pull QPS limit (0: unlimited)"},
      {"registry-burst", "registryBurst", "Maximum burst of registry pulls"},
      {"event-qps", "eventRecordQPS", "Event creations per second (0: unlimited)"},
      {"event-burst", "eventBurst", "Maximum burst of event records"},
      {"enable-debugging-handlers", "enableDebuggingHandlers", "Enable logs/exec/attach endpoints"},
      {"contention-profiling", "enableContentionProfiling", "Enable block profiling"},
      {"healthz-port", "healthzPort", "Port of the localhost healthz endpoint (0 disables it)"},
      {"healthz-bind-address", "healthzBindAddress", "IP address for the healthz server"},
      {"oom-score-adj", "oomScoreAdj", "The oom-score-adj of the kubelet process"},
      {"cluster-domain", "clusterDomain", "Domain for this cluster"},
      {"cluster-dns", "clusterDNS", "Comma-separated DNS server IPs for pods"},
      {"streaming-connection-idle-timeout", "streamingConnectionIdleTimeout",
       "Idle timeout of streaming connections"},
      {"node-status-update-frequency", "nodeStatusUpdateFrequency",
       "How often the kubelet computes node status"},
      {"image-minimum-gc-age", "imageMinimumGCAge", "Minimum age of an unused image before GC"},
      {"image-maximum-gc-age", "imageMaximumGCAge", "Maximum age of an unused image before GC"},
      {"image-gc-high-threshold", "imageGCHighThresholdPercent",
       "Disk usage percent after which image GC always runs"},
      {"image-gc-low-threshold", "imageGCLowThresholdPercent",
       "Disk usage percent image GC frees down to"},
      {"volume-stats-agg-period", "volumeStatsAggPeriod", "Interval of volume usage calculation"},
      {"feature-gates", "featureGates", "key=true|false pairs"},
      {"kubelet-cgroups", "kubeletCgroups", "Cgroups to run the kubelet in"},
      {"system-cgroups", "systemCgroups", "Cgroups for non-kernel processes not in a container"},
      {"provider-id", "providerID", "Unique identifier of the node in the cloud provider"},
      {"cgroups-per-qos", "cgroupsPerQOS", "Enable the QoS and pod cgroup hierarchy"},
      {"cgroup-driver", "cgroupDriver", "cgroupfs or systemd"},
      {"cgroup-root", "cgroupRoot", "Optional root cgroup for pods"},
      {"cpu-manager-policy", "cpuManagerPolicy", "none or static"},
      {"cpu-manager-policy-options", "cpuManagerPolicyOptions", "key=value CPU manager options"},
      {"cpu-manager-reconcile-period", "cpuManagerReconcilePeriod", "CPU manager reconcile period"},
      {"qos-reserved", "qosReserved", "resource=percentage reserved per QoS"},
      {"topology-manager-policy", "topologyManagerPolicy", "Topology manager policy"},
      {"topology-manager-scope", "topologyManagerScope", "container or pod"},
      {"topology-manager-policy-options", "topologyManagerPolicyOptions", "key=value options"},
      {"runtime-request-timeout", "runtimeRequestTimeout", "Timeout of runtime requests"},
      {"hairpin-mode", "hairpinMode", "promiscuous-bridge, hairpin-veth or none"},
      {"max-pods", "maxPods", "Number of pods that can run on this kubelet"},
      {"pod-cidr", "podCIDR", "CIDR for pod IPs (standalone mode)"},
      {"pod-max-pids", "podPidsLimit", "Maximum processes per pod (-1: node allocatable)"},
      {"resolv-conf", "resolvConf", "Resolver configuration file for pods"},
      {"cpu-cfs-quota", "cpuCFSQuota", "Enforce CPU limits with CFS quota"},
      {"cpu-cfs-quota-period", "cpuCFSQuotaPeriod", "CFS quota period"},
      {"enforce-node-allocatable", "enforceNodeAllocatable",
       "Comma-separated levels: none, pods, system-reserved, kube-reserved, ..."},
      {"max-open-files", "maxOpenFiles", "Number of files the kubelet process can open"},
      {"kube-api-content-type", "contentType", "Content type of requests to the API server"},
      {"kube-api-qps", "kubeAPIQPS", "QPS to the API server"},
      {"kube-api-burst", "kubeAPIBurst", "Burst to the API server"},
      {"serialize-image-pulls", "serializeImagePulls", "Pull images one at a time"},
      {"eviction-hard", "evictionHard", "Hard eviction thresholds (memory.available<1Gi)", kLangle},
      {"eviction-soft", "evictionSoft", "Soft eviction thresholds (memory.available<1.5Gi)",
       kLangle},
      {"eviction-soft-grace-period", "evictionSoftGracePeriod", "signal=duration grace periods"},
      {"eviction-pressure-transition-period", "evictionPressureTransitionPeriod",
       "Wait before leaving an eviction pressure condition"},
      {"eviction-max-pod-grace-period", "evictionMaxPodGracePeriod",
       "Maximum grace period (s) for pods evicted on a soft threshold"},
      {"eviction-minimum-reclaim", "evictionMinimumReclaim", "signal=quantity minimum reclaims"},
      {"pods-per-core", "podsPerCore", "Number of pods per core (0: no limit)"},
      {"protect-kernel-defaults", "protectKernelDefaults", "Error if kernel tunables differ"},
      {"make-iptables-util-chains", "makeIPTablesUtilChains", "Create iptables utility chains"},
      {"iptables-masquerade-bit", "iptablesMasqueradeBit", "fwmark bit for SNAT"},
      {"iptables-drop-bit", "iptablesDropBit", "fwmark bit for dropping packets"},
      {"container-log-max-size", "containerLogMaxSize", "Maximum size of a container log file"},
      {"container-log-max-files", "containerLogMaxFiles", "Maximum log files per container"},
      {"container-log-max-workers", "containerLogMaxWorkers", "Concurrent log rotation workers"},
      {"container-log-monitor-interval", "containerLogMonitorInterval", "Log rotation interval"},
      {"allowed-unsafe-sysctls", "allowedUnsafeSysctls", "Comma-separated unsafe sysctl patterns"},
      {"node-status-max-images", "nodeStatusMaxImages", "Images reported in node status (-1: all)"},
      {"kernel-memcg-notification", "kernelMemcgNotification", "Use memcg notifications"},
      {"local-storage-capacity-isolation", "localStorageCapacityIsolation",
       "Enable local ephemeral storage isolation"},
      {"system-reserved", "systemReserved", "resource=quantity reserved for the system"},
      {"kube-reserved", "kubeReserved", "resource=quantity reserved for kubernetes components"},
      {"system-reserved-cgroup", "systemReservedCgroup", "Cgroup of system-reserved"},
      {"kube-reserved-cgroup", "kubeReservedCgroup", "Cgroup of kube-reserved"},
      {"reserved-cpus", "reservedSystemCPUs", "CPUs reserved for system and kubernetes"},
      {"register-node", "registerNode", "Register the node with the API server"},
      {"register-with-taints", "registerWithTaints", "Taints to register with (key=value:Effect)"},
      {"memory-manager-policy", "memoryManagerPolicy", "None or Static"},
      {"seccomp-default", "seccompDefault", "Use RuntimeDefault as the default seccomp profile"},
      {"container-runtime-endpoint", "containerRuntimeEndpoint", "The CRI endpoint"},
      {"image-service-endpoint", "imageServiceEndpoint", "The CRI image endpoint, if different"},
      {"volume-plugin-dir", "volumePluginDir", "Directory of third party volume plugins"},
      {"show-hidden-metrics-for-version", "showHiddenMetricsForVersion",
       "Previous version whose hidden metrics to show"},
      {"v", "logging.verbosity", "Log level verbosity"},
      {"logging-format", "logging.format", "text or json"},
      {"log-flush-frequency", "logging.flushFrequency", "Maximum seconds between log flushes"},
  };
  return kFlags;
}

void applyLegacyDefaults(KubeletConfiguration& config) {
  config.authentication.anonymous.enabled = true;
  config.authentication.webhook.enabled = false;
  config.authorization.mode = "AlwaysAllow";
  config.readOnlyPort = 10255;
}

Result<std::optional<LoadedConfig>> loadKubeletConfig(int argc, char** argv) {
  LoadedConfig loaded;
  std::vector<std::string> nodeLabels;
  FlagValues values;
  CLI::App app(
      "berth-kubelet: the node agent, run with the upstream kubelet's flags and "
      "KubeletConfiguration file",
      "berth-kubelet");
  app.allow_extras();
  addNodeFlags(app, loaded.flags, nodeLabels);
  addConfigFlags(app, values);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    return fail(Code::kInvalidArgument, "{}", e.what());
  }
  BERTH_TRY(checkRemaining(app.remaining()));
  loaded.flags.nodeLabels = BERTH_TRY(parseLabels(nodeLabels));
  BERTH_TRY(completeKubeletFlags(loaded.flags));

  if (loaded.flags.kubeletConfigFile.empty()) {
    applyLegacyDefaults(loaded.config);
  } else {
    loaded.config = BERTH_TRY(loadKubeletConfigFile(loaded.flags.kubeletConfigFile));
  }
  BERTH_TRY(applyConfigFlags(loaded.config, values));
  BERTH_TRY(validateKubeletConfiguration(loaded.config));
  return loaded;
}

Result<std::optional<LoadedConfig>> loadKubeletConfig(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  return loadKubeletConfig(static_cast<int>(args.size()), argv.data());
}

}  // namespace berth::kubelet
