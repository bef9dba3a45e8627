#include "controlplane/schema/served_fixture.h"

#include <cctype>
#include <string>

namespace berth::controlplane::schema {
namespace {

const std::vector<std::string> kAll = {"create", "delete", "deletecollection", "get",
                                       "list",   "patch",  "update",           "watch"};
const std::vector<std::string> kStatus = {"get", "patch", "update"};

struct Builder {
  std::vector<ServedResource>& out;
  std::string group, version, package;

  ServedResource& add(std::string resource, std::string kind, bool namespaced,
                      std::vector<std::string> verbs = kAll,
                      std::vector<std::string> shortNames = {},
                      std::vector<std::string> categories = {}) {
    ServedResource r;
    r.group = group;
    r.version = version;
    r.resource = std::move(resource);
    r.kind = kind;
    r.singularName = kind;
    for (char& c : r.singularName)
      c = static_cast<char>(std::tolower(c));
    r.namespaced = namespaced;
    r.verbs = std::move(verbs);
    r.shortNames = std::move(shortNames);
    r.categories = std::move(categories);
    r.typeName = package + "." + kind;
    out.push_back(std::move(r));
    return out.back();
  }
  // A subresource of the last main resource named `resource`.
  ServedResource& sub(const std::string& resource, std::string subresource, std::string kind,
                      std::vector<std::string> verbs, std::string typeName = "",
                      std::string kindGroup = "", std::string kindVersion = "") {
    ServedResource parent;
    for (const ServedResource& r : out)
      if (r.group == group && r.resource == resource && r.subresource.empty()) parent = r;
    ServedResource r;
    r.group = group;
    r.version = version;
    r.resource = resource;
    r.subresource = std::move(subresource);
    r.kind = kind;
    r.kindGroup = std::move(kindGroup);
    r.kindVersion = std::move(kindVersion);
    r.namespaced = parent.namespaced;
    r.verbs = std::move(verbs);
    r.typeName = typeName.empty() ? parent.typeName : typeName;
    out.push_back(std::move(r));
    return out.back();
  }
};

}  // namespace

std::vector<ServedResource> servedFixture() {
  std::vector<ServedResource> out;
  const std::vector<std::string> create = {"create"};
  {
    Builder b{out, "", "v1", "io.k8s.api.core.v1"};
    b.add("bindings", "Binding", true, create);
    b.add("configmaps", "ConfigMap", true, kAll, {"cm"});
    b.add("endpoints", "Endpoints", true, kAll, {"ep"});
    b.add("events", "Event", true, kAll, {"ev"});
    b.add("namespaces", "Namespace", false,
          {"create", "delete", "get", "list", "patch", "update", "watch"}, {"ns"});
    b.sub("namespaces", "status", "Namespace", kStatus);
    b.add("nodes", "Node", false, kAll, {"no"});
    b.sub("nodes", "proxy", "NodeProxyOptions", {"create", "delete", "get", "patch", "update"});
    b.sub("nodes", "status", "Node", kStatus);
    b.add("persistentvolumeclaims", "PersistentVolumeClaim", true, kAll, {"pvc"})
        .returnsDeletedObject = true;
    b.sub("persistentvolumeclaims", "status", "PersistentVolumeClaim", kStatus);
    b.add("persistentvolumes", "PersistentVolume", false, kAll, {"pv"}).returnsDeletedObject = true;
    b.sub("persistentvolumes", "status", "PersistentVolume", kStatus);
    b.add("pods", "Pod", true, kAll, {"po"}, {"all"}).returnsDeletedObject = true;
    b.sub("pods", "attach", "PodAttachOptions", {"create", "get"});
    b.sub("pods", "binding", "Binding", create, "io.k8s.api.core.v1.Binding");
    b.sub("pods", "ephemeralcontainers", "Pod", kStatus);
    b.sub("pods", "eviction", "Eviction", create, "io.k8s.api.policy.v1.Eviction", "policy", "v1");
    b.sub("pods", "exec", "PodExecOptions", {"create", "get"});
    b.sub("pods", "log", "Pod", {"get"});
    b.sub("pods", "portforward", "PodPortForwardOptions", {"create", "get"});
    b.sub("pods", "proxy", "PodProxyOptions", {"create", "delete", "get", "patch", "update"});
    b.sub("pods", "resize", "Pod", kStatus);
    b.sub("pods", "status", "Pod", kStatus);
    b.add("secrets", "Secret", true);
    b.add("serviceaccounts", "ServiceAccount", true, kAll, {"sa"}).returnsDeletedObject = true;
    b.sub("serviceaccounts", "token", "TokenRequest", create,
          "io.k8s.api.authentication.v1.TokenRequest", "authentication.k8s.io", "v1");
    b.add("services", "Service", true,
          {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"},
          {"svc"}, {"all"})
        .returnsDeletedObject = true;
    b.sub("services", "proxy", "ServiceProxyOptions",
          {"create", "delete", "get", "patch", "update"});
    b.sub("services", "status", "Service", kStatus);
  }
  {
    Builder b{out, "apps", "v1", "io.k8s.api.apps.v1"};
    b.add("controllerrevisions", "ControllerRevision", true);
    struct Workload {
      const char* resource;
      const char* kind;
      const char* shortName;
    };
    for (auto [res, kind, shortName] : {Workload{"daemonsets", "DaemonSet", "ds"},
                                        Workload{"deployments", "Deployment", "deploy"},
                                        Workload{"replicasets", "ReplicaSet", "rs"},
                                        Workload{"statefulsets", "StatefulSet", "sts"}}) {
      b.add(res, kind, true, kAll, {shortName}, {"all"});
      if (std::string(res) != "daemonsets")
        b.sub(res, "scale", "Scale", kStatus, "io.k8s.api.autoscaling.v1.Scale", "autoscaling",
              "v1");
      b.sub(res, "status", kind, kStatus);
    }
  }
  {
    Builder b{out, "batch", "v1", "io.k8s.api.batch.v1"};
    b.add("cronjobs", "CronJob", true, kAll, {"cj"}, {"all"});
    b.sub("cronjobs", "status", "CronJob", kStatus);
    b.add("jobs", "Job", true, kAll, {}, {"all"});
    b.sub("jobs", "status", "Job", kStatus);
  }
  {
    Builder b{out, "rbac.authorization.k8s.io", "v1", "io.k8s.api.rbac.v1"};
    b.add("clusterrolebindings", "ClusterRoleBinding", false);
    b.add("clusterroles", "ClusterRole", false);
    b.add("rolebindings", "RoleBinding", true);
    b.add("roles", "Role", true);
  }
  {
    Builder b{out, "certificates.k8s.io", "v1", "io.k8s.api.certificates.v1"};
    b.add("certificatesigningrequests", "CertificateSigningRequest", false, kAll, {"csr"});
    b.sub("certificatesigningrequests", "approval", "CertificateSigningRequest", kStatus);
    b.sub("certificatesigningrequests", "status", "CertificateSigningRequest", kStatus);
  }
  Builder{out, "storage.k8s.io", "v1", "io.k8s.api.storage.v1"}
      .add("storageclasses", "StorageClass", false, kAll, {"sc"})
      .returnsDeletedObject = true;
  Builder{out, "node.k8s.io", "v1", "io.k8s.api.node.v1"}.add("runtimeclasses", "RuntimeClass",
                                                              false);
  Builder{out, "scheduling.k8s.io", "v1", "io.k8s.api.scheduling.v1"}.add(
      "priorityclasses", "PriorityClass", false, kAll, {"pc"});
  Builder{out, "events.k8s.io", "v1", "io.k8s.api.events.v1"}.add("events", "Event", true, kAll,
                                                                  {"ev"});
  Builder{out, "coordination.k8s.io", "v1", "io.k8s.api.coordination.v1"}.add("leases", "Lease",
                                                                              true);
  Builder{out, "discovery.k8s.io", "v1", "io.k8s.api.discovery.v1"}.add("endpointslices",
                                                                        "EndpointSlice", true);
  {
    Builder b{out, "authorization.k8s.io", "v1", "io.k8s.api.authorization.v1"};
    b.add("selfsubjectaccessreviews", "SelfSubjectAccessReview", false, create);
    b.add("selfsubjectrulesreviews", "SelfSubjectRulesReview", false, create);
    b.add("subjectaccessreviews", "SubjectAccessReview", false, create);
  }
  {
    Builder b{out, "authentication.k8s.io", "v1", "io.k8s.api.authentication.v1"};
    b.add("selfsubjectreviews", "SelfSubjectReview", false, create);
    b.add("tokenreviews", "TokenReview", false, create);
  }
  return out;
}

}  // namespace berth::controlplane::schema
