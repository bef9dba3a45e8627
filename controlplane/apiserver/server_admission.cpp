#include "controlplane/apiserver/server_admission.h"
#include "controlplane/apiserver/json_fields.h"

#include <fmt/format.h>

namespace berth::controlplane::apiserver {
namespace {

constexpr const char* kServiceAccountMountPath = "/var/run/secrets/kubernetes.io/serviceaccount";
constexpr std::int64_t kDefaultTolerationSeconds = 300;

bool isPodCreate(const AdmissionAttributes& a) {
  return a.operation == "CREATE" && a.info.apiGroup.empty() && a.info.resource == "pods" &&
         a.info.subresource.empty();
}

ApiError forbidden(const AdmissionAttributes& a, std::string_view name, std::string why) {
  return kubeapi::forbiddenStatus({a.info.apiGroup, a.info.resource}, name, why);
}

// The projected volume the ServiceAccount plugin gives a pod: the bound token, the cluster's CA
// and the namespace.
Json apiAccessVolume(const std::string& name) {
  return {
      {"name", name},
      {"projected",
       {{"sources",
         Json::array({{{"serviceAccountToken", {{"expirationSeconds", 3607}, {"path", "token"}}}},
                      {{"configMap",
                        {{"name", "kube-root-ca.crt"},
                         {"items", Json::array({{{"key", "ca.crt"}, {"path", "ca.crt"}}})}}}},
                      {{"downwardAPI",
                        {{"items", Json::array({{{"path", "namespace"},
                                                 {"fieldRef",
                                                  {{"apiVersion", "v1"},
                                                   {"fieldPath", "metadata.namespace"}}}}})}}}}})},
        {"defaultMode", 420}}}};
}

void mountInto(Json& containers, const std::string& volume) {
  if (!containers.is_array()) return;
  for (Json& c : containers) {
    Json& mounts = c["volumeMounts"];
    if (!mounts.is_array()) mounts = Json::array();
    bool has = false;
    for (const Json& m : mounts)
      has = has || jsonString(m, "mountPath") == kServiceAccountMountPath;
    if (!has) {
      mounts.push_back(
          {{"name", volume}, {"readOnly", true}, {"mountPath", kServiceAccountMountPath}});
    }
  }
}

void addDefaultTolerations(Json& pod) {
  Json& tolerations = pod["spec"]["tolerations"];
  if (!tolerations.is_array()) tolerations = Json::array();
  for (const char* key : {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}) {
    bool has = false;
    for (const Json& t : tolerations) {
      std::string effect = jsonString(t, "effect");
      bool matchesKey = jsonString(t, "key") == key ||
                        (jsonString(t, "key").empty() && jsonString(t, "operator") == "Exists");
      has = has || (matchesKey && (effect.empty() || effect == "NoExecute"));
    }
    if (!has) {
      tolerations.push_back({{"key", key},
                             {"operator", "Exists"},
                             {"effect", "NoExecute"},
                             {"tolerationSeconds", kDefaultTolerationSeconds}});
    }
  }
}

}  // namespace

ServerAdmission::ServerAdmission(const storage::ObjectLookup& lookup, ServiceAllocator& services,
                                 AuthAdmission auth, std::function<std::string()> randomSuffix)
    : lookup_(lookup),
      services_(services),
      auth_(std::move(auth)),
      randomSuffix_(std::move(randomSuffix)) {}

WriteHooks ServerAdmission::hooksFor(const AdmissionAttributes& attributes) {
  // The hooks outlive this call (the store runs them later in the request): copy what they read.
  auto info = std::make_shared<RequestInfo>(attributes.info);
  auto user = std::make_shared<auth::UserInfo>(attributes.user);
  std::string operation = attributes.operation;
  bool dryRun = attributes.dryRun;
  WriteHooks hooks;
  hooks.mutate = [this, info, user, operation, dryRun](Json& object, const Json* old) {
    AdmissionAttributes a{*info, *user, old ? "UPDATE" : operation, dryRun};
    return mutate(a, object, old);
  };
  hooks.validate = [this, info, user, operation, dryRun](const Json& object, const Json* old) {
    AdmissionAttributes a{*info, *user, old ? "UPDATE" : operation, dryRun};
    return validate(a, object, old);
  };
  return hooks;
}

std::function<std::optional<ApiError>(const Json&)> ServerAdmission::deleteHookFor(
    const AdmissionAttributes& attributes) {
  auto info = std::make_shared<RequestInfo>(attributes.info);
  auto user = std::make_shared<auth::UserInfo>(attributes.user);
  std::string operation = attributes.operation;
  bool dryRun = attributes.dryRun;
  return [this, info, user, operation, dryRun](const Json& object) -> std::optional<ApiError> {
    AdmissionAttributes a{*info, *user, operation, dryRun};
    if (a.info.resource == "namespaces" && a.info.apiGroup.empty()) {
      for (const char* immortal : {"default", "kube-system", "kube-public"}) {
        if (a.info.name == immortal) {
          return forbidden(a, a.info.name, "this namespace may not be deleted");
        }
      }
    }
    if (auth_.nodeRestriction) return auth_.nodeRestriction(a, nullptr, &object);
    return std::nullopt;
  };
}

std::optional<ApiError> ServerAdmission::admitOther(const AdmissionAttributes& a,
                                                    const Json* object) {
  if (auth_.nodeRestriction) return auth_.nodeRestriction(a, object, nullptr);
  return std::nullopt;
}

std::optional<ApiError> ServerAdmission::namespaceLifecycle(const AdmissionAttributes& a) const {
  if (a.operation != "CREATE" || a.info.namespace_.empty() || a.info.resource == "namespaces") {
    return std::nullopt;
  }
  storage::ObjectPtr ns = lookup_.get("", "namespaces", "", a.info.namespace_);
  if (!ns) return kubeapi::notFoundStatus({"", "namespaces"}, a.info.namespace_);
  const Json& object = ns->json();
  if (jsonString(jsonField(object, "status"), "phase") == "Terminating" ||
      !jsonString(jsonField(object, "metadata"), "deletionTimestamp").empty()) {
    return forbidden(a, a.info.name,
                     fmt::format("unable to create new content in namespace {} because it is "
                                 "being terminated",
                                 a.info.namespace_));
  }
  return std::nullopt;
}

std::optional<ApiError> ServerAdmission::serviceAccount(const AdmissionAttributes& a,
                                                        Json& pod) const {
  // Mirror pods (static pods the kubelet reports) carry no service account.
  if (jsonField(jsonField(pod, "metadata"), "annotations")
          .contains("kubernetes.io/config.mirror")) {
    return std::nullopt;
  }
  Json& spec = pod["spec"];
  std::string name = jsonString(spec, "serviceAccountName");
  if (name.empty()) name = "default";
  spec["serviceAccountName"] = name;
  spec["serviceAccount"] = name;
  storage::ObjectPtr sa = lookup_.get("", "serviceaccounts", a.info.namespace_, name);
  if (!sa) {
    return forbidden(a, jsonString(jsonField(pod, "metadata"), "name"),
                     fmt::format("error looking up service account {}/{}: serviceaccount {} not "
                                 "found",
                                 a.info.namespace_, name, Json(name).dump()));
  }
  const Json& podAutomount = jsonField(spec, "automountServiceAccountToken");
  const Json& saAutomount = jsonField(sa->json(), "automountServiceAccountToken");
  bool automount = podAutomount.is_boolean()  ? podAutomount.get<bool>()
                   : saAutomount.is_boolean() ? saAutomount.get<bool>()
                                              : true;
  if (!automount) return std::nullopt;
  Json& volumes = spec["volumes"];
  if (!volumes.is_array()) volumes = Json::array();
  for (const Json& v : volumes) {
    if (jsonString(v, "name").starts_with("kube-api-access-")) return std::nullopt;
  }
  std::string volume = "kube-api-access-" + randomSuffix_();
  volumes.push_back(apiAccessVolume(volume));
  mountInto(spec["containers"], volume);
  if (spec.contains("initContainers")) mountInto(spec["initContainers"], volume);
  return std::nullopt;
}

std::optional<ApiError> ServerAdmission::priority(const AdmissionAttributes& a, Json& pod) const {
  Json& spec = pod["spec"];
  std::string className = jsonString(spec, "priorityClassName");
  std::optional<std::int64_t> value;
  std::string preemption = "PreemptLowerPriority";
  if (!className.empty()) {
    storage::ObjectPtr pc = lookup_.get("scheduling.k8s.io", "priorityclasses", "", className);
    if (!pc) {
      return forbidden(a, jsonString(jsonField(pod, "metadata"), "name"),
                       fmt::format("no PriorityClass with name {} was found", className));
    }
    value = jsonField(pc->json(), "value").get<std::int64_t>();
    if (!jsonString(pc->json(), "preemptionPolicy").empty())
      preemption = jsonString(pc->json(), "preemptionPolicy");
  } else {
    for (const auto& pc : lookup_.list("scheduling.k8s.io", "priorityclasses", "")) {
      if (jsonField(pc->json(), "globalDefault") == Json(true)) {
        value = jsonField(pc->json(), "value").get<std::int64_t>();
        spec["priorityClassName"] = jsonString(jsonField(pc->json(), "metadata"), "name");
        if (!jsonString(pc->json(), "preemptionPolicy").empty()) {
          preemption = jsonString(pc->json(), "preemptionPolicy");
        }
      }
    }
  }
  std::int64_t computed = value.value_or(0);
  const Json& given = jsonField(spec, "priority");
  if (given.is_number_integer() && given.get<std::int64_t>() != computed) {
    return forbidden(a, jsonString(jsonField(pod, "metadata"), "name"),
                     fmt::format("the integer value of priority ({}) must not be provided in pod "
                                 "spec; priority admission controller computed {} from the given "
                                 "PriorityClass name",
                                 given.get<std::int64_t>(), computed));
  }
  spec["priority"] = computed;
  spec["preemptionPolicy"] = preemption;
  return std::nullopt;
}

std::optional<ApiError> ServerAdmission::mutate(const AdmissionAttributes& a, Json& object,
                                                const Json* old) {
  if (auto refused = namespaceLifecycle(a)) return refused;
  if (isPodCreate(a)) {
    if (auto refused = serviceAccount(a, object)) return refused;
    if (auto refused = priority(a, object)) return refused;
    addDefaultTolerations(object);
  }
  if (a.info.apiGroup.empty() && a.info.resource == "services" && a.info.subresource.empty()) {
    if (auto refused = services_.allocate(object, old)) return refused;
  }
  if (a.operation == "CREATE" && a.info.apiGroup == "certificates.k8s.io" &&
      a.info.resource == "certificatesigningrequests") {
    // The requester is who created it, whatever the body says.
    Json& spec = object["spec"];
    spec["username"] = a.user.name;
    if (!a.user.uid.empty()) spec["uid"] = a.user.uid;
    spec["groups"] = a.user.groups;
    if (!a.user.extra.empty()) spec["extra"] = a.user.extra;
  }
  return std::nullopt;
}

std::optional<ApiError> ServerAdmission::validate(const AdmissionAttributes& a, const Json& object,
                                                  const Json* old) {
  if (auth_.nodeRestriction) {
    if (auto refused = auth_.nodeRestriction(a, &object, old)) return refused;
  }
  if (auth_.rbacEscalation && a.info.apiGroup == "rbac.authorization.k8s.io") {
    if (auto refused = auth_.rbacEscalation(a, object, old)) return refused;
  }
  return std::nullopt;
}

}  // namespace berth::controlplane::apiserver
