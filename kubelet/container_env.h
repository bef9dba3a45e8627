#pragma once
// A container's environment as the kubelet makes it (makeEnvironmentVariables upstream):
// service links, then envFrom (ConfigMaps and Secrets, with prefixes), then env (values with
// $(VAR) expansion, the Downward API, ConfigMap and Secret keys), later entries replacing
// earlier ones of the same name. Failures name the container and the variable, and become the
// container's CreateContainerConfigError.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubelet/object_source.h"

namespace berth::kubelet {

using EnvList = std::vector<std::pair<std::string, std::string>>;

// What the Downward API and the defaults for unset limits read besides the pod.
struct EnvContext {
  std::string nodeName;
  std::vector<std::string> hostIps;
  std::vector<std::string> podIps;
  // node.status.allocatable, what resourceFieldRef reads for a container without a limit.
  nlohmann::json nodeAllocatable = nlohmann::json::object();
  std::string clusterDomain = "cluster.local";
};

[[nodiscard]] Result<EnvList> makeEnvironment(const nlohmann::json& pod,
                                              const nlohmann::json& container,
                                              ObjectSource& objects, const EnvContext& ctx);

// Kubernetes' $(VAR) expansion: "$(NAME)" is replaced when `lookup` knows NAME and kept as it
// is otherwise; "$$" is a literal "$".
std::string expandVariables(
    std::string_view input,
    const std::function<std::optional<std::string>(std::string_view)>& lookup);

// A Downward API field (fieldRef.fieldPath) for env: the volume's metadata fields plus
// spec.nodeName, spec.serviceAccountName and status.hostIP(s)/podIP(s).
[[nodiscard]] Result<std::string> podFieldValue(const nlohmann::json& pod, std::string_view path,
                                                const EnvContext& ctx);

// The Docker-link variables of the Services of the pod's namespace (FOO_SERVICE_HOST,
// FOO_PORT_80_TCP, ...), plus KUBERNETES_* from default/kubernetes.
EnvList serviceLinkVariables(const std::vector<nlohmann::json>& services,
                             const std::vector<nlohmann::json>& kubernetesService);

}  // namespace berth::kubelet
