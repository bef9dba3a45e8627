#pragma once
// The files the kubelet gives each container besides its volumes (kubelet_pods.go upstream):
// the pod's managed /etc/hosts and the container's termination-message file, both under the
// pod's directory (volume/paths.h).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubelet/volume/paths.h"

namespace berth::kubelet {

// managedHostsFileContent: localhost entries, the pod's own name (with its subdomain's FQDN when
// it has one) on each pod IP, then spec.hostAliases.
std::string managedHostsFile(const nlohmann::json& pod, const std::vector<std::string>& podIps,
                             const std::string& hostname, const std::string& clusterDomain);

// Writes pods/<uid>/etc-hosts (atomically) and returns its path.
[[nodiscard]] Result<std::string> writeEtcHosts(const volume::KubeletPaths& paths,
                                                const nlohmann::json& pod,
                                                const std::vector<std::string>& podIps,
                                                const std::string& hostname,
                                                const std::string& clusterDomain);

// A new empty file pods/<uid>/containers/<name>/<random>, world-writable as upstream makes it so
// any container user can write its termination message.
[[nodiscard]] Result<std::string> makeTerminationLogFile(const volume::KubeletPaths& paths,
                                                         const std::string& podUid,
                                                         const std::string& containerName);

// The termination message: at most 4096 bytes of the file, as upstream reads it.
std::string readTerminationMessage(const std::string& path);

}  // namespace berth::kubelet
