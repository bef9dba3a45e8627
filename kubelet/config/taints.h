#pragma once
// Taints as the kubelet's --register-with-taints writes them ("key=value:Effect,key2:Effect"),
// parsed and checked as k8s.io/kubernetes/pkg/util/taints does.

#include <string_view>
#include <vector>

#include "common/result.h"
#include "kubelet/config/kubelet_configuration.h"

namespace berth::kubelet {

// One "key[=value][:effect]" spec (ParseTaint).
[[nodiscard]] Result<Taint> parseTaint(std::string_view spec);
// A comma-separated list of specs (RegisterWithTaintsVar).
[[nodiscard]] Result<std::vector<Taint>> parseTaints(std::string_view specs);
// CheckTaintValidation: the key is a qualified name, the value a label value, the effect (when
// set) one of NoSchedule, PreferNoSchedule, NoExecute.
[[nodiscard]] Status checkTaint(const Taint& taint);

}  // namespace berth::kubelet
