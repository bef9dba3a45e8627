#pragma once
// The API objects a pod (or a PersistentVolume) refers to, as the apiserver's podutil visitors
// find them: what the Node authorizer lets a node read, and what NodeRestriction forbids a node's
// mirror pods to use.
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::controlplane::auth {

// imagePullSecrets, env/envFrom of every container (init, ephemeral), and secret-backed volumes
// (secret, projected, csi, azureFile, cephfs, cinder, flexVolume, iscsi, rbd, scaleIO, storageos).
std::vector<std::string> podSecretNames(const nlohmann::json& pod);
// env/envFrom of every container, configMap and projected volumes.
std::vector<std::string> podConfigMapNames(const nlohmann::json& pod);
// persistentVolumeClaim volumes and the claims of ephemeral volumes (<pod>-<volume>).
std::vector<std::string> podClaimNames(const nlohmann::json& pod);
// The (namespace, name) of every secret a PersistentVolume refers to; a reference without a
// namespace is in the namespace of the PV's claim.
std::vector<std::pair<std::string, std::string>> persistentVolumeSecrets(const nlohmann::json& pv);

}  // namespace berth::controlplane::auth
