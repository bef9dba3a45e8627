#include "controlplane/auth/bootstrap_policy.h"

#include <cstdlib>

#include "controlplane/auth/role_aggregation.h"

namespace berth::controlplane::auth {

extern const std::string_view kBootstrapPolicyJson;

namespace {

const nlohmann::json& data() {
  // The file is ours and checked by the tests: failing to parse it is a broken build.
  static const nlohmann::json parsed = [] {
    auto json = nlohmann::json::parse(kBootstrapPolicyJson, nullptr, false);
    if (!json.is_object()) std::abort();
    return json;
  }();
  return parsed;
}

nlohmann::json metadata(const nlohmann::json& entry) {
  nlohmann::json labels = entry.value("labels", nlohmann::json::object());
  labels["kubernetes.io/bootstrapping"] = "rbac-defaults";
  nlohmann::json meta = {
      {"name", entry["name"]},
      {"labels", std::move(labels)},
      {"annotations", {{"rbac.authorization.kubernetes.io/autoupdate", "true"}}}};
  if (entry.contains("namespace")) meta["namespace"] = entry["namespace"];
  return meta;
}

nlohmann::json role(const nlohmann::json& entry, const char* kind) {
  nlohmann::json object = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                           {"kind", kind},
                           {"metadata", metadata(entry)}};
  if (entry.contains("aggregationRule")) object["aggregationRule"] = entry["aggregationRule"];
  object["rules"] = entry.value("rules", nlohmann::json::array());
  return object;
}

nlohmann::json binding(const nlohmann::json& entry, const char* kind, const char* roleKind) {
  nlohmann::json subjects = nlohmann::json::array();
  for (auto subject : entry.value("subjects", nlohmann::json::array())) {
    if (subject["kind"] != "ServiceAccount") subject["apiGroup"] = "rbac.authorization.k8s.io";
    subjects.push_back(std::move(subject));
  }
  nlohmann::json object = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                           {"kind", kind},
                           {"metadata", metadata(entry)},
                           {"roleRef",
                            {{"apiGroup", "rbac.authorization.k8s.io"},
                             {"kind", roleKind},
                             {"name", entry["roleRef"]}}}};
  if (!subjects.empty()) object["subjects"] = std::move(subjects);
  return object;
}

std::vector<nlohmann::json> bindings(const char* section, const char* kind, const char* roleKind) {
  std::vector<nlohmann::json> objects;
  for (const auto& entry : data()[section])
    objects.push_back(binding(entry, kind, roleKind));
  return objects;
}

}  // namespace

const BootstrapPolicy& bootstrapPolicy() {
  static const BootstrapPolicy policy = [] {
    BootstrapPolicy p;
    for (const auto& entry : data()["clusterRoles"])
      p.clusterRoles.push_back(role(entry, "ClusterRole"));
    aggregateClusterRoles(p.clusterRoles);
    p.clusterRoleBindings = bindings("clusterRoleBindings", "ClusterRoleBinding", "ClusterRole");
    for (const auto& entry : data()["roles"])
      p.roles.push_back(role(entry, "Role"));
    p.roleBindings = bindings("roleBindings", "RoleBinding", "Role");
    return p;
  }();
  return policy;
}

const std::vector<nlohmann::json>& tlsBootstrapClusterRoleBindings() {
  static const std::vector<nlohmann::json> objects =
      bindings("tlsBootstrapClusterRoleBindings", "ClusterRoleBinding", "ClusterRole");
  return objects;
}

const nlohmann::json& nodeRules() {
  static const nlohmann::json rules = [] {
    for (const auto& entry : data()["clusterRoles"]) {
      if (entry["name"] == "system:node") return entry["rules"];
    }
    std::abort();
  }();
  return rules;
}

}  // namespace berth::controlplane::auth
