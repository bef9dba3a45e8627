#pragma once
// kubelet.config.k8s.io/v1beta1 KubeletConfiguration as the v1.32 kubelet reads it from --config:
// the fields berth-kubelet acts on and the ones operators commonly set, named as upstream. A
// default-constructed KubeletConfiguration is what SetDefaults_KubeletConfiguration gives an
// empty file, except where berth deliberately differs (containerRuntimeEndpoint,
// serializeImagePulls). Fields that are Go pointers upstream (explicit zero kept) are plain values
// here; fields where upstream replaces a zero with the default are re-defaulted by applyDefaults()
// (config_codec.h).

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::kubelet {

using Duration = std::chrono::nanoseconds;
using namespace std::chrono_literals;

inline constexpr const char* kKubeletConfigApiVersion = "kubelet.config.k8s.io/v1beta1";
inline constexpr const char* kKubeletConfigKind = "KubeletConfiguration";
// berth-cri's socket (DESIGN "Where things live"); upstream defaults to containerd's.
inline constexpr const char* kDefaultContainerRuntimeEndpoint = "unix:///run/berth/cri.sock";

struct KubeletX509Authentication {
  std::string clientCAFile;
};
struct KubeletWebhookAuthentication {
  bool enabled = true;
  Duration cacheTTL = 2min;
};
struct KubeletAnonymousAuthentication {
  bool enabled = false;
};
struct KubeletAuthentication {
  KubeletX509Authentication x509;
  KubeletWebhookAuthentication webhook;
  KubeletAnonymousAuthentication anonymous;
};

struct KubeletWebhookAuthorization {
  Duration cacheAuthorizedTTL = 5min;
  Duration cacheUnauthorizedTTL = 30s;
};
struct KubeletAuthorization {
  std::string mode = "Webhook";  // AlwaysAllow | Webhook
  KubeletWebhookAuthorization webhook;
};

// core/v1 Taint (registerWithTaints).
struct Taint {
  std::string key;
  std::string value;
  std::string effect;     // NoSchedule | PreferNoSchedule | NoExecute
  std::string timeAdded;  // must stay empty in a kubelet config (upstream validation)
  bool operator==(const Taint&) const = default;
};

struct MemorySwapConfiguration {
  std::string swapBehavior;  // "" | NoSwap | LimitedSwap
};

struct ShutdownGracePeriodByPodPriority {
  int32_t priority = 0;
  int64_t shutdownGracePeriodSeconds = 0;
};

// component-base logs/api/v1 LoggingConfiguration (the part the kubelet's --v and file use).
struct VModuleItem {
  std::string filePattern;
  int32_t verbosity = 0;
};
struct LogFormatOptions {
  bool splitStream = false;
  std::string infoBufferSize = "0";  // a quantity
};
struct LoggingOptions {
  LogFormatOptions text;
  LogFormatOptions json;
};
struct LoggingConfiguration {
  std::string format = "text";
  Duration flushFrequency = 5s;
  int32_t verbosity = 0;
  std::vector<VModuleItem> vmodule;
  LoggingOptions options;
};

struct KubeletConfiguration {
  bool enableServer = true;
  std::string staticPodPath;
  std::string podLogsDir = "/var/log/pods";
  Duration syncFrequency = 1min;
  Duration fileCheckFrequency = 20s;
  Duration httpCheckFrequency = 20s;
  std::string staticPodURL;
  std::string address = "0.0.0.0";
  int32_t port = 10250;
  int32_t readOnlyPort = 0;
  std::string tlsCertFile;
  std::string tlsPrivateKeyFile;
  std::vector<std::string> tlsCipherSuites;
  std::string tlsMinVersion;
  bool rotateCertificates = false;
  bool serverTLSBootstrap = false;
  KubeletAuthentication authentication;
  KubeletAuthorization authorization;
  int32_t registryPullQPS = 5;
  int32_t registryBurst = 10;
  int32_t eventRecordQPS = 50;
  int32_t eventBurst = 100;
  bool enableDebuggingHandlers = true;
  bool enableContentionProfiling = false;
  int32_t healthzPort = 10248;
  std::string healthzBindAddress = "127.0.0.1";
  int32_t oomScoreAdj = -999;
  std::string clusterDomain;
  std::vector<std::string> clusterDNS;
  Duration streamingConnectionIdleTimeout = 4h;
  Duration nodeStatusUpdateFrequency = 10s;
  Duration nodeStatusReportFrequency = 5min;
  int32_t nodeLeaseDurationSeconds = 40;
  Duration imageMinimumGCAge = 2min;
  Duration imageMaximumGCAge = 0s;
  int32_t imageGCHighThresholdPercent = 85;
  int32_t imageGCLowThresholdPercent = 80;
  Duration volumeStatsAggPeriod = 1min;
  std::string kubeletCgroups;
  std::string systemCgroups;
  std::string cgroupRoot;
  bool cgroupsPerQOS = true;
  std::string cgroupDriver = "cgroupfs";  // cgroupfs | systemd
  std::string cpuManagerPolicy = "none";
  std::map<std::string, std::string> cpuManagerPolicyOptions;
  Duration cpuManagerReconcilePeriod = 10s;
  std::string memoryManagerPolicy = "None";
  std::string topologyManagerPolicy = "none";
  std::string topologyManagerScope = "container";
  std::map<std::string, std::string> topologyManagerPolicyOptions;
  std::map<std::string, std::string> qosReserved;
  Duration runtimeRequestTimeout = 2min;
  std::string hairpinMode = "promiscuous-bridge";
  int32_t maxPods = 110;
  std::string podCIDR;
  int64_t podPidsLimit = -1;
  std::string resolvConf = "/etc/resolv.conf";
  bool runOnce = false;
  bool cpuCFSQuota = true;
  Duration cpuCFSQuotaPeriod = 100ms;
  int32_t nodeStatusMaxImages = 50;
  int64_t maxOpenFiles = 1000000;
  std::string contentType = "application/vnd.kubernetes.protobuf";
  int32_t kubeAPIQPS = 50;
  int32_t kubeAPIBurst = 100;
  // berth: parallel pulls by default (upstream: true unless maxParallelImagePulls >= 2).
  bool serializeImagePulls = false;
  std::optional<int32_t> maxParallelImagePulls;  // unset: no limit
  std::map<std::string, std::string> evictionHard = {
      {"memory.available", "100Mi"},
      {"nodefs.available", "10%"},
      {"nodefs.inodesFree", "5%"},
      {"imagefs.available", "15%"},
  };
  std::map<std::string, std::string> evictionSoft;
  std::map<std::string, std::string> evictionSoftGracePeriod;
  Duration evictionPressureTransitionPeriod = 5min;
  int32_t evictionMaxPodGracePeriod = 0;
  std::map<std::string, std::string> evictionMinimumReclaim;
  int32_t podsPerCore = 0;
  bool enableControllerAttachDetach = true;
  bool protectKernelDefaults = false;
  bool makeIPTablesUtilChains = true;
  int32_t iptablesMasqueradeBit = 14;
  int32_t iptablesDropBit = 15;
  std::map<std::string, bool> featureGates;
  bool failSwapOn = true;
  MemorySwapConfiguration memorySwap;
  std::string containerLogMaxSize = "10Mi";
  int32_t containerLogMaxFiles = 5;
  int32_t containerLogMaxWorkers = 1;
  Duration containerLogMonitorInterval = 10s;
  std::string configMapAndSecretChangeDetectionStrategy = "Watch";
  std::map<std::string, std::string> systemReserved;
  std::map<std::string, std::string> kubeReserved;
  std::string reservedSystemCPUs;
  std::string showHiddenMetricsForVersion;
  std::string systemReservedCgroup;
  std::string kubeReservedCgroup;
  std::vector<std::string> enforceNodeAllocatable = {"pods"};
  std::vector<std::string> allowedUnsafeSysctls;
  std::string volumePluginDir = "/usr/libexec/kubernetes/kubelet-plugins/volume/exec/";
  std::string providerID;
  bool kernelMemcgNotification = false;
  LoggingConfiguration logging;
  bool enableSystemLogHandler = true;
  bool enableSystemLogQuery = false;
  Duration shutdownGracePeriod = 0s;
  Duration shutdownGracePeriodCriticalPods = 0s;
  std::vector<ShutdownGracePeriodByPodPriority> shutdownGracePeriodByPodPriority;
  bool enableProfilingHandler = true;
  bool enableDebugFlagsHandler = true;
  bool seccompDefault = false;
  double memoryThrottlingFactor = 0.9;
  std::vector<Taint> registerWithTaints;
  bool registerNode = true;
  bool localStorageCapacityIsolation = true;
  std::string containerRuntimeEndpoint = kDefaultContainerRuntimeEndpoint;
  std::string imageServiceEndpoint;
  bool failCgroupV1 = false;
};

}  // namespace berth::kubelet
