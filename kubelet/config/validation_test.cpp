#include "kubelet/config/validation.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace berth::kubelet {
namespace {

TEST(KubeletConfigValidation, DefaultsAreValid) {
  auto st = validateKubeletConfiguration(KubeletConfiguration{});
  EXPECT_TRUE(st) << st.error().message();
}

TEST(KubeletConfigValidation, ErrorsNameTheField) {
  struct Case {
    std::function<void(KubeletConfiguration&)> change;
    std::string error;
  } cases[] = {
      {[](auto& c) { c.healthzPort = 70000; },
       "healthzPort (--healthz-port): 70000 must be between 1 and 65535"},
      {[](auto& c) { c.port = 0; }, "port (--port): 0 must be between 1 and 65535"},
      {[](auto& c) { c.readOnlyPort = -1; }, "readOnlyPort"},
      {[](auto& c) { c.imageGCLowThresholdPercent = 90; },
       "imageGCLowThresholdPercent (--image-gc-low-threshold): 90 must be less than "
       "imageGCHighThresholdPercent"},
      {[](auto& c) { c.imageGCHighThresholdPercent = 101; },
       "imageGCHighThresholdPercent (--image-gc-high-threshold): 101 must be between 0 and 100"},
      {[](auto& c) { c.cgroupDriver = "systemdd"; },
       "cgroupDriver (--cgroup-driver): \"systemdd\" must be one of: cgroupfs, systemd"},
      {[](auto& c) { c.authorization.mode = "RBAC"; },
       "authorization.mode (--authorization-mode): \"RBAC\""},
      {[](auto& c) { c.nodeLeaseDurationSeconds = -1; },
       "nodeLeaseDurationSeconds: must be greater than 0"},
      {[](auto& c) { c.maxPods = -1; }, "maxPods (--max-pods): -1 must not be a negative number"},
      {[](auto& c) { c.evictionHard["memory.availabel"] = "1Gi"; },
       "evictionHard (--eviction-hard): unsupported eviction signal \"memory.availabel\""},
      {[](auto& c) { c.evictionHard["memory.available"] = "lots"; },
       "evictionHard[memory.available] (--eviction-hard): quantities must match"},
      {[](auto& c) { c.evictionHard["nodefs.available"] = "120%"; },
       "evictionHard[nodefs.available] (--eviction-hard): eviction percentage threshold 120% must "
       "be >= 0% and <= "
       "100%"},
      {[](auto& c) { c.evictionSoft["memory.available"] = "1Gi"; },
       "evictionSoft[memory.available]: grace period must be specified"},
      {[](auto& c) { c.evictionSoftGracePeriod["memory.available"] = "soon"; },
       "evictionSoftGracePeriod[memory.available]: time: invalid duration"},
      {[](auto& c) {
         c.serializeImagePulls = true;
         c.maxParallelImagePulls = 3;
       },
       "maxParallelImagePulls: cannot be larger than 1 unless serializeImagePulls"},
      {[](auto& c) { c.maxParallelImagePulls = 0; },
       "maxParallelImagePulls: 0 must be a positive number"},
      {[](auto& c) { c.hairpinMode = "bridge"; }, "hairpinMode (--hairpin-mode)"},
      {[](auto& c) { c.topologyManagerPolicy = "any"; },
       "topologyManagerPolicy (--topology-manager-policy)"},
      {[](auto& c) { c.cpuCFSQuotaPeriod = 50ms; },
       "cpuCFSQuotaPeriod (--cpu-cfs-quota-period): 50ms requires feature gate "
       "CustomCPUCFSQuotaPeriod"},
      {[](auto& c) {
         c.featureGates["CustomCPUCFSQuotaPeriod"] = true;
         c.cpuCFSQuotaPeriod = 2s;
       },
       "must be between 1ms and 1sec"},
      {[](auto& c) {
         c.enforceNodeAllocatable = {"pods", "kube-reserved"};
       },
       "kubeReservedCgroup (--kube-reserved-cgroup): must be specified"},
      {[](auto& c) {
         c.enforceNodeAllocatable = {"none", "pods"};
       },
       "may not contain additional enforcements when \"none\""},
      {[](auto& c) { c.cgroupsPerQOS = false; },
       "cgroupsPerQOS (--cgroups-per-qos): must be true when \"pods\""},
      {[](auto& c) {
         c.shutdownGracePeriod = 10s;
         c.shutdownGracePeriodCriticalPods = 20s;
       },
       "shutdownGracePeriodCriticalPods: 20s must be <= shutdownGracePeriod 10s"},
      {[](auto& c) { c.shutdownGracePeriod = 500ms; },
       "shutdownGracePeriod: 500ms must be either zero or otherwise >= 1 sec"},
      {[](auto& c) { c.containerLogMaxFiles = 1; },
       "containerLogMaxFiles (--container-log-max-files): must be greater than 1"},
      {[](auto& c) { c.containerLogMaxSize = "-1Mi"; },
       "containerLogMaxSize (--container-log-max-size): \"-1Mi\" must be positive"},
      {[](auto& c) { c.containerRuntimeEndpoint = ""; },
       "containerRuntimeEndpoint (--container-runtime-endpoint): was not specified"},
      {[](auto& c) { c.podLogsDir = "var/log/pods"; },
       "podLogsDir: pod logs path \"var/log/pods\" must be absolute"},
      {[](auto& c) { c.clusterDNS = {"10.0.0.300"}; },
       "clusterDNS[0] (--cluster-dns): \"10.0.0.300\" is not an IP address"},
      {[](auto& c) { c.address = "localhost"; },
       "address (--address): \"localhost\" is not an IP address"},
      {[](auto& c) { c.tlsMinVersion = "TLS1.2"; }, "tlsMinVersion (--tls-min-version)"},
      {[](auto& c) { c.tlsCipherSuites = {"TLS_FOO"}; },
       "tlsCipherSuites[0] (--tls-cipher-suites): cipher suite TLS_FOO not supported"},
      {[](auto& c) {
         c.registerWithTaints = {{"a b", "", "NoSchedule", ""}};
       },
       "registerWithTaints[0] (--register-with-taints): invalid taint spec"},
      {[](auto& c) {
         c.registerWithTaints = {{"a", "", "Sometimes", ""}};
       },
       "registerWithTaints[0] (--register-with-taints): invalid taint effect: Sometimes"},
      {[](auto& c) { c.oomScoreAdj = -1001; }, "oomScoreAdj (--oom-score-adj)"},
      {[](auto& c) { c.systemReserved["memory"] = "a lot"; },
       "systemReserved[memory]: invalid quantity \"a lot\""},
      {[](auto& c) { c.memorySwap.swapBehavior = "UnlimitedSwap"; }, "memorySwap.swapBehavior"},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    KubeletConfiguration c;
    cases[i].change(c);
    auto st = validateKubeletConfiguration(c);
    ASSERT_FALSE(st) << "case " << i << ": " << cases[i].error;
    EXPECT_NE(st.error().message().find(cases[i].error), std::string::npos)
        << "case " << i << ": " << st.error().message();
  }
}

TEST(KubeletConfigValidation, ValidEvictionSettingsPass) {
  KubeletConfiguration c;
  c.evictionHard = {
      {"memory.available", "500Mi"}, {"pid.available", "10%"}, {"nodefs.inodesFree", "0%"}};
  c.evictionSoft = {{"memory.available", "1Gi"}};
  c.evictionSoftGracePeriod = {{"memory.available", "1m30s"}};
  c.evictionMinimumReclaim = {{"memory.available", "0Mi"}};
  EXPECT_TRUE(validateKubeletConfiguration(c));
}

}  // namespace
}  // namespace berth::kubelet
