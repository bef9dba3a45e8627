#pragma once
// The JSON field readers of kubeapi/, under the names the server's code uses.
#include "kubeapi/json_fields.h"

namespace berth::controlplane::apiserver {

using kubeapi::jsonField;
using kubeapi::jsonString;

}  // namespace berth::controlplane::apiserver
