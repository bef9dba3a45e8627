#pragma once
// A pod's defaults as the API server sets them at create (pkg/apis/core/v1/defaults.go): what the
// server's pod strategy applies and what the kubelet applies to a static pod read from a file,
// which never passes through a server.
#include <string>

#include <nlohmann/json.hpp>

namespace berth::kubeapi {

// The image's tag decides the pull policy: latest (or none) always pulls; a digest never does.
std::string defaultPullPolicy(const std::string& image);

// restartPolicy, dnsPolicy, terminationGracePeriodSeconds, schedulerName, securityContext,
// enableServiceLinks, preemptionPolicy, serviceAccount; per container imagePullPolicy,
// terminationMessagePath/Policy, resources and port protocols. Fields already set stay.
void applyPodDefaults(nlohmann::json& pod);

}  // namespace berth::kubeapi
