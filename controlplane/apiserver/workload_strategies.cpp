// apps/v1 and batch/v1 workloads: each kind's SetDefaults (pkg/apis/apps/v1/defaults.go,
// pkg/apis/batch/v1/defaults.go), the selector a Job generates for itself, and the validation
// controllers rely on (a selector that matches the template, the template's restartPolicy, the
// rollout strategy's fields). The controllers of `berth up` read these defaults instead of
// assuming them.
#include <string>
#include <vector>

#include "controlplane/apiserver/json_fields.h"
#include "controlplane/apiserver/pod_spec_rules.h"
#include "controlplane/apiserver/strategies.h"
#include "kubeapi/label_selector.h"
#include "kubeapi/pod_defaults.h"

namespace berth::controlplane::apiserver {
namespace {

using kubeapi::FieldPath;

void defaultTo(Json& object, const char* field, Json value) {
  if (!object.contains(field) || object[field].is_null()) object[field] = std::move(value);
}

// The pod spec of `spec.template` gets the pod defaults (imagePullPolicy, resources, ...).
void defaultTemplate(Json& spec) {
  if (!spec.is_object() || !jsonField(spec, "template").is_object()) return;
  Json& tmpl = spec["template"];
  if (jsonField(tmpl, "spec").is_object()) kubeapi::applyPodSpecDefaults(tmpl["spec"]);
}

// The fields of a rollout's rollingUpdate defaulted when its type is RollingUpdate.
void defaultRollingUpdate(Json& strategy, Json maxUnavailable, Json maxSurge) {
  defaultTo(strategy, "type", "RollingUpdate");
  if (strategy["type"] != "RollingUpdate") return;
  Json& rolling = strategy["rollingUpdate"];
  if (!rolling.is_object()) rolling = Json::object();
  defaultTo(rolling, "maxUnavailable", std::move(maxUnavailable));
  if (!maxSurge.is_null()) defaultTo(rolling, "maxSurge", std::move(maxSurge));
}

void nonNegative(const Json& spec, const FieldPath& path, const char* field, FieldErrors& errors) {
  const Json& v = jsonField(spec, field);
  if (v.is_number_integer() && v.get<std::int64_t>() < 0) {
    errors.push_back(
        FieldError::invalid(path.child(field), v, "must be greater than or equal to 0"));
  }
}

// ValidatePodTemplateSpec with the owner's selector and allowed restart policies.
void validateTemplate(const Json& spec, const FieldPath& path, const Json* selector,
                      const std::vector<std::string>& restartPolicies, FieldErrors& errors) {
  const Json& tmpl = jsonField(spec, "template");
  FieldPath at = path.child("template");
  if (!tmpl.is_object()) {
    errors.push_back(FieldError::required(at));
    return;
  }
  const Json& labels = jsonField(jsonField(tmpl, "metadata"), "labels");
  if (selector != nullptr && selector->is_object()) {
    auto parsed = kubeapi::LabelSelector::fromLabelSelector(*selector);
    const Json noLabels = Json::object();
    if (parsed && !parsed->empty() && !parsed->matches(labels.is_object() ? labels : noLabels)) {
      errors.push_back(FieldError::invalid(at.child("metadata").child("labels"),
                                           labels.is_null() ? Json::object() : labels,
                                           "`selector` does not match template `labels`"));
    }
  }
  const Json& podSpec = jsonField(tmpl, "spec");
  FieldPath specPath = at.child("spec");
  for (FieldError& e : validatePodSpec(podSpec, specPath))
    errors.push_back(std::move(e));
  requireEnum(podSpec, specPath, "restartPolicy", restartPolicies, true, errors);
}

// An apps/v1 selector: required, not empty, well formed.
const Json* validateAppsSelector(const Json& spec, const FieldPath& path, const char* kind,
                                 FieldErrors& errors) {
  const Json& selector = jsonField(spec, "selector");
  FieldPath at = path.child("selector");
  if (!selector.is_object()) {
    errors.push_back(FieldError::required(at));
    return nullptr;
  }
  if (jsonField(selector, "matchLabels").empty() &&
      jsonField(selector, "matchExpressions").empty()) {
    errors.push_back(
        FieldError::invalid(at, selector, std::string("empty selector is invalid for ") + kind));
    return nullptr;
  }
  auto parsed = kubeapi::LabelSelector::fromLabelSelector(selector);
  if (!parsed) {
    errors.push_back(FieldError::invalid(at, selector, parsed.error().message()));
    return nullptr;
  }
  return &selector;
}

class WorkloadStrategy : public Strategy {
 public:
  bool hasStatusSubresource() const override { return true; }
  bool tracksGeneration() const override { return true; }
  void prepareForCreate(Json& object) const override { object.erase("status"); }
  FieldErrors validate(const Json& object) const override {
    return validateSpec(jsonField(object, "spec"), FieldPath("spec"));
  }
  FieldErrors validateUpdate(const Json& object, const Json& old) const override {
    FieldErrors errors = validate(object);
    // Selectors are immutable (a Job's too): a controller would otherwise orphan its pods.
    const Json& before = jsonField(jsonField(old, "spec"), "selector");
    const Json& now = jsonField(jsonField(object, "spec"), "selector");
    if (!before.is_null() && now != before) {
      errors.push_back(
          FieldError::invalid(FieldPath("spec").child("selector"), now, "field is immutable"));
    }
    return errors;
  }

 protected:
  virtual FieldErrors validateSpec(const Json& spec, const FieldPath& path) const = 0;
};

// Deployments, ReplicaSets, DaemonSets and StatefulSets: an apps selector over a template whose
// pods always restart.
class AppsStrategy : public WorkloadStrategy {
 public:
  explicit AppsStrategy(const char* kind) : kind_(kind) {}

 protected:
  FieldErrors validateSpec(const Json& spec, const FieldPath& path) const override {
    FieldErrors errors;
    const Json* selector = validateAppsSelector(spec, path, kind_, errors);
    validateTemplate(spec, path, selector, {"Always"}, errors);
    for (const char* field : {"replicas", "minReadySeconds", "revisionHistoryLimit"}) {
      nonNegative(spec, path, field, errors);
    }
    validateKind(spec, path, errors);
    return errors;
  }
  virtual void validateKind(const Json& /*spec*/, const FieldPath& /*path*/,
                            FieldErrors& /*errors*/) const {}

 private:
  const char* kind_;
};

class DeploymentStrategy final : public AppsStrategy {
 public:
  DeploymentStrategy() : AppsStrategy("deployment") {}
  void applyDefaults(Json& deployment) const override {
    Json& spec = deployment["spec"];
    if (!spec.is_object()) return;
    defaultTo(spec, "replicas", 1);
    Json& strategy = spec["strategy"];
    if (!strategy.is_object()) strategy = Json::object();
    defaultRollingUpdate(strategy, "25%", "25%");
    defaultTo(spec, "revisionHistoryLimit", 10);
    defaultTo(spec, "progressDeadlineSeconds", 600);
    defaultTemplate(spec);
  }

 protected:
  void validateKind(const Json& spec, const FieldPath& path, FieldErrors& errors) const override {
    const Json& strategy = jsonField(spec, "strategy");
    FieldPath at = path.child("strategy");
    requireEnum(strategy, at, "type", {"Recreate", "RollingUpdate"}, true, errors);
    const Json& rolling = jsonField(strategy, "rollingUpdate");
    if (jsonString(strategy, "type") == "Recreate" && !rolling.is_null()) {
      errors.push_back(FieldError::forbidden(
          at.child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"));
    }
    if (rolling.is_object() && isZero(jsonField(rolling, "maxUnavailable")) &&
        isZero(jsonField(rolling, "maxSurge"))) {
      errors.push_back(FieldError::invalid(at.child("rollingUpdate").child("maxUnavailable"),
                                           jsonField(rolling, "maxUnavailable"),
                                           "may not be 0 when `maxSurge` is 0"));
    }
    const Json& deadline = jsonField(spec, "progressDeadlineSeconds");
    const Json& minReady = jsonField(spec, "minReadySeconds");
    if (deadline.is_number_integer() && minReady.is_number_integer() &&
        deadline.get<std::int64_t>() <= minReady.get<std::int64_t>()) {
      errors.push_back(FieldError::invalid(path.child("progressDeadlineSeconds"), deadline,
                                           "must be greater than minReadySeconds"));
    }
  }

 private:
  // An IntOrString of 0 or "0%".
  static bool isZero(const Json& v) { return v == Json(0) || v == Json("0%") || v == Json("0"); }
};

class ReplicaSetStrategy final : public AppsStrategy {
 public:
  ReplicaSetStrategy() : AppsStrategy("replicaset") {}
  void applyDefaults(Json& replicaSet) const override {
    Json& spec = replicaSet["spec"];
    if (!spec.is_object()) return;
    defaultTo(spec, "replicas", 1);
    defaultTemplate(spec);
  }
};

class DaemonSetStrategy final : public AppsStrategy {
 public:
  DaemonSetStrategy() : AppsStrategy("daemonset") {}
  void applyDefaults(Json& daemonSet) const override {
    Json& spec = daemonSet["spec"];
    if (!spec.is_object()) return;
    Json& strategy = spec["updateStrategy"];
    if (!strategy.is_object()) strategy = Json::object();
    defaultRollingUpdate(strategy, 1, 0);
    defaultTo(spec, "revisionHistoryLimit", 10);
    defaultTemplate(spec);
  }

 protected:
  void validateKind(const Json& spec, const FieldPath& path, FieldErrors& errors) const override {
    requireEnum(jsonField(spec, "updateStrategy"), path.child("updateStrategy"), "type",
                {"OnDelete", "RollingUpdate"}, true, errors);
  }
};

class StatefulSetStrategy final : public AppsStrategy {
 public:
  StatefulSetStrategy() : AppsStrategy("statefulset") {}
  void applyDefaults(Json& statefulSet) const override {
    Json& spec = statefulSet["spec"];
    if (!spec.is_object()) return;
    defaultTo(spec, "podManagementPolicy", "OrderedReady");
    Json& strategy = spec["updateStrategy"];
    if (!strategy.is_object()) strategy = Json::object();
    if (!strategy.contains("type")) {
      strategy["type"] = "RollingUpdate";
      defaultTo(strategy, "rollingUpdate", Json::object());
    }
    if (strategy["type"] == "RollingUpdate" && jsonField(strategy, "rollingUpdate").is_object()) {
      defaultTo(strategy["rollingUpdate"], "partition", 0);
    }
    Json& retention = spec["persistentVolumeClaimRetentionPolicy"];
    if (!retention.is_object()) retention = Json::object();
    defaultTo(retention, "whenDeleted", "Retain");
    defaultTo(retention, "whenScaled", "Retain");
    defaultTo(spec, "replicas", 1);
    defaultTo(spec, "revisionHistoryLimit", 10);
    defaultTemplate(spec);
  }

 protected:
  void validateKind(const Json& spec, const FieldPath& path, FieldErrors& errors) const override {
    requireEnum(spec, path, "podManagementPolicy", {"OrderedReady", "Parallel"}, true, errors);
    requireEnum(jsonField(spec, "updateStrategy"), path.child("updateStrategy"), "type",
                {"OnDelete", "RollingUpdate"}, true, errors);
    const Json& retention = jsonField(spec, "persistentVolumeClaimRetentionPolicy");
    for (const char* field : {"whenDeleted", "whenScaled"}) {
      requireEnum(retention, path.child("persistentVolumeClaimRetentionPolicy"), field,
                  {"Retain", "Delete"}, false, errors);
    }
  }
};

// SetDefaults_Job (a CronJob's jobTemplate gets only the pod defaults, as upstream).
void defaultJobSpec(Json& spec) {
  if (!spec.is_object()) return;
  if (!spec.contains("completions") && !spec.contains("parallelism")) spec["completions"] = 1;
  defaultTo(spec, "parallelism", 1);
  defaultTo(spec, "backoffLimit", spec.contains("backoffLimitPerIndex") ? 2147483647 : 6);
  defaultTo(spec, "completionMode", "NonIndexed");
  defaultTo(spec, "suspend", false);
  defaultTo(spec, "podReplacementPolicy",
            spec.contains("podFailurePolicy") ? "Failed" : "TerminatingOrFailed");
  defaultTemplate(spec);
}

void validateJobSpec(const Json& spec, const FieldPath& path, bool hasGeneratedSelector,
                     FieldErrors& errors) {
  for (const char* field : {"parallelism", "completions", "backoffLimit"}) {
    nonNegative(spec, path, field, errors);
  }
  const Json& deadline = jsonField(spec, "activeDeadlineSeconds");
  if (deadline.is_number_integer() && deadline.get<std::int64_t>() <= 0) {
    errors.push_back(FieldError::invalid(path.child("activeDeadlineSeconds"), deadline,
                                         "must be greater than 0"));
  }
  requireEnum(spec, path, "completionMode", {"NonIndexed", "Indexed"}, false, errors);
  if (jsonString(spec, "completionMode") == "Indexed" &&
      !jsonField(spec, "completions").is_number_integer()) {
    errors.push_back(
        FieldError::required(path.child("completions"), "when completion mode is Indexed"));
  }
  const Json& selector = jsonField(spec, "selector");
  if (hasGeneratedSelector && !selector.is_object()) {
    errors.push_back(FieldError::required(path.child("selector")));
  }
  validateTemplate(spec, path, selector.is_object() ? &selector : nullptr, {"OnFailure", "Never"},
                   errors);
}

class JobStrategy final : public WorkloadStrategy {
 public:
  void applyDefaults(Json& job) const override { defaultJobSpec(job["spec"]); }

  // generateSelector: unless the user manages the selector, the Job's pods carry its name and
  // UID, and it selects them by UID alone.
  void prepareForCreate(Json& job) const override {
    WorkloadStrategy::prepareForCreate(job);
    Json& spec = job["spec"];
    if (!spec.is_object() || !jsonField(spec, "template").is_object() ||
        jsonField(spec, "manualSelector") == Json(true)) {
      return;
    }
    const Json& meta = jsonField(job, "metadata");
    std::string name = jsonString(meta, "name");
    std::string uid = jsonString(meta, "uid");
    Json& labels = spec["template"]["metadata"]["labels"];
    if (!labels.is_object()) labels = Json::object();
    defaultTo(labels, "job-name", name);
    defaultTo(labels, "batch.kubernetes.io/job-name", name);
    defaultTo(labels, "controller-uid", uid);
    defaultTo(labels, "batch.kubernetes.io/controller-uid", uid);
    Json& matchLabels = spec["selector"]["matchLabels"];
    if (!matchLabels.is_object()) matchLabels = Json::object();
    defaultTo(matchLabels, "batch.kubernetes.io/controller-uid", uid);
    // SetDefaults_Job: a Job without labels takes its template's (upstream's defaulting on
    // read sees the generated ones).
    Json& jobLabels = job["metadata"]["labels"];
    if (!jobLabels.is_object() || jobLabels.empty()) jobLabels = labels;
  }

 protected:
  FieldErrors validateSpec(const Json& spec, const FieldPath& path) const override {
    FieldErrors errors;
    validateJobSpec(spec, path, true, errors);
    return errors;
  }
};

class CronJobStrategy final : public WorkloadStrategy {
 public:
  void applyDefaults(Json& cronJob) const override {
    Json& spec = cronJob["spec"];
    if (!spec.is_object()) return;
    defaultTo(spec, "concurrencyPolicy", "Allow");
    defaultTo(spec, "suspend", false);
    defaultTo(spec, "successfulJobsHistoryLimit", 3);
    defaultTo(spec, "failedJobsHistoryLimit", 1);
    if (jsonField(jsonField(spec, "jobTemplate"), "spec").is_object()) {
      defaultTemplate(spec["jobTemplate"]["spec"]);
    }
  }

 protected:
  FieldErrors validateSpec(const Json& spec, const FieldPath& path) const override {
    FieldErrors errors;
    if (jsonString(spec, "schedule").empty()) {
      errors.push_back(FieldError::required(path.child("schedule")));
    }
    requireEnum(spec, path, "concurrencyPolicy", {"Allow", "Forbid", "Replace"}, false, errors);
    for (const char* field : {"successfulJobsHistoryLimit", "failedJobsHistoryLimit"}) {
      nonNegative(spec, path, field, errors);
    }
    const Json& jobSpec = jsonField(jsonField(spec, "jobTemplate"), "spec");
    validateJobSpec(jobSpec, path.child("jobTemplate").child("spec"), false, errors);
    return errors;
  }
};

}  // namespace

#define BERTH_STRATEGY(fn, type, ...) \
  const Strategy& fn() {              \
    static const type s{__VA_ARGS__}; \
    return s;                         \
  }
BERTH_STRATEGY(deploymentStrategy, DeploymentStrategy)
BERTH_STRATEGY(replicaSetStrategy, ReplicaSetStrategy)
BERTH_STRATEGY(daemonSetStrategy, DaemonSetStrategy)
BERTH_STRATEGY(statefulSetStrategy, StatefulSetStrategy)
BERTH_STRATEGY(jobStrategy, JobStrategy)
BERTH_STRATEGY(cronJobStrategy, CronJobStrategy)
#undef BERTH_STRATEGY

}  // namespace berth::controlplane::apiserver
