#include "kubelet/config/validation.h"

#include <filesystem>
#include <set>
#include <string_view>
#include <vector>

#include <fmt/ranges.h>

#include "common/ip.h"
#include "kubeapi/go_duration.h"
#include "kubeapi/quantity.h"
#include "kubelet/config/taints.h"

namespace berth::kubelet {

namespace {

using Errors = std::vector<std::string>;

std::string dur(Duration d) {
  return kubeapi::formatGoDuration(d);
}

bool gate(const KubeletConfiguration& c, const std::string& name, bool byDefault) {
  auto it = c.featureGates.find(name);
  return it == c.featureGates.end() ? byDefault : it->second;
}

template <class... Args>
void add(Errors& errs, fmt::format_string<Args...> f, Args&&... args) {
  errs.push_back(fmt::format(f, std::forward<Args>(args)...));
}

void checkRange(Errors& errs, std::string_view field, std::string_view flag, int64_t v, int64_t lo,
                int64_t hi) {
  if (v < lo || v > hi)
    add(errs, "{} (--{}): {} must be between {} and {}, inclusive", field, flag, v, lo, hi);
}

void checkNonNegative(Errors& errs, std::string_view field, std::string_view flag, int64_t v) {
  if (v < 0) add(errs, "{} (--{}): {} must not be a negative number", field, flag, v);
}

void checkOneOf(Errors& errs, std::string_view field, const std::string& v,
                std::initializer_list<std::string_view> allowed) {
  for (std::string_view a : allowed)
    if (v == a) return;
  add(errs, "{}: \"{}\" must be one of: {}", field, v, fmt::join(allowed, ", "));
}

void checkPorts(const KubeletConfiguration& c, Errors& errs) {
  checkRange(errs, "port", "port", c.port, 1, 65535);
  if (c.readOnlyPort != 0)
    checkRange(errs, "readOnlyPort", "read-only-port", c.readOnlyPort, 0, 65535);
  if (c.healthzPort != 0) checkRange(errs, "healthzPort", "healthz-port", c.healthzPort, 1, 65535);
  if (!IpAddr::parse(c.address))
    add(errs, "address (--address): \"{}\" is not an IP address", c.address);
  if (!IpAddr::parse(c.healthzBindAddress)) {
    add(errs, "healthzBindAddress (--healthz-bind-address): \"{}\" is not an IP address",
        c.healthzBindAddress);
  }
}

void checkLimits(const KubeletConfiguration& c, Errors& errs) {
  if (c.nodeLeaseDurationSeconds <= 0)
    add(errs, "nodeLeaseDurationSeconds: must be greater than 0");
  if (!c.systemCgroups.empty() && c.cgroupRoot.empty()) {
    add(errs,
        "systemCgroups (--system-cgroups): was specified and cgroupRoot (--cgroup-root) "
        "was not specified");
  }
  checkNonNegative(errs, "eventBurst", "event-burst", c.eventBurst);
  checkNonNegative(errs, "eventRecordQPS", "event-qps", c.eventRecordQPS);
  checkNonNegative(errs, "kubeAPIBurst", "kube-api-burst", c.kubeAPIBurst);
  checkNonNegative(errs, "kubeAPIQPS", "kube-api-qps", c.kubeAPIQPS);
  checkNonNegative(errs, "registryBurst", "registry-burst", c.registryBurst);
  checkNonNegative(errs, "registryPullQPS", "registry-qps", c.registryPullQPS);
  checkNonNegative(errs, "maxOpenFiles", "max-open-files", c.maxOpenFiles);
  checkNonNegative(errs, "maxPods", "max-pods", c.maxPods);
  checkNonNegative(errs, "podsPerCore", "pods-per-core", c.podsPerCore);
  if (c.nodeStatusMaxImages < -1)
    add(errs, "nodeStatusMaxImages (--node-status-max-images): {} must be -1 or greater",
        c.nodeStatusMaxImages);
  checkRange(errs, "oomScoreAdj", "oom-score-adj", c.oomScoreAdj, -1000, 1000);
  checkRange(errs, "iptablesDropBit", "iptables-drop-bit", c.iptablesDropBit, 0, 31);
  checkRange(errs, "iptablesMasqueradeBit", "iptables-masquerade-bit", c.iptablesMasqueradeBit, 0,
             31);
  if (c.maxParallelImagePulls && *c.maxParallelImagePulls < 1)
    add(errs, "maxParallelImagePulls: {} must be a positive number", *c.maxParallelImagePulls);
  if (c.serializeImagePulls && c.maxParallelImagePulls && *c.maxParallelImagePulls > 1) {
    add(errs,
        "maxParallelImagePulls: cannot be larger than 1 unless serializeImagePulls "
        "(--serialize-image-pulls) is set to false");
  }
  if (c.runOnce) add(errs, "runOnce: runonce mode has been deprecated and should not be set");
  if (c.memoryThrottlingFactor <= 0 || c.memoryThrottlingFactor > 1.0) {
    add(errs, "memoryThrottlingFactor: {} must be greater than 0 and less than or equal to 1.0",
        c.memoryThrottlingFactor);
  }
}

void checkImageGC(const KubeletConfiguration& c, Errors& errs) {
  checkRange(errs, "imageGCHighThresholdPercent", "image-gc-high-threshold",
             c.imageGCHighThresholdPercent, 0, 100);
  checkRange(errs, "imageGCLowThresholdPercent", "image-gc-low-threshold",
             c.imageGCLowThresholdPercent, 0, 100);
  if (c.imageGCLowThresholdPercent >= c.imageGCHighThresholdPercent) {
    add(errs,
        "imageGCLowThresholdPercent (--image-gc-low-threshold): {} must be less than "
        "imageGCHighThresholdPercent (--image-gc-high-threshold) {}",
        c.imageGCLowThresholdPercent, c.imageGCHighThresholdPercent);
  }
  if (c.imageMinimumGCAge < 0s)
    add(errs, "imageMinimumGCAge: {} must not be negative", dur(c.imageMinimumGCAge));
  if (c.imageMaximumGCAge < 0s)
    add(errs, "imageMaximumGCAge: {} must not be negative", dur(c.imageMaximumGCAge));
  if (c.imageMaximumGCAge > 0s && c.imageMaximumGCAge <= c.imageMinimumGCAge) {
    add(errs, "imageMaximumGCAge: {} must be greater than imageMinimumGCAge {}",
        dur(c.imageMaximumGCAge), dur(c.imageMinimumGCAge));
  }
}

void checkCgroupsAndManagers(const KubeletConfiguration& c, Errors& errs) {
  checkOneOf(errs, "cgroupDriver (--cgroup-driver)", c.cgroupDriver, {"cgroupfs", "systemd"});
  checkOneOf(errs, "cpuManagerPolicy (--cpu-manager-policy)", c.cpuManagerPolicy,
             {"none", "static"});
  checkOneOf(errs, "memoryManagerPolicy (--memory-manager-policy)", c.memoryManagerPolicy,
             {"None", "Static"});
  checkOneOf(errs, "topologyManagerPolicy (--topology-manager-policy)", c.topologyManagerPolicy,
             {"none", "best-effort", "restricted", "single-numa-node"});
  checkOneOf(errs, "topologyManagerScope (--topology-manager-scope)", c.topologyManagerScope,
             {"container", "pod"});
  checkOneOf(errs, "hairpinMode (--hairpin-mode)", c.hairpinMode,
             {"none", "hairpin-veth", "promiscuous-bridge"});
  checkOneOf(errs, "memorySwap.swapBehavior", c.memorySwap.swapBehavior,
             {"", "NoSwap", "LimitedSwap"});
  if (gate(c, "CustomCPUCFSQuotaPeriod", false)) {
    if (c.cpuCFSQuotaPeriod < 1ms || c.cpuCFSQuotaPeriod > 1s) {
      add(errs,
          "cpuCFSQuotaPeriod (--cpu-cfs-quota-period): {} must be between 1ms and 1sec, inclusive",
          dur(c.cpuCFSQuotaPeriod));
    }
  } else if (c.cpuCFSQuotaPeriod != 100ms) {
    add(errs,
        "cpuCFSQuotaPeriod (--cpu-cfs-quota-period): {} requires feature gate "
        "CustomCPUCFSQuotaPeriod",
        dur(c.cpuCFSQuotaPeriod));
  }
  if (!c.reservedSystemCPUs.empty() &&
      (!c.systemReservedCgroup.empty() || !c.kubeReservedCgroup.empty())) {
    add(errs,
        "reservedSystemCPUs (--reserved-cpus): can't be used with systemReservedCgroup "
        "(--system-reserved-cgroup) or kubeReservedCgroup (--kube-reserved-cgroup)");
  }
}

void checkEnforceNodeAllocatable(const KubeletConfiguration& c, Errors& errs) {
  std::set<std::string> seen;
  for (const std::string& v : c.enforceNodeAllocatable) {
    if (!seen.insert(v).second) {
      add(errs,
          "enforceNodeAllocatable (--enforce-node-allocatable): duplicated enforcements \"{}\"", v);
      continue;
    }
    if (v == "none") {
      if (c.enforceNodeAllocatable.size() > 1)
        add(errs,
            "enforceNodeAllocatable (--enforce-node-allocatable): may not contain additional "
            "enforcements when \"none\" is specified");
      continue;
    }
    if (v == "system-reserved" || v == "system-reserved-compressible") {
      if (c.systemReservedCgroup.empty())
        add(errs,
            "systemReservedCgroup (--system-reserved-cgroup): must be specified when \"{}\" is in "
            "enforceNodeAllocatable",
            v);
    } else if (v == "kube-reserved" || v == "kube-reserved-compressible") {
      if (c.kubeReservedCgroup.empty())
        add(errs,
            "kubeReservedCgroup (--kube-reserved-cgroup): must be specified when \"{}\" is in "
            "enforceNodeAllocatable",
            v);
    } else if (v != "pods") {
      add(errs,
          "enforceNodeAllocatable (--enforce-node-allocatable): option \"{}\" is not one of "
          "pods, system-reserved, system-reserved-compressible, kube-reserved, "
          "kube-reserved-compressible, none",
          v);
      continue;
    }
    if (!c.cgroupsPerQOS)
      add(errs,
          "cgroupsPerQOS (--cgroups-per-qos): must be true when \"{}\" is in "
          "enforceNodeAllocatable",
          v);
  }
  for (auto [a, b] : {std::pair{"system-reserved", "system-reserved-compressible"},
                      std::pair{"kube-reserved", "kube-reserved-compressible"}}) {
    if (seen.contains(a) && seen.contains(b))
      add(errs,
          "enforceNodeAllocatable (--enforce-node-allocatable): both \"{}\" and \"{}\" cannot be "
          "specified together",
          a, b);
  }
}

void checkShutdown(const KubeletConfiguration& c, Errors& errs) {
  if (c.shutdownGracePeriodCriticalPods > c.shutdownGracePeriod) {
    add(errs, "shutdownGracePeriodCriticalPods: {} must be <= shutdownGracePeriod {}",
        dur(c.shutdownGracePeriodCriticalPods), dur(c.shutdownGracePeriod));
  }
  for (auto [name, d] :
       {std::pair{"shutdownGracePeriod", c.shutdownGracePeriod},
        std::pair{"shutdownGracePeriodCriticalPods", c.shutdownGracePeriodCriticalPods}}) {
    if (d < 0s || (d > 0s && d < 1s))
      add(errs, "{}: {} must be either zero or otherwise >= 1 sec", name, dur(d));
  }
  if (!c.shutdownGracePeriodByPodPriority.empty() &&
      (c.shutdownGracePeriod > 0s || c.shutdownGracePeriodCriticalPods > 0s))
    add(errs,
        "shutdownGracePeriodByPodPriority: cannot be specified together with shutdownGracePeriod");
}

void checkQuantity(Errors& errs, const std::string& field, const std::string& value,
                   bool positive) {
  auto q = kubeapi::Quantity::parse(value);
  if (!q)
    add(errs, "{}: invalid quantity \"{}\": {}", field, value, q.error().message());
  else if (positive ? q->sign() <= 0 : q->sign() < 0)
    add(errs, "{}: \"{}\" must be {}", field, value, positive ? "positive" : "non-negative");
}

void checkNetworkAndTls(const KubeletConfiguration& c, Errors& errs) {
  for (size_t i = 0; i < c.clusterDNS.size(); ++i) {
    if (!IpAddr::parse(c.clusterDNS[i]))
      add(errs, "clusterDNS[{}] (--cluster-dns): \"{}\" is not an IP address", i, c.clusterDNS[i]);
  }
  if (!c.podCIDR.empty() && !IpNet::parse(c.podCIDR))
    add(errs, "podCIDR (--pod-cidr): \"{}\" is not a CIDR", c.podCIDR);
  checkOneOf(errs, "tlsMinVersion (--tls-min-version)", c.tlsMinVersion,
             {"", "VersionTLS10", "VersionTLS11", "VersionTLS12", "VersionTLS13"});
  static const std::set<std::string_view> kCiphers = {
      "TLS_RSA_WITH_RC4_128_SHA",
      "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
      "TLS_RSA_WITH_AES_128_CBC_SHA",
      "TLS_RSA_WITH_AES_256_CBC_SHA",
      "TLS_RSA_WITH_AES_128_CBC_SHA256",
      "TLS_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
      "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
      "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
      "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
      "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
      "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
      "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
      "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
      "TLS_AES_128_GCM_SHA256",
      "TLS_AES_256_GCM_SHA384",
      "TLS_CHACHA20_POLY1305_SHA256"};
  for (size_t i = 0; i < c.tlsCipherSuites.size(); ++i) {
    if (!kCiphers.contains(c.tlsCipherSuites[i]))
      add(errs,
          "tlsCipherSuites[{}] (--tls-cipher-suites): cipher suite {} not supported or doesn't "
          "exist",
          i, c.tlsCipherSuites[i]);
  }
  if (c.tlsCertFile.empty() != c.tlsPrivateKeyFile.empty())
    add(errs, "tlsCertFile, tlsPrivateKeyFile: both or neither must be set");
  checkOneOf(errs, "authorization.mode (--authorization-mode)", c.authorization.mode,
             {"AlwaysAllow", "Webhook"});
  if (c.serverTLSBootstrap && !gate(c, "RotateKubeletServerCertificate", true))
    add(errs, "serverTLSBootstrap: requires feature gate RotateKubeletServerCertificate");
}

void checkLogsAndRuntime(const KubeletConfiguration& c, Errors& errs) {
  if (c.containerRuntimeEndpoint.empty())
    add(errs,
        "containerRuntimeEndpoint (--container-runtime-endpoint): was not specified or empty");
  if (c.enableSystemLogQuery && !c.enableSystemLogHandler)
    add(errs, "enableSystemLogQuery: enableSystemLogHandler is required");
  if (c.containerLogMaxWorkers < 1)
    add(errs, "containerLogMaxWorkers: must be greater than or equal to 1");
  if (c.containerLogMonitorInterval < 3s)
    add(errs,
        "containerLogMonitorInterval: must be a positive time duration greater than or equal to "
        "3s");
  if (c.containerLogMaxFiles <= 1)
    add(errs, "containerLogMaxFiles (--container-log-max-files): must be greater than 1");
  checkQuantity(errs, "containerLogMaxSize (--container-log-max-size)", c.containerLogMaxSize,
                true);
  std::filesystem::path logs(c.podLogsDir);
  if (!logs.is_absolute())
    add(errs, "podLogsDir: pod logs path \"{}\" must be absolute path", c.podLogsDir);
  else if (logs.lexically_normal().string() != c.podLogsDir)
    add(errs, "podLogsDir: pod logs path \"{}\" must be normalized", c.podLogsDir);
  checkOneOf(errs, "logging.format", c.logging.format, {"text", "json"});
  if (c.logging.verbosity < 0) add(errs, "logging.verbosity (--v): must be non-negative");
  for (const auto& [name, reserved] : {std::pair{"systemReserved", &c.systemReserved},
                                       std::pair{"kubeReserved", &c.kubeReserved}}) {
    for (const auto& [resource, value] : *reserved)
      checkQuantity(errs, fmt::format("{}[{}]", name, resource), value, false);
  }
  for (size_t i = 0; i < c.registerWithTaints.size(); ++i) {
    if (auto st = checkTaint(c.registerWithTaints[i]); !st)
      add(errs, "registerWithTaints[{}] (--register-with-taints): {}", i, st.error().message());
    if (!c.registerWithTaints[i].timeAdded.empty())
      add(errs, "registerWithTaints[{}].timeAdded: must not be set", i);
  }
}

const std::set<std::string_view> kSignals = {
    "memory.available",       "nodefs.available",
    "nodefs.inodesFree",      "imagefs.available",
    "imagefs.inodesFree",     "containerfs.available",
    "containerfs.inodesFree", "allocatableMemory.available",
    "pid.available"};

// A threshold value: "10%" (0..100) or a non-negative quantity.
Status checkThresholdValue(std::string_view value) {
  if (value.ends_with('%')) {
    std::string number(value.substr(0, value.size() - 1));
    char* end = nullptr;
    double p = std::strtod(number.c_str(), &end);
    if (number.empty() || *end != '\0')
      return fail(Code::kInvalidArgument, "invalid percentage \"{}\"", value);
    if (p < 0 || p > 100)
      return fail(Code::kInvalidArgument,
                  "eviction percentage threshold {} must be >= 0% and <= 100%", value);
    return {};
  }
  auto q = BERTH_TRY(kubeapi::Quantity::parse(value));
  if (q.sign() < 0)
    return fail(Code::kInvalidArgument, "eviction threshold {} must be positive", value);
  return {};
}

void checkThresholdMap(Errors& errs, std::string_view field, std::string_view flag,
                       const std::map<std::string, std::string>& m) {
  for (const auto& [signal, value] : m) {
    if (!kSignals.contains(signal)) {
      add(errs, "{} (--{}): unsupported eviction signal \"{}\"", field, flag, signal);
    } else if (auto st = checkThresholdValue(value); !st) {
      add(errs, "{}[{}] (--{}): {}", field, signal, flag, st.error().message());
    }
  }
}

}  // namespace

Status validateEvictionThresholds(const KubeletConfiguration& c) {
  Errors errs;
  checkThresholdMap(errs, "evictionHard", "eviction-hard", c.evictionHard);
  checkThresholdMap(errs, "evictionSoft", "eviction-soft", c.evictionSoft);
  checkThresholdMap(errs, "evictionMinimumReclaim", "eviction-minimum-reclaim",
                    c.evictionMinimumReclaim);
  for (const auto& [signal, value] : c.evictionSoftGracePeriod) {
    auto d = kubeapi::parseGoDuration(value);
    if (!kSignals.contains(signal))
      add(errs,
          "evictionSoftGracePeriod (--eviction-soft-grace-period): unsupported eviction signal "
          "\"{}\"",
          signal);
    else if (!d)
      add(errs, "evictionSoftGracePeriod[{}]: {}", signal, d.error().message());
    else if (*d < 0s)
      add(errs,
          "evictionSoftGracePeriod[{}]: invalid eviction grace period {}, must be a positive value",
          signal, value);
  }
  for (const auto& [signal, value] : c.evictionSoft) {
    if (!c.evictionSoftGracePeriod.contains(signal))
      add(errs, "evictionSoft[{}]: grace period must be specified for the soft eviction threshold",
          signal);
  }
  if (errs.empty()) return {};
  return fail(Code::kInvalidArgument, "{}", fmt::join(errs, "; "));
}

Status validateKubeletConfiguration(const KubeletConfiguration& c) {
  Errors errs;
  checkPorts(c, errs);
  checkLimits(c, errs);
  checkImageGC(c, errs);
  checkCgroupsAndManagers(c, errs);
  checkEnforceNodeAllocatable(c, errs);
  checkShutdown(c, errs);
  checkNetworkAndTls(c, errs);
  checkLogsAndRuntime(c, errs);
  if (auto st = validateEvictionThresholds(c); !st) errs.push_back(st.error().message());
  if (errs.empty()) return {};
  return fail(Code::kInvalidArgument, "invalid configuration: {}", fmt::join(errs, "; "));
}

}  // namespace berth::kubelet
