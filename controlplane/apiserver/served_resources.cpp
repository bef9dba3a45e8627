// The resources berth-server serves, in the order discovery lists them, with the facts
// kube-apiserver 1.32 gives for each (verbs, short names, categories, subresources).
#include "controlplane/apiserver/registry.h"
#include "controlplane/apiserver/strategies.h"

#include <set>

namespace berth::controlplane::apiserver {
namespace {

const std::vector<std::string> kAllVerbs = {"create", "delete", "deletecollection", "get",
                                            "list",   "patch",  "update",           "watch"};

// "io.k8s.api.<first label of the group, or core>.<version>.<Kind>".
std::string typeNameOf(const std::string& group, const std::string& version,
                       const std::string& kind) {
  std::string g = group.empty() ? "core" : group.substr(0, group.find('.'));
  return "io.k8s.api." + g + "." + version + "." + kind;
}

struct Row {
  const char* group;
  const char* version;
  const char* resource;
  const char* singular;
  const char* kind;
  bool namespaced;
  std::vector<std::string> shortNames;
  std::vector<std::string> categories;
  std::vector<std::string> subresources;
  const Strategy* strategy;
  std::vector<std::string> verbs = kAllVerbs;
  bool stored = true;
};

std::vector<ResourceSpec> build() {
  const std::vector<std::string> create = {"create"};
  const std::vector<std::string> all = {"all"};
  std::vector<Row> rows = {
      // core/v1
      {"", "v1", "bindings", "binding", "Binding", true, {}, {}, {}, nullptr, create, false},
      {"", "v1", "configmaps", "configmap", "ConfigMap", true, {"cm"}, {}, {}, nullptr},
      {"", "v1", "endpoints", "endpoints", "Endpoints", true, {"ep"}, {}, {}, &endpointsStrategy()},
      {"", "v1", "events", "event", "Event", true, {"ev"}, {}, {}, &eventStrategy()},
      {"",
       "v1",
       "namespaces",
       "namespace",
       "Namespace",
       false,
       {"ns"},
       {},
       {"finalize", "status"},
       &namespaceStrategy(),
       {"create", "delete", "get", "list", "patch", "update", "watch"}},
      {"", "v1", "nodes", "node", "Node", false, {"no"}, {}, {"proxy", "status"}, &nodeStrategy()},
      {"",
       "v1",
       "persistentvolumeclaims",
       "persistentvolumeclaim",
       "PersistentVolumeClaim",
       true,
       {"pvc"},
       {},
       {"status"},
       &statusStrategy()},
      {"",
       "v1",
       "persistentvolumes",
       "persistentvolume",
       "PersistentVolume",
       false,
       {"pv"},
       {},
       {"status"},
       &statusStrategy()},
      {"",
       "v1",
       "pods",
       "pod",
       "Pod",
       true,
       {"po"},
       all,
       {"attach", "binding", "ephemeralcontainers", "eviction", "exec", "log", "portforward",
        "proxy", "status"},
       &podStrategy()},
      {"", "v1", "secrets", "secret", "Secret", true, {}, {}, {}, &secretStrategy()},
      {"",
       "v1",
       "serviceaccounts",
       "serviceaccount",
       "ServiceAccount",
       true,
       {"sa"},
       {},
       {"token"},
       nullptr},
      {"",
       "v1",
       "services",
       "service",
       "Service",
       true,
       {"svc"},
       all,
       {"proxy", "status"},
       &serviceStrategy(),
       {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}},
      // apps/v1
      {"apps",
       "v1",
       "controllerrevisions",
       "controllerrevision",
       "ControllerRevision",
       true,
       {},
       {},
       {},
       nullptr},
      {"apps",
       "v1",
       "daemonsets",
       "daemonset",
       "DaemonSet",
       true,
       {"ds"},
       all,
       {"status"},
       &daemonSetStrategy()},
      {"apps",
       "v1",
       "deployments",
       "deployment",
       "Deployment",
       true,
       {"deploy"},
       all,
       {"scale", "status"},
       &deploymentStrategy()},
      {"apps",
       "v1",
       "replicasets",
       "replicaset",
       "ReplicaSet",
       true,
       {"rs"},
       all,
       {"scale", "status"},
       &replicaSetStrategy()},
      {"apps",
       "v1",
       "statefulsets",
       "statefulset",
       "StatefulSet",
       true,
       {"sts"},
       all,
       {"scale", "status"},
       &statefulSetStrategy()},
      // authentication.k8s.io/v1, authorization.k8s.io/v1
      {"authentication.k8s.io",
       "v1",
       "selfsubjectreviews",
       "selfsubjectreview",
       "SelfSubjectReview",
       false,
       {},
       {},
       {},
       nullptr,
       create,
       false},
      {"authentication.k8s.io",
       "v1",
       "tokenreviews",
       "tokenreview",
       "TokenReview",
       false,
       {},
       {},
       {},
       nullptr,
       create,
       false},
      {"authorization.k8s.io",
       "v1",
       "localsubjectaccessreviews",
       "localsubjectaccessreview",
       "LocalSubjectAccessReview",
       true,
       {},
       {},
       {},
       nullptr,
       create,
       false},
      {"authorization.k8s.io",
       "v1",
       "selfsubjectaccessreviews",
       "selfsubjectaccessreview",
       "SelfSubjectAccessReview",
       false,
       {},
       {},
       {},
       nullptr,
       create,
       false},
      {"authorization.k8s.io",
       "v1",
       "selfsubjectrulesreviews",
       "selfsubjectrulesreview",
       "SelfSubjectRulesReview",
       false,
       {},
       {},
       {},
       nullptr,
       create,
       false},
      {"authorization.k8s.io",
       "v1",
       "subjectaccessreviews",
       "subjectaccessreview",
       "SubjectAccessReview",
       false,
       {},
       {},
       {},
       nullptr,
       create,
       false},
      // batch/v1
      {"batch",
       "v1",
       "cronjobs",
       "cronjob",
       "CronJob",
       true,
       {"cj"},
       all,
       {"status"},
       &cronJobStrategy()},
      {"batch", "v1", "jobs", "job", "Job", true, {}, all, {"status"}, &jobStrategy()},
      // certificates.k8s.io/v1
      {"certificates.k8s.io",
       "v1",
       "certificatesigningrequests",
       "certificatesigningrequest",
       "CertificateSigningRequest",
       false,
       {"csr"},
       {},
       {"approval", "status"},
       &csrStrategy()},
      // coordination.k8s.io/v1
      {"coordination.k8s.io", "v1", "leases", "lease", "Lease", true, {}, {}, {}, nullptr},
      // discovery.k8s.io/v1
      {"discovery.k8s.io",
       "v1",
       "endpointslices",
       "endpointslice",
       "EndpointSlice",
       true,
       {},
       {},
       {},
       &endpointSliceStrategy()},
      // events.k8s.io/v1
      {"events.k8s.io", "v1", "events", "event", "Event", true, {"ev"}, {}, {}, &eventStrategy()},
      // node.k8s.io/v1
      {"node.k8s.io",
       "v1",
       "runtimeclasses",
       "runtimeclass",
       "RuntimeClass",
       false,
       {},
       {},
       {},
       nullptr},
      // rbac.authorization.k8s.io/v1
      {"rbac.authorization.k8s.io",
       "v1",
       "clusterrolebindings",
       "clusterrolebinding",
       "ClusterRoleBinding",
       false,
       {},
       {},
       {},
       &rbacStrategy()},
      {"rbac.authorization.k8s.io",
       "v1",
       "clusterroles",
       "clusterrole",
       "ClusterRole",
       false,
       {},
       {},
       {},
       &rbacStrategy()},
      {"rbac.authorization.k8s.io",
       "v1",
       "rolebindings",
       "rolebinding",
       "RoleBinding",
       true,
       {},
       {},
       {},
       &rbacStrategy()},
      {"rbac.authorization.k8s.io",
       "v1",
       "roles",
       "role",
       "Role",
       true,
       {},
       {},
       {},
       &rbacStrategy()},
      // scheduling.k8s.io/v1
      {"scheduling.k8s.io",
       "v1",
       "priorityclasses",
       "priorityclass",
       "PriorityClass",
       false,
       {"pc"},
       {},
       {},
       nullptr},
      // storage.k8s.io/v1
      {"storage.k8s.io",
       "v1",
       "storageclasses",
       "storageclass",
       "StorageClass",
       false,
       {"sc"},
       {},
       {},
       nullptr},
  };

  std::vector<ResourceSpec> specs;
  specs.reserve(rows.size());
  for (Row& row : rows) {
    ResourceSpec spec;
    spec.served.group = row.group;
    spec.served.version = row.version;
    spec.served.resource = row.resource;
    spec.served.singularName = row.singular;
    spec.served.kind = row.kind;
    spec.served.namespaced = row.namespaced;
    spec.served.verbs = std::move(row.verbs);
    spec.served.shortNames = std::move(row.shortNames);
    spec.served.categories = std::move(row.categories);
    spec.served.typeName = typeNameOf(row.group, row.version, row.kind);
    spec.subresources = std::move(row.subresources);
    spec.strategy = row.strategy;
    spec.stored = row.stored;
    // DELETE answers with the object for these, with a Success Status for the rest (as the
    // resources' REST storage upstream sets ReturnDeletedObject).
    static const std::set<std::string> kReturnsDeleted = {
        "persistentvolumeclaims", "persistentvolumes", "pods",
        "serviceaccounts",        "services",          "storageclasses"};
    spec.served.returnsDeletedObject = kReturnsDeleted.contains(spec.served.resource);
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace

const std::vector<ResourceSpec>& servedResourceSpecs() {
  static const std::vector<ResourceSpec> specs = build();
  return specs;
}

}  // namespace berth::controlplane::apiserver
