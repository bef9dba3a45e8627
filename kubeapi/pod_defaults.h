#pragma once
// A pod's defaults as the API server sets them at create (pkg/apis/core/v1/defaults.go): what the
// server's pod strategy applies and what the kubelet applies to a static pod read from a file,
// which never passes through a server.
#include <string>

#include <nlohmann/json.hpp>

namespace berth::kubeapi {

// The image's tag decides the pull policy: latest (or none) always pulls; a digest never does.
std::string defaultPullPolicy(const std::string& image);

// What every pod spec gets, a workload's pod template too (SetDefaults_PodSpec and
// SetDefaults_Container): restartPolicy, dnsPolicy, terminationGracePeriodSeconds,
// schedulerName, securityContext, serviceAccount; per container imagePullPolicy,
// terminationMessagePath/Policy, resources and port protocols. Fields already set stay.
void applyPodSpecDefaults(nlohmann::json& spec);

// A Pod's: the spec's, and what only a Pod gets (SetDefaults_Pod and admission): containers
// request what they limit, enableServiceLinks, preemptionPolicy.
void applyPodDefaults(nlohmann::json& pod);

}  // namespace berth::kubeapi
