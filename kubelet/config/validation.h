#pragma once
// ValidateKubeletConfiguration (pkg/kubelet/apis/config/validation) for the fields berth reads,
// plus the checks the upstream kubelet makes later at start (eviction thresholds, TLS version
// and ciphers, cgroup driver, authorization mode), so a bad config stops the start at once.

#include <map>
#include <string>

#include "common/result.h"
#include "kubelet/config/kubelet_configuration.h"

namespace berth::kubelet {

// Every problem found, joined with "; "; each names its field ("imageGCLowThresholdPercent:
// 90 must be less than imageGCHighThresholdPercent 85").
[[nodiscard]] Status validateKubeletConfiguration(const KubeletConfiguration& config);

// eviction.ParseThresholdConfig's checks: known signals, quantities or percentages, a grace
// period for every soft threshold.
[[nodiscard]] Status validateEvictionThresholds(const KubeletConfiguration& config);

}  // namespace berth::kubelet
