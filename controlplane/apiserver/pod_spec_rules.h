#pragma once
// The checks every pod spec passes, in a Pod or in a workload's pod template: the part of
// ValidatePodSpec berth checks. (The defaults every pod spec gets are kubeapi/pod_defaults.h's.)
#include "controlplane/apiserver/strategy.h"
#include "kubeapi/field_path.h"

namespace berth::controlplane::apiserver {

FieldErrors validatePodSpec(const Json& spec, const kubeapi::FieldPath& path);

// `field` of `object` is unset or one of `allowed` (required: unset is an error too).
void requireEnum(const Json& object, const kubeapi::FieldPath& path, const char* field,
                 const std::vector<std::string>& allowed, bool required, FieldErrors& errors);

}  // namespace berth::controlplane::apiserver
