#pragma once
// The one list of KubeletConfiguration's fields and their v1beta1 JSON names. The decoder,
// the encoder (/configz) and the flag setter all walk it, so a field is named exactly once.
// A visitor is called as v(name, member); nested structs are visited with visitFields().

#include "kubelet/config/kubelet_configuration.h"

namespace berth::kubelet::fields {

template <class V>
void visitFields(V& v, KubeletX509Authentication& s) {
  v("clientCAFile", s.clientCAFile);
}
template <class V>
void visitFields(V& v, KubeletWebhookAuthentication& s) {
  v("enabled", s.enabled);
  v("cacheTTL", s.cacheTTL);
}
template <class V>
void visitFields(V& v, KubeletAnonymousAuthentication& s) {
  v("enabled", s.enabled);
}
template <class V>
void visitFields(V& v, KubeletAuthentication& s) {
  v("x509", s.x509);
  v("webhook", s.webhook);
  v("anonymous", s.anonymous);
}
template <class V>
void visitFields(V& v, KubeletWebhookAuthorization& s) {
  v("cacheAuthorizedTTL", s.cacheAuthorizedTTL);
  v("cacheUnauthorizedTTL", s.cacheUnauthorizedTTL);
}
template <class V>
void visitFields(V& v, KubeletAuthorization& s) {
  v("mode", s.mode);
  v("webhook", s.webhook);
}
template <class V>
void visitFields(V& v, Taint& s) {
  v("key", s.key);
  v("value", s.value);
  v("effect", s.effect);
  v("timeAdded", s.timeAdded);
}
template <class V>
void visitFields(V& v, MemorySwapConfiguration& s) {
  v("swapBehavior", s.swapBehavior);
}
template <class V>
void visitFields(V& v, ShutdownGracePeriodByPodPriority& s) {
  v("priority", s.priority);
  v("shutdownGracePeriodSeconds", s.shutdownGracePeriodSeconds);
}
template <class V>
void visitFields(V& v, VModuleItem& s) {
  v("filePattern", s.filePattern);
  v("verbosity", s.verbosity);
}
template <class V>
void visitFields(V& v, LogFormatOptions& s) {
  v("splitStream", s.splitStream);
  v("infoBufferSize", s.infoBufferSize);
}
template <class V>
void visitFields(V& v, LoggingOptions& s) {
  v("text", s.text);
  v("json", s.json);
}
template <class V>
void visitFields(V& v, LoggingConfiguration& s) {
  v("format", s.format);
  v("flushFrequency", s.flushFrequency);
  v("verbosity", s.verbosity);
  v("vmodule", s.vmodule);
  v("options", s.options);
}

template <class V>
void visitFields(V& v, KubeletConfiguration& c) {
  v("enableServer", c.enableServer);
  v("staticPodPath", c.staticPodPath);
  v("podLogsDir", c.podLogsDir);
  v("syncFrequency", c.syncFrequency);
  v("fileCheckFrequency", c.fileCheckFrequency);
  v("httpCheckFrequency", c.httpCheckFrequency);
  v("staticPodURL", c.staticPodURL);
  v("address", c.address);
  v("port", c.port);
  v("readOnlyPort", c.readOnlyPort);
  v("tlsCertFile", c.tlsCertFile);
  v("tlsPrivateKeyFile", c.tlsPrivateKeyFile);
  v("tlsCipherSuites", c.tlsCipherSuites);
  v("tlsMinVersion", c.tlsMinVersion);
  v("rotateCertificates", c.rotateCertificates);
  v("serverTLSBootstrap", c.serverTLSBootstrap);
  v("authentication", c.authentication);
  v("authorization", c.authorization);
  v("registryPullQPS", c.registryPullQPS);
  v("registryBurst", c.registryBurst);
  v("eventRecordQPS", c.eventRecordQPS);
  v("eventBurst", c.eventBurst);
  v("enableDebuggingHandlers", c.enableDebuggingHandlers);
  v("enableContentionProfiling", c.enableContentionProfiling);
  v("healthzPort", c.healthzPort);
  v("healthzBindAddress", c.healthzBindAddress);
  v("oomScoreAdj", c.oomScoreAdj);
  v("clusterDomain", c.clusterDomain);
  v("clusterDNS", c.clusterDNS);
  v("streamingConnectionIdleTimeout", c.streamingConnectionIdleTimeout);
  v("nodeStatusUpdateFrequency", c.nodeStatusUpdateFrequency);
  v("nodeStatusReportFrequency", c.nodeStatusReportFrequency);
  v("nodeLeaseDurationSeconds", c.nodeLeaseDurationSeconds);
  v("imageMinimumGCAge", c.imageMinimumGCAge);
  v("imageMaximumGCAge", c.imageMaximumGCAge);
  v("imageGCHighThresholdPercent", c.imageGCHighThresholdPercent);
  v("imageGCLowThresholdPercent", c.imageGCLowThresholdPercent);
  v("volumeStatsAggPeriod", c.volumeStatsAggPeriod);
  v("kubeletCgroups", c.kubeletCgroups);
  v("systemCgroups", c.systemCgroups);
  v("cgroupRoot", c.cgroupRoot);
  v("cgroupsPerQOS", c.cgroupsPerQOS);
  v("cgroupDriver", c.cgroupDriver);
  v("cpuManagerPolicy", c.cpuManagerPolicy);
  v("cpuManagerPolicyOptions", c.cpuManagerPolicyOptions);
  v("cpuManagerReconcilePeriod", c.cpuManagerReconcilePeriod);
  v("memoryManagerPolicy", c.memoryManagerPolicy);
  v("topologyManagerPolicy", c.topologyManagerPolicy);
  v("topologyManagerScope", c.topologyManagerScope);
  v("topologyManagerPolicyOptions", c.topologyManagerPolicyOptions);
  v("qosReserved", c.qosReserved);
  v("runtimeRequestTimeout", c.runtimeRequestTimeout);
  v("hairpinMode", c.hairpinMode);
  v("maxPods", c.maxPods);
  v("podCIDR", c.podCIDR);
  v("podPidsLimit", c.podPidsLimit);
  v("resolvConf", c.resolvConf);
  v("runOnce", c.runOnce);
  v("cpuCFSQuota", c.cpuCFSQuota);
  v("cpuCFSQuotaPeriod", c.cpuCFSQuotaPeriod);
  v("nodeStatusMaxImages", c.nodeStatusMaxImages);
  v("maxOpenFiles", c.maxOpenFiles);
  v("contentType", c.contentType);
  v("kubeAPIQPS", c.kubeAPIQPS);
  v("kubeAPIBurst", c.kubeAPIBurst);
  v("serializeImagePulls", c.serializeImagePulls);
  v("maxParallelImagePulls", c.maxParallelImagePulls);
  v("evictionHard", c.evictionHard);
  v("evictionSoft", c.evictionSoft);
  v("evictionSoftGracePeriod", c.evictionSoftGracePeriod);
  v("evictionPressureTransitionPeriod", c.evictionPressureTransitionPeriod);
  v("evictionMaxPodGracePeriod", c.evictionMaxPodGracePeriod);
  v("evictionMinimumReclaim", c.evictionMinimumReclaim);
  v("podsPerCore", c.podsPerCore);
  v("enableControllerAttachDetach", c.enableControllerAttachDetach);
  v("protectKernelDefaults", c.protectKernelDefaults);
  v("makeIPTablesUtilChains", c.makeIPTablesUtilChains);
  v("iptablesMasqueradeBit", c.iptablesMasqueradeBit);
  v("iptablesDropBit", c.iptablesDropBit);
  v("featureGates", c.featureGates);
  v("failSwapOn", c.failSwapOn);
  v("memorySwap", c.memorySwap);
  v("containerLogMaxSize", c.containerLogMaxSize);
  v("containerLogMaxFiles", c.containerLogMaxFiles);
  v("containerLogMaxWorkers", c.containerLogMaxWorkers);
  v("containerLogMonitorInterval", c.containerLogMonitorInterval);
  v("configMapAndSecretChangeDetectionStrategy", c.configMapAndSecretChangeDetectionStrategy);
  v("systemReserved", c.systemReserved);
  v("kubeReserved", c.kubeReserved);
  v("reservedSystemCPUs", c.reservedSystemCPUs);
  v("showHiddenMetricsForVersion", c.showHiddenMetricsForVersion);
  v("systemReservedCgroup", c.systemReservedCgroup);
  v("kubeReservedCgroup", c.kubeReservedCgroup);
  v("enforceNodeAllocatable", c.enforceNodeAllocatable);
  v("allowedUnsafeSysctls", c.allowedUnsafeSysctls);
  v("volumePluginDir", c.volumePluginDir);
  v("providerID", c.providerID);
  v("kernelMemcgNotification", c.kernelMemcgNotification);
  v("logging", c.logging);
  v("enableSystemLogHandler", c.enableSystemLogHandler);
  v("enableSystemLogQuery", c.enableSystemLogQuery);
  v("shutdownGracePeriod", c.shutdownGracePeriod);
  v("shutdownGracePeriodCriticalPods", c.shutdownGracePeriodCriticalPods);
  v("shutdownGracePeriodByPodPriority", c.shutdownGracePeriodByPodPriority);
  v("enableProfilingHandler", c.enableProfilingHandler);
  v("enableDebugFlagsHandler", c.enableDebugFlagsHandler);
  v("seccompDefault", c.seccompDefault);
  v("memoryThrottlingFactor", c.memoryThrottlingFactor);
  v("registerWithTaints", c.registerWithTaints);
  v("registerNode", c.registerNode);
  v("localStorageCapacityIsolation", c.localStorageCapacityIsolation);
  v("containerRuntimeEndpoint", c.containerRuntimeEndpoint);
  v("imageServiceEndpoint", c.imageServiceEndpoint);
  v("failCgroupV1", c.failCgroupV1);
}

// Whether T is a struct with a field list.
struct NullVisitor {
  template <class T>
  void operator()(const char*, T&) {}
};
template <class T>
concept HasFields = requires(NullVisitor& v, T& t) {
  visitFields(v, t);
};

}  // namespace berth::kubelet::fields
