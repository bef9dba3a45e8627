#include "controlplane/auth/pod_references.h"

#include "controlplane/auth/json_util.h"

namespace berth::controlplane::auth {

namespace {

template <class Visit>
void forEachContainer(const nlohmann::json& pod, Visit visit) {
  const auto* spec = json::member(pod, "spec");
  if (spec == nullptr) return;
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    for (const auto& container : json::array(*spec, list))
      visit(container);
  }
}

void addName(std::vector<std::string>& names, const std::string& name) {
  if (!name.empty()) names.push_back(name);
}

// The names every container's envFrom[].<fromKey> and env[].valueFrom.<keyRef> refer to.
void addEnvNames(const nlohmann::json& pod, std::string_view fromKey, std::string_view keyRef,
                 std::vector<std::string>& names) {
  forEachContainer(pod, [&](const nlohmann::json& container) {
    for (const auto& from : json::array(container, "envFrom")) {
      addName(names, json::stringAt(from, {fromKey, "name"}));
    }
    for (const auto& env : json::array(container, "env")) {
      addName(names, json::stringAt(env, {"valueFrom", keyRef, "name"}));
    }
  });
}

const nlohmann::json& volumes(const nlohmann::json& pod) {
  static const nlohmann::json kNone = nlohmann::json::array();
  const auto* spec = json::member(pod, "spec");
  return spec != nullptr ? json::array(*spec, "volumes") : kNone;
}

}  // namespace

std::vector<std::string> podSecretNames(const nlohmann::json& pod) {
  std::vector<std::string> names;
  if (const auto* spec = json::member(pod, "spec")) {
    for (const auto& ref : json::array(*spec, "imagePullSecrets")) {
      addName(names, json::string(ref, "name"));
    }
  }
  addEnvNames(pod, "secretRef", "secretKeyRef", names);
  for (const auto& volume : volumes(pod)) {
    addName(names, json::stringAt(volume, {"secret", "secretName"}));
    addName(names, json::stringAt(volume, {"azureFile", "secretName"}));
    addName(names, json::stringAt(volume, {"csi", "nodePublishSecretRef", "name"}));
    for (const char* source :
         {"cephfs", "cinder", "flexVolume", "iscsi", "rbd", "scaleIO", "storageos"}) {
      addName(names, json::stringAt(volume, {source, "secretRef", "name"}));
    }
    if (const auto* projected = json::member(volume, "projected")) {
      for (const auto& source : json::array(*projected, "sources")) {
        addName(names, json::stringAt(source, {"secret", "name"}));
      }
    }
  }
  return names;
}

std::vector<std::string> podConfigMapNames(const nlohmann::json& pod) {
  std::vector<std::string> names;
  addEnvNames(pod, "configMapRef", "configMapKeyRef", names);
  for (const auto& volume : volumes(pod)) {
    addName(names, json::stringAt(volume, {"configMap", "name"}));
    if (const auto* projected = json::member(volume, "projected")) {
      for (const auto& source : json::array(*projected, "sources")) {
        addName(names, json::stringAt(source, {"configMap", "name"}));
      }
    }
  }
  return names;
}

std::vector<std::string> podClaimNames(const nlohmann::json& pod) {
  std::vector<std::string> names;
  const std::string podName = json::meta(pod, "name");
  for (const auto& volume : volumes(pod)) {
    addName(names, json::stringAt(volume, {"persistentVolumeClaim", "claimName"}));
    if (json::member(volume, "ephemeral") != nullptr) {
      names.push_back(podName + "-" + json::string(volume, "name"));
    }
  }
  return names;
}

std::vector<std::pair<std::string, std::string>> persistentVolumeSecrets(const nlohmann::json& pv) {
  std::vector<std::pair<std::string, std::string>> refs;
  const auto* spec = json::member(pv, "spec");
  if (spec == nullptr) return refs;
  const std::string claimNamespace = json::stringAt(*spec, {"claimRef", "namespace"});
  auto add = [&](const nlohmann::json* ref) {
    if (ref == nullptr) return;
    const std::string name = json::string(*ref, "name");
    std::string ns = json::string(*ref, "namespace");
    if (ns.empty()) ns = claimNamespace;
    if (!name.empty()) refs.emplace_back(ns, name);
  };
  for (const char* source :
       {"cephfs", "cinder", "flexVolume", "iscsi", "rbd", "scaleIO", "storageos"}) {
    add(json::path(*spec, {source, "secretRef"}));
  }
  for (const char* ref :
       {"controllerPublishSecretRef", "nodeStageSecretRef", "nodePublishSecretRef",
        "controllerExpandSecretRef", "nodeExpandSecretRef"}) {
    add(json::path(*spec, {"csi", ref}));
  }
  if (const auto* azure = json::member(*spec, "azureFile")) {
    std::string ns = json::string(*azure, "secretNamespace");
    if (ns.empty()) ns = claimNamespace;
    const std::string name = json::string(*azure, "secretName");
    if (!name.empty()) refs.emplace_back(ns, name);
  }
  return refs;
}

}  // namespace berth::controlplane::auth
