#include "controlplane/apiserver/bootstrap.h"
#include "controlplane/apiserver/json_fields.h"

#include <fmt/format.h>

namespace berth::controlplane::apiserver {
namespace {

// Creates the object unless it exists; `reconcile` (when given) rewrites an existing one whose
// managed fields differ.
Status ensure(Registry& registry, const std::string& group, const std::string& resource,
              const std::string& ns, Json object,
              std::function<bool(const Json& current, Json& wanted)> reconcile = {}) {
  ResourceStore* store = registry.store(group, resource);
  if (!store) return fail(Code::kInternal, "bootstrap: {} is not served", resource);
  std::string name = jsonString(object["metadata"], "name");
  auto current = store->get(ns, name);
  if (!current) {
    if (current.error().reason != kubeapi::reason::kNotFound) {
      return fail(Code::kInternal, "bootstrap {} {}: {}", resource, name, current.error().message);
    }
    auto created = store->create(ns, std::move(object), {});
    if (!created && created.error().reason != kubeapi::reason::kAlreadyExists) {
      return fail(Code::kInternal, "bootstrap {} {}: {}", resource, name, created.error().message);
    }
    return {};
  }
  if (!reconcile) return {};
  Json wanted = (*current)->json();
  if (!reconcile((*current)->json(), wanted)) return {};
  auto updated =
      store->update(ns, name, "", [&](const Json*) -> ApiResult<Json> { return wanted; }, {});
  if (!updated) {
    return fail(Code::kInternal, "bootstrap {} {}: {}", resource, name, updated.error().message);
  }
  return {};
}

Json meta(const std::string& name, Json labels = Json::object()) {
  Json m = {{"name", name}};
  if (!labels.empty()) m["labels"] = std::move(labels);
  return m;
}

}  // namespace

Status bootstrap(Registry& registry, const BootstrapConfig& config) {
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    BERTH_TRY(ensure(registry, "", "namespaces", "",
                     {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", meta(ns)}}));
  }

  // The kubernetes Service: the first address of each range, 443 -> this server's port.
  Json clusterIps = Json::array();
  Json families = Json::array();
  for (const IpAddr& ip : config.kubernetesServiceIps) {
    clusterIps.push_back(ip.str());
    families.push_back(ip.isV4() ? "IPv4" : "IPv6");
  }
  Json labels = {{"component", "apiserver"}, {"provider", "kubernetes"}};
  Json servicePorts = Json::array(
      {{{"name", "https"}, {"port", 443}, {"protocol", "TCP"}, {"targetPort", config.securePort}}});
  Json service = {{"apiVersion", "v1"},
                  {"kind", "Service"},
                  {"metadata", meta("kubernetes", labels)},
                  {"spec",
                   {{"type", "ClusterIP"},
                    {"clusterIP", clusterIps.empty() ? Json("") : clusterIps[0]},
                    {"clusterIPs", clusterIps},
                    {"ipFamilies", families},
                    {"ipFamilyPolicy", families.size() > 1 ? "PreferDualStack" : "SingleStack"},
                    {"ports", servicePorts},
                    {"sessionAffinity", "None"},
                    {"internalTrafficPolicy", "Cluster"}}}};
  BERTH_TRY(
      ensure(registry, "", "services", "default", service, [&](const Json& current, Json& wanted) {
        if (current["spec"]["ports"] == servicePorts) return false;
        wanted["spec"]["ports"] = servicePorts;
        return true;
      }));

  Json endpointPorts =
      Json::array({{{"name", "https"}, {"port", config.securePort}, {"protocol", "TCP"}}});
  Json subsets = Json::array({{{"addresses", Json::array({{{"ip", config.advertiseAddress}}})},
                               {"ports", endpointPorts}}});
  Json endpoints = {
      {"apiVersion", "v1"},
      {"kind", "Endpoints"},
      {"metadata", meta("kubernetes", {{"endpointslice.kubernetes.io/skip-mirror", "true"}})},
      {"subsets", subsets}};
  BERTH_TRY(ensure(registry, "", "endpoints", "default", endpoints,
                   [&](const Json& current, Json& wanted) {
                     if (current.value("subsets", Json()) == subsets) return false;
                     wanted["subsets"] = subsets;
                     return true;
                   }));

  auto address = IpAddr::parse(config.advertiseAddress);
  Json sliceEndpoints = Json::array(
      {{{"addresses", Json::array({config.advertiseAddress})}, {"conditions", {{"ready", true}}}}});
  Json slice = {{"apiVersion", "discovery.k8s.io/v1"},
                {"kind", "EndpointSlice"},
                {"metadata", meta("kubernetes", {{"kubernetes.io/service-name", "kubernetes"}})},
                {"addressType", address && address->isV6() ? "IPv6" : "IPv4"},
                {"endpoints", sliceEndpoints},
                {"ports", endpointPorts}};
  BERTH_TRY(ensure(registry, "discovery.k8s.io", "endpointslices", "default", slice,
                   [&](const Json& current, Json& wanted) {
                     if (current.value("endpoints", Json()) == sliceEndpoints &&
                         current.value("ports", Json()) == endpointPorts) {
                       return false;
                     }
                     wanted["endpoints"] = sliceEndpoints;
                     wanted["ports"] = endpointPorts;
                     return true;
                   }));

  struct Priority {
    const char* name;
    std::int64_t value;
    const char* description;
  };
  for (const Priority& p :
       {Priority{"system-node-critical", 2000001000,
                 "For system pods that must stay on the node they run on."},
        Priority{"system-cluster-critical", 2000000000,
                 "For system pods the cluster needs, which may move to another node."}}) {
    BERTH_TRY(ensure(registry, "scheduling.k8s.io", "priorityclasses", "",
                     {{"apiVersion", "scheduling.k8s.io/v1"},
                      {"kind", "PriorityClass"},
                      {"metadata", meta(p.name)},
                      {"value", p.value},
                      {"preemptionPolicy", "PreemptLowerPriority"},
                      {"description", p.description}}));
  }

  for (const Json& object : config.policy) {
    std::string kind = jsonString(object, "kind");
    std::string resource = kind == "ClusterRole"          ? "clusterroles"
                           : kind == "ClusterRoleBinding" ? "clusterrolebindings"
                           : kind == "Role"               ? "roles"
                                                          : "rolebindings";
    std::string ns = jsonString(object["metadata"], "namespace");
    // Upstream reconciles its default policy at every start (auto-update annotation); the
    // rules are ours to keep current, so they are rewritten when they differ.
    BERTH_TRY(ensure(registry, "rbac.authorization.k8s.io", resource, ns, object,
                     [&](const Json& current, Json& wanted) {
                       bool changed = false;
                       for (const char* field : {"rules", "aggregationRule", "subjects"}) {
                         if (object.contains(field) &&
                             current.value(field, Json()) != object[field]) {
                           wanted[field] = object[field];
                           changed = true;
                         }
                       }
                       return changed;
                     }));
  }
  return {};
}

}  // namespace berth::controlplane::apiserver
