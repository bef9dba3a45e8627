#include "controlplane/scheduler/filters.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "controlplane/scheduler/pod_affinity.h"
#include "kubeapi/label_selector.h"

namespace berth::controlplane::scheduler {

namespace {

// schedutil.IsScalarResourceName: extended resources (a domain other than kubernetes.io),
// hugepages-* and attachable-volumes-*; other names are not checked.
bool isScalarResourceName(std::string_view name) {
  if (name.starts_with("hugepages-") || name.starts_with("attachable-volumes-")) return true;
  auto slash = name.find('/');
  if (slash == std::string_view::npos) return false;
  auto domain = name.substr(0, slash);
  return domain != "kubernetes.io" && !domain.ends_with(".kubernetes.io") &&
         !name.starts_with("requests.");
}

std::optional<kubeapi::SelectorOperator> selectorOperator(std::string_view op) {
  using enum kubeapi::SelectorOperator;
  if (op == "In") return kIn;
  if (op == "NotIn") return kNotIn;
  if (op == "Exists") return kExists;
  if (op == "DoesNotExist") return kDoesNotExist;
  if (op == "Gt") return kGreaterThan;
  if (op == "Lt") return kLessThan;
  return std::nullopt;
}

bool matchExpression(const nlohmann::json& labels, const nlohmann::json& expr) {
  auto op = selectorOperator(kubeapi::jsonString(expr, "operator"));
  if (!op) return false;
  std::vector<std::string> values;
  for (const auto& v : field(expr, "values"))
    if (v.is_string()) values.push_back(v.get<std::string>());
  auto req = kubeapi::LabelRequirement::create(kubeapi::jsonString(expr, "key"), *op, values);
  return req && req->matches(labels);
}

// matchFields supports metadata.name with In / NotIn of one value (as upstream's
// NodeSelectorRequirementsAsFieldSelector).
bool matchField(const nlohmann::json& node, const nlohmann::json& expr) {
  if (kubeapi::jsonString(expr, "key") != "metadata.name") return false;
  const auto& values = field(expr, "values");
  if (!values.is_array() || values.size() != 1 || !values[0].is_string()) return false;
  bool equal = values[0] == field(node, "metadata", "name");
  std::string op = kubeapi::jsonString(expr, "operator");
  if (op == "In") return equal;
  if (op == "NotIn") return !equal;
  return false;
}

// The first NoSchedule/NoExecute taint the pod does not tolerate.
const nlohmann::json* untoleratedTaint(const nlohmann::json& pod, const nlohmann::json& node) {
  const auto& tolerations = field(pod, "spec", "tolerations");
  for (const auto& taint : field(node, "spec", "taints")) {
    std::string effect = kubeapi::jsonString(taint, "effect");
    if (effect != "NoSchedule" && effect != "NoExecute") continue;
    if (!tolerates(tolerations, taint)) return &taint;
  }
  return nullptr;
}

// The claims a pod's volumes name, with the claim when the snapshot has it.
std::vector<std::pair<std::string, kubeapi::ObjectPtr>> podClaims(const nlohmann::json& pod,
                                                                  const Snapshot& s) {
  std::vector<std::pair<std::string, kubeapi::ObjectPtr>> out;
  std::string ns = namespaceOf(pod);
  for (const auto& v : field(pod, "spec", "volumes")) {
    std::string claim = stringField(v, "persistentVolumeClaim", "claimName");
    if (claim.empty()) continue;
    auto it = s.claims.find(ns + "/" + claim);
    out.emplace_back(claim, it == s.claims.end() ? nullptr : it->second);
  }
  return out;
}

}  // namespace

bool tolerates(const nlohmann::json& tolerations, const nlohmann::json& taint) {
  for (const auto& t : tolerations) {
    std::string effect = kubeapi::jsonString(t, "effect");
    if (!effect.empty() && effect != kubeapi::jsonString(taint, "effect")) continue;
    std::string key = kubeapi::jsonString(t, "key");
    if (!key.empty() && key != kubeapi::jsonString(taint, "key")) continue;
    std::string op = kubeapi::jsonString(t, "operator");
    if (op == "Exists") return true;
    if ((op.empty() || op == "Equal") &&
        kubeapi::jsonString(t, "value") == kubeapi::jsonString(taint, "value"))
      return true;
  }
  return false;
}

bool nodeMatchesTerm(const nlohmann::json& node, const nlohmann::json& term) {
  const auto& exprs = field(term, "matchExpressions");
  const auto& fields = field(term, "matchFields");
  if (exprs.empty() && fields.empty()) return false;  // an empty term matches no node
  const auto& labels = field(node, "metadata", "labels");
  for (const auto& e : exprs)
    if (!matchExpression(labels, e)) return false;
  for (const auto& f : fields)
    if (!matchField(node, f)) return false;
  return true;
}

bool nodeMatchesSelectorTerms(const nlohmann::json& node, const nlohmann::json& terms) {
  return std::ranges::any_of(terms, [&](const auto& t) { return nodeMatchesTerm(node, t); });
}

bool podMatchesNodeSelectorAndAffinity(const nlohmann::json& pod, const nlohmann::json& node) {
  const auto& labels = field(node, "metadata", "labels");
  const auto& selector = field(pod, "spec", "nodeSelector");
  if (selector.is_object())
    for (const auto& [k, v] : selector.items())
      if (field(labels, k) != v) return false;
  const auto& required = field(field(pod, "spec", "affinity"), "nodeAffinity",
                               "requiredDuringSchedulingIgnoredDuringExecution");
  if (required.is_object() && !nodeMatchesSelectorTerms(node, field(required, "nodeSelectorTerms")))
    return false;
  return true;
}

FilterStatus nodeUnschedulable(const nlohmann::json& pod, const NodeInfo& node, const Snapshot&) {
  if (field(*node.node, "spec", "unschedulable") != true) return {};
  static const nlohmann::json kTaint = {{"key", "node.kubernetes.io/unschedulable"},
                                        {"effect", "NoSchedule"}};
  if (tolerates(field(pod, "spec", "tolerations"), kTaint)) return {};
  return FilterStatus::unresolvable("node(s) were unschedulable");
}

FilterStatus nodeName(const nlohmann::json& pod, const NodeInfo& node, const Snapshot&) {
  std::string wanted = stringField(pod, "spec", "nodeName");
  if (wanted.empty() || wanted == node.name()) return {};
  return FilterStatus::unresolvable("node(s) didn't match the requested node name");
}

FilterStatus taintToleration(const nlohmann::json& pod, const NodeInfo& node, const Snapshot&) {
  const auto* taint = untoleratedTaint(pod, *node.node);
  if (!taint) return {};
  return FilterStatus::unresolvable(fmt::format("node(s) had untolerated taint {{{}: {}}}",
                                                kubeapi::jsonString(*taint, "key"),
                                                kubeapi::jsonString(*taint, "value")));
}

FilterStatus nodeAffinity(const nlohmann::json& pod, const NodeInfo& node, const Snapshot&) {
  if (podMatchesNodeSelectorAndAffinity(pod, *node.node)) return {};
  return FilterStatus::unresolvable("node(s) didn't match Pod's node affinity/selector");
}

FilterStatus nodePorts(const nlohmann::json& pod, const NodeInfo& node, const Snapshot&) {
  for (const auto& wanted : podHostPorts(pod))
    for (const auto& used : node.usedPorts)
      if (wanted.conflicts(used))
        return FilterStatus::unschedulable(
            "node(s) didn't have free ports for the requested pod ports");
  return {};
}

FilterStatus nodeResourcesFit(const nlohmann::json& pod, const NodeInfo& node, const Snapshot&) {
  FilterStatus status;
  auto insufficient = [&](std::string reason, bool unresolvable) {
    status.reasons.push_back(std::move(reason));
    if (unresolvable || status.code == FilterCode::kSuccess)
      status.code =
          unresolvable ? FilterCode::kUnschedulableAndUnresolvable : FilterCode::kUnschedulable;
  };
  const Resources& alloc = node.allocatable;
  const Resources& used = node.requested;
  if (static_cast<std::int64_t>(node.pods.size()) + 1 > alloc.pods)
    insufficient("Too many pods", false);
  Resources req = podRequests(pod);
  auto check = [&](std::string_view name, std::int64_t want, std::int64_t have,
                   std::int64_t inUse) {
    if (want > 0 && want > have - inUse)
      insufficient(fmt::format("Insufficient {}", name), want > have);
  };
  check("cpu", req.milliCpu, alloc.milliCpu, used.milliCpu);
  check("memory", req.memory, alloc.memory, used.memory);
  check("ephemeral-storage", req.ephemeralStorage, alloc.ephemeralStorage, used.ephemeralStorage);
  for (const auto& [name, want] : req.scalar) {
    if (!isScalarResourceName(name)) continue;
    auto have = alloc.scalar.find(name);
    auto inUse = used.scalar.find(name);
    check(name, want, have == alloc.scalar.end() ? 0 : have->second,
          inUse == used.scalar.end() ? 0 : inUse->second);
  }
  return status;
}

static bool delayedBinding(const nlohmann::json& claim, const Snapshot& s) {
  auto cls = s.storageClasses.find(stringField(claim, "spec", "storageClassName"));
  return cls != s.storageClasses.end() &&
         kubeapi::jsonString(*cls->second, "volumeBindingMode") == "WaitForFirstConsumer";
}

std::vector<std::string> delayedClaims(const nlohmann::json& pod, const Snapshot& s) {
  std::vector<std::string> out;
  for (const auto& [name, claim] : podClaims(pod, s))
    if (claim && stringField(*claim, "spec", "volumeName").empty() && delayedBinding(*claim, s))
      out.push_back(name);
  return out;
}

FilterStatus preFilter(const nlohmann::json& pod, const Snapshot& s) {
  for (const auto& [name, claim] : podClaims(pod, s)) {
    if (!claim)
      return FilterStatus::unresolvable(
          fmt::format("persistentvolumeclaim \"{}\" not found", name));
    if (!field(*claim, "metadata", "deletionTimestamp").is_null())
      return FilterStatus::unresolvable(
          fmt::format("persistentvolumeclaim \"{}\" is being deleted", name));
    if (stringField(*claim, "spec", "volumeName").empty() && !delayedBinding(*claim, s))
      return FilterStatus::unresolvable("pod has unbound immediate PersistentVolumeClaims");
  }
  return {};
}

FilterStatus volumeBinding(const nlohmann::json& pod, const NodeInfo& node, const Snapshot& s) {
  for (const auto& [name, claim] : podClaims(pod, s)) {
    if (!claim) continue;  // preFilter's business
    std::string pvName = stringField(*claim, "spec", "volumeName");
    if (pvName.empty()) continue;  // WaitForFirstConsumer: provisioned for the chosen node
    auto pv = s.volumes.find(pvName);
    if (pv == s.volumes.end())
      return FilterStatus::unresolvable(
          "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)");
    const auto& required = field(field(*pv->second, "spec", "nodeAffinity"), "required");
    if (required.is_object() &&
        !nodeMatchesSelectorTerms(*node.node, field(required, "nodeSelectorTerms")))
      return FilterStatus::unresolvable("node(s) had volume node affinity conflict");
  }
  return {};
}

FilterStatus podTopologySpread(const nlohmann::json& pod, const NodeInfo& node, const Snapshot& s) {
  auto constraints = topologySpreadConstraints(pod, "DoNotSchedule");
  if (constraints.empty()) return {};
  const auto& labels = node.labels();
  for (const auto& c : constraints)
    if (!field(labels, c.topologyKey).is_string())
      return FilterStatus::unresolvable(
          "node(s) didn't match pod topology spread constraints (missing required label)");
  for (const auto& c : constraints) {
    auto counts = countSpread(pod, c, constraints, s);
    std::int64_t minMatch = counts.minMatch();
    std::int64_t self = c.selector.matches(field(pod, "metadata", "labels")) ? 1 : 0;
    std::int64_t here = counts.count(field(labels, c.topologyKey).get<std::string>());
    if (here + self - minMatch > c.maxSkew)
      return FilterStatus::unschedulable("node(s) didn't match pod topology spread constraints");
  }
  return {};
}

FilterStatus interPodAffinity(const nlohmann::json& pod, const NodeInfo& node, const Snapshot& s) {
  if (!satisfiesPodAffinity(pod, node, s))
    return FilterStatus::unresolvable("node(s) didn't match pod affinity rules");
  if (!satisfiesPodAntiAffinity(pod, node, s))
    return FilterStatus::unschedulable("node(s) didn't match pod anti-affinity rules");
  if (!satisfiesExistingPodsAntiAffinity(pod, node, s))
    return FilterStatus::unschedulable("node(s) didn't satisfy existing pods anti-affinity rules");
  return {};
}

const std::vector<FilterPlugin>& defaultFilters() {
  static const std::vector<FilterPlugin> kFilters = {
      {"NodeUnschedulable", nodeUnschedulable},
      {"NodeName", nodeName},
      {"TaintToleration", taintToleration},
      {"NodeAffinity", nodeAffinity},
      {"NodePorts", nodePorts},
      {"NodeResourcesFit", nodeResourcesFit},
      {"VolumeBinding", volumeBinding},
      {"PodTopologySpread", podTopologySpread},
      {"InterPodAffinity", interPodAffinity},
  };
  return kFilters;
}

FilterStatus runFilters(const nlohmann::json& pod, const NodeInfo& node, const Snapshot& s) {
  for (const auto& p : defaultFilters()) {
    auto status = p.filter(pod, node, s);
    if (!status.ok()) return status;
  }
  return {};
}

}  // namespace berth::controlplane::scheduler
