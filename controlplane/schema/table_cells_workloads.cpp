// Cells of apps, batch, rbac, certificates, storage, scheduling and discovery kinds, as
// pkg/printers/internalversion prints them in 1.32.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "controlplane/schema/table_cells.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

const json& podSpecOf(const json& o) {
  return at(o, {"spec", "template", "spec"});
}

// metav1.FormatLabelSelector: "<none>" when it selects by nothing, "<error>" when invalid.
std::string formatSelector(const json& selector) {
  auto s = selectorString(selector);
  if (!s) return "<error>";
  return s->empty() ? "<none>" : *s;
}

json templateContainers(const json& o, const CellContext&) {
  return containerNames(podSpecOf(o));
}
json templateImages(const json& o, const CellContext&) {
  return containerImages(podSpecOf(o));
}
json selector(const json& o, const CellContext&) {
  return formatSelector(at(o, {"spec", "selector"}));
}

json deploymentReady(const json& o, const CellContext&) {
  return fmt::format("{}/{}", integer(o, {"status", "readyReplicas"}),
                     integer(o, {"spec", "replicas"}));
}
json deploymentUpToDate(const json& o, const CellContext&) {
  return integer(o, {"status", "updatedReplicas"});
}
json deploymentAvailable(const json& o, const CellContext&) {
  return integer(o, {"status", "availableReplicas"});
}
json deploymentSelector(const json& o, const CellContext&) {
  // printDeployment prints the selector as is: "" when it selects by nothing.
  return selectorString(at(o, {"spec", "selector"})).value_or("<invalid>");
}

json replicasDesired(const json& o, const CellContext&) {
  return integer(o, {"spec", "replicas"});
}
json replicasCurrent(const json& o, const CellContext&) {
  return integer(o, {"status", "replicas"});
}
json replicasReady(const json& o, const CellContext&) {
  return integer(o, {"status", "readyReplicas"});
}

json statefulSetReady(const json& o, const CellContext& c) {
  return deploymentReady(o, c);
}

json daemonSetDesired(const json& o, const CellContext&) {
  return integer(o, {"status", "desiredNumberScheduled"});
}
json daemonSetCurrent(const json& o, const CellContext&) {
  return integer(o, {"status", "currentNumberScheduled"});
}
json daemonSetReady(const json& o, const CellContext&) {
  return integer(o, {"status", "numberReady"});
}
json daemonSetUpToDate(const json& o, const CellContext&) {
  return integer(o, {"status", "updatedNumberScheduled"});
}
json daemonSetAvailable(const json& o, const CellContext&) {
  return integer(o, {"status", "numberAvailable"});
}
json daemonSetNodeSelector(const json& o, const CellContext&) {
  return formatLabels(at(podSpecOf(o), {"nodeSelector"}));
}

std::string lower(std::string s) {
  std::ranges::transform(s, s.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return s;
}

json controllerRevisionController(const json& o, const CellContext&) {
  const json& owners = at(o, {"metadata", "ownerReferences"});
  if (owners.is_array()) {
    for (const json& ref : owners) {
      if (at(ref, {"controller"}) != true) continue;
      std::string apiVersion = str(ref, {"apiVersion"});
      std::size_t slash = apiVersion.find('/');
      std::string group = slash == std::string::npos ? "" : apiVersion.substr(0, slash);
      std::string kind = str(ref, {"kind"});
      std::string name = str(ref, {"name"});
      if (kind.empty() && group.empty()) return name;
      return lower(group.empty() ? kind : kind + "." + group) + "/" + name;
    }
  }
  return "<none>";
}
json controllerRevisionRevision(const json& o, const CellContext&) {
  return integer(o, {"revision"});
}

// --- batch ---

bool jobCondition(const json& o, std::string_view type) {
  const json& conditions = at(o, {"status", "conditions"});
  if (conditions.is_array())
    for (const json& c : conditions)
      if (str(c, {"type"}) == type) return str(c, {"status"}) == "True";  // the first one decides
  return false;
}

json jobStatus(const json& o, const CellContext&) {
  if (jobCondition(o, "Complete")) return "Complete";
  if (jobCondition(o, "Failed")) return "Failed";
  if (!at(o, {"metadata", "deletionTimestamp"}).is_null()) return "Terminating";
  if (jobCondition(o, "Suspended")) return "Suspended";
  if (jobCondition(o, "FailureTarget")) return "FailureTarget";
  return "Running";
}

json jobCompletions(const json& o, const CellContext&) {
  std::int64_t succeeded = integer(o, {"status", "succeeded"});
  if (at(o, {"spec", "completions"}).is_number())
    return fmt::format("{}/{}", succeeded, integer(o, {"spec", "completions"}));
  std::int64_t parallelism = integer(o, {"spec", "parallelism"});
  return parallelism > 1 ? fmt::format("{}/1 of {}", succeeded, parallelism)
                         : fmt::format("{}/1", succeeded);
}

json jobDuration(const json& o, const CellContext& ctx) {
  auto start = parseTime(str(o, {"status", "startTime"}));
  if (!start) return "";
  auto end = parseTime(str(o, {"status", "completionTime"}));
  return humanDuration((end ? *end : ctx.now) - *start);
}

const json& jobPodSpec(const json& cronJob) {
  return at(cronJob, {"spec", "jobTemplate", "spec", "template", "spec"});
}
json cronJobTimeZone(const json& o, const CellContext&) {
  const json& tz = at(o, {"spec", "timeZone"});
  return tz.is_string() ? tz.get<std::string>() : std::string("<none>");
}
json cronJobSuspend(const json& o, const CellContext&) {
  const json& s = at(o, {"spec", "suspend"});
  if (!s.is_boolean()) return "<unset>";
  return s.get<bool>() ? "True" : "False";
}
json cronJobActive(const json& o, const CellContext&) {
  const json& active = at(o, {"status", "active"});
  return static_cast<std::int64_t>(active.is_array() ? active.size() : 0);
}
json cronJobLastSchedule(const json& o, const CellContext& c) {
  const json& t = at(o, {"status", "lastScheduleTime"});
  return t.is_string() ? since(t, c) : std::string("<none>");
}
json cronJobContainers(const json& o, const CellContext&) {
  return containerNames(jobPodSpec(o));
}
json cronJobImages(const json& o, const CellContext&) {
  return containerImages(jobPodSpec(o));
}
json cronJobSelector(const json& o, const CellContext&) {
  return formatSelector(at(o, {"spec", "jobTemplate", "spec", "selector"}));
}

// --- rbac ---

json bindingRole(const json& o, const CellContext&) {
  return fmt::format("{}/{}", str(o, {"roleRef", "kind"}), str(o, {"roleRef", "name"}));
}
std::string subjects(const json& o, std::string_view kind) {
  std::vector<std::string> out;
  const json& list = at(o, {"subjects"});
  if (list.is_array())
    for (const json& s : list) {
      if (str(s, {"kind"}) != kind) continue;
      out.push_back(kind == "ServiceAccount" ? str(s, {"namespace"}) + "/" + str(s, {"name"})
                                             : str(s, {"name"}));
    }
  return join(out, ", ");
}
json bindingUsers(const json& o, const CellContext&) {
  return subjects(o, "User");
}
json bindingGroups(const json& o, const CellContext&) {
  return subjects(o, "Group");
}
json bindingServiceAccounts(const json& o, const CellContext&) {
  return subjects(o, "ServiceAccount");
}

// --- certificates ---

json csrSignerName(const json& o, const CellContext&) {
  std::string s = str(o, {"spec", "signerName"});
  return s.empty() ? "<none>" : s;
}
json csrRequestedDuration(const json& o, const CellContext&) {
  const json& secs = at(o, {"spec", "expirationSeconds"});
  if (!secs.is_number()) return "<none>";
  return humanDuration(std::chrono::seconds(secs.get<std::int64_t>()));
}
json csrCondition(const json& o, const CellContext&) {
  bool approved = false, denied = false, failed = false;
  const json& conditions = at(o, {"status", "conditions"});
  if (conditions.is_array())
    for (const json& c : conditions) {
      std::string type = str(c, {"type"});
      approved |= type == "Approved";
      denied |= type == "Denied";
      failed |= type == "Failed";
    }
  std::string status = denied ? "Denied" : approved ? "Approved" : "Pending";
  if (failed) status += ",Failed";
  if (!str(o, {"status", "certificate"}).empty()) status += ",Issued";
  return status;
}

// --- storage, scheduling, discovery ---

json storageClassName(const json& o, const CellContext&) {
  std::string name = str(o, {"metadata", "name"});
  for (std::string_view a : {"storageclass.kubernetes.io/is-default-class",
                             "storageclass.beta.kubernetes.io/is-default-class"})
    if (str(o, {"metadata", "annotations", a}) == "true") return name + " (default)";
  return name;
}
json storageClassReclaimPolicy(const json& o, const CellContext&) {
  std::string p = str(o, {"reclaimPolicy"});
  return p.empty() ? "Delete" : p;
}
json storageClassBindingMode(const json& o, const CellContext&) {
  std::string m = str(o, {"volumeBindingMode"});
  return m.empty() ? "Immediate" : m;
}
json storageClassAllowExpansion(const json& o, const CellContext&) {
  return at(o, {"allowVolumeExpansion"}) == true;
}

json priorityClassValue(const json& o, const CellContext&) {
  return integer(o, {"value"});
}
json priorityClassGlobalDefault(const json& o, const CellContext&) {
  return at(o, {"globalDefault"}) == true;
}

// listWithMoreString: up to three items, "+ N more...", "<unset>" when empty.
std::string listWithMore(const std::vector<std::string>& list, std::size_t count) {
  constexpr std::size_t kMax = 3;
  std::string ret = join(list, ",");
  if (count > kMax) return fmt::format("{} + {} more...", ret, count - kMax);
  return ret.empty() ? "<unset>" : ret;
}

json endpointSlicePorts(const json& o, const CellContext&) {
  std::vector<std::string> list;
  std::size_t count = 0;
  const json& ports = at(o, {"ports"});
  if (ports.is_array())
    for (const json& p : ports) {
      if (list.size() < 3) {
        const json& port = at(p, {"port"});
        const json& name = at(p, {"name"});
        list.push_back(port.is_number()   ? std::to_string(port.get<std::int64_t>())
                       : name.is_string() ? name.get<std::string>()
                                          : "*");
      }
      ++count;
    }
  return listWithMore(list, count);
}

json endpointSliceEndpoints(const json& o, const CellContext&) {
  std::vector<std::string> list;
  std::size_t count = 0;
  const json& endpoints = at(o, {"endpoints"});
  if (endpoints.is_array())
    for (const json& e : endpoints) {
      const json& addresses = at(e, {"addresses"});
      if (!addresses.is_array()) continue;
      for (const json& a : addresses) {
        if (list.size() < 3) list.push_back(a.is_string() ? a.get<std::string>() : "");
        ++count;
      }
    }
  return listWithMore(list, count);
}

constexpr NamedCell kWorkloadCells[] = {
    {"templateContainers", templateContainers},
    {"templateImages", templateImages},
    {"selector", selector},
    {"deploymentReady", deploymentReady},
    {"deploymentUpToDate", deploymentUpToDate},
    {"deploymentAvailable", deploymentAvailable},
    {"deploymentSelector", deploymentSelector},
    {"replicasDesired", replicasDesired},
    {"replicasCurrent", replicasCurrent},
    {"replicasReady", replicasReady},
    {"statefulSetReady", statefulSetReady},
    {"daemonSetDesired", daemonSetDesired},
    {"daemonSetCurrent", daemonSetCurrent},
    {"daemonSetReady", daemonSetReady},
    {"daemonSetUpToDate", daemonSetUpToDate},
    {"daemonSetAvailable", daemonSetAvailable},
    {"daemonSetNodeSelector", daemonSetNodeSelector},
    {"controllerRevisionController", controllerRevisionController},
    {"controllerRevisionRevision", controllerRevisionRevision},
    {"jobStatus", jobStatus},
    {"jobCompletions", jobCompletions},
    {"jobDuration", jobDuration},
    {"cronJobTimeZone", cronJobTimeZone},
    {"cronJobSuspend", cronJobSuspend},
    {"cronJobActive", cronJobActive},
    {"cronJobLastSchedule", cronJobLastSchedule},
    {"cronJobContainers", cronJobContainers},
    {"cronJobImages", cronJobImages},
    {"cronJobSelector", cronJobSelector},
    {"bindingRole", bindingRole},
    {"bindingUsers", bindingUsers},
    {"bindingGroups", bindingGroups},
    {"bindingServiceAccounts", bindingServiceAccounts},
    {"csrSignerName", csrSignerName},
    {"csrRequestedDuration", csrRequestedDuration},
    {"csrCondition", csrCondition},
    {"storageClassName", storageClassName},
    {"storageClassReclaimPolicy", storageClassReclaimPolicy},
    {"storageClassBindingMode", storageClassBindingMode},
    {"storageClassAllowExpansion", storageClassAllowExpansion},
    {"priorityClassValue", priorityClassValue},
    {"priorityClassGlobalDefault", priorityClassGlobalDefault},
    {"endpointSlicePorts", endpointSlicePorts},
    {"endpointSliceEndpoints", endpointSliceEndpoints},
};

}  // namespace

std::span<const NamedCell> workloadCells() {
  return kWorkloadCells;
}

}  // namespace berth::controlplane::schema
