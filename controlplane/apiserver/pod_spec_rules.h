#pragma once
// The rules every pod spec follows, in a Pod or in a workload's pod template: upstream's
// SetDefaults_PodSpec and SetDefaults_Container, and the part of ValidatePodSpec berth checks.
// What only a Pod gets (enableServiceLinks, preemptionPolicy, a status) stays in its strategy.
#include "controlplane/apiserver/strategy.h"
#include "kubeapi/field_path.h"

namespace berth::controlplane::apiserver {

void defaultPodSpec(Json& spec);
FieldErrors validatePodSpec(const Json& spec, const kubeapi::FieldPath& path);

// `field` of `object` is unset or one of `allowed` (required: unset is an error too).
void requireEnum(const Json& object, const kubeapi::FieldPath& path, const char* field,
                 const std::vector<std::string>& allowed, bool required, FieldErrors& errors);

}  // namespace berth::controlplane::apiserver
