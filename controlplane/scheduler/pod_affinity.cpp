#include "controlplane/scheduler/pod_affinity.h"

#include <algorithm>
#include <limits>

#include "controlplane/scheduler/filters.h"

namespace berth::controlplane::scheduler {

namespace {

std::optional<std::string> nodeLabel(const NodeInfo& node, const std::string& key) {
  const auto& v = field(node.labels(), key);
  if (!v.is_string()) return std::nullopt;
  return v.get<std::string>();
}

bool terminating(const nlohmann::json& pod) {
  return !field(pod, "metadata", "deletionTimestamp").is_null();
}

bool sameDomain(const NodeInfo& a, const NodeInfo& b, const std::string& key) {
  auto va = nodeLabel(a, key);
  return va && va == nodeLabel(b, key);
}

}  // namespace

bool AffinityTerm::matches(const nlohmann::json& other) const {
  if (!allNamespaces && !namespaces.contains(namespaceOf(other))) return false;
  return selector.matches(field(other, "metadata", "labels"));
}

AffinityTerm parseAffinityTerm(const nlohmann::json& pod, const nlohmann::json& t,
                               const Snapshot& s) {
  AffinityTerm term;
  if (auto sel = kubeapi::LabelSelector::fromLabelSelector(field(t, "labelSelector")))
    term.selector = std::move(*sel);
  term.topologyKey = kubeapi::jsonString(t, "topologyKey");
  const auto& nsSelector = field(t, "namespaceSelector");
  for (const auto& ns : field(t, "namespaces"))
    if (ns.is_string()) term.namespaces.insert(ns.get<std::string>());
  if (nsSelector.is_object() && nsSelector.empty()) {
    term.allNamespaces = true;
  } else if (nsSelector.is_object()) {
    // The namespaces whose labels match, merged into the term as upstream's PreFilter does.
    auto selector = kubeapi::LabelSelector::fromLabelSelector(nsSelector);
    for (const auto& [ns, labels] : s.namespaceLabels)
      if (selector && selector->matches(labels)) term.namespaces.insert(ns);
  } else if (term.namespaces.empty()) {
    term.namespaces.insert(namespaceOf(pod));
  }
  return term;
}

std::vector<AffinityTerm> requiredAffinityTerms(const nlohmann::json& pod, std::string_view kind,
                                                const Snapshot& s) {
  std::vector<AffinityTerm> out;
  for (const auto& t : field(field(pod, "spec", "affinity"), kind,
                             "requiredDuringSchedulingIgnoredDuringExecution"))
    out.push_back(parseAffinityTerm(pod, t, s));
  return out;
}

std::vector<WeightedAffinityTerm> preferredAffinityTerms(const nlohmann::json& pod,
                                                         std::string_view kind, const Snapshot& s) {
  std::vector<WeightedAffinityTerm> out;
  for (const auto& t : field(field(pod, "spec", "affinity"), kind,
                             "preferredDuringSchedulingIgnoredDuringExecution")) {
    const auto& weight = field(t, "weight");
    if (!weight.is_number_integer()) continue;
    out.push_back(
        {parseAffinityTerm(pod, field(t, "podAffinityTerm"), s), weight.get<std::int64_t>()});
  }
  return out;
}

TopologyScores affinityTopologyScores(const nlohmann::json& pod, const Snapshot& s) {
  TopologyScores scores;
  auto incomingAffinity = preferredAffinityTerms(pod, "podAffinity", s);
  auto incomingAnti = preferredAffinityTerms(pod, "podAntiAffinity", s);
  for (const auto& node : s.nodes) {
    auto add = [&](const AffinityTerm& term, std::int64_t weight) {
      if (auto domain = nodeLabel(node, term.topologyKey))
        scores[term.topologyKey][*domain] += weight;
    };
    for (const auto& existing : node.pods) {
      for (const auto& [term, weight] : incomingAffinity)
        if (term.matches(*existing)) add(term, weight);
      for (const auto& [term, weight] : incomingAnti)
        if (term.matches(*existing)) add(term, -weight);
      // The existing pods' terms count too (symmetry); their required affinity with
      // hardPodAffinityWeight 1.
      for (const auto& term : requiredAffinityTerms(*existing, "podAffinity", s))
        if (term.matches(pod)) add(term, kHardPodAffinityWeight);
      for (const auto& [term, weight] : preferredAffinityTerms(*existing, "podAffinity", s))
        if (term.matches(pod)) add(term, weight);
      for (const auto& [term, weight] : preferredAffinityTerms(*existing, "podAntiAffinity", s))
        if (term.matches(pod)) add(term, -weight);
    }
  }
  return scores;
}

bool satisfiesPodAffinity(const nlohmann::json& pod, const NodeInfo& node, const Snapshot& s) {
  auto terms = requiredAffinityTerms(pod, "podAffinity", s);
  if (terms.empty()) return true;
  auto matchesAll = [&](const nlohmann::json& other) {
    return std::ranges::all_of(terms, [&](const AffinityTerm& t) { return t.matches(other); });
  };
  // Upstream counts, per topology pair, the pods that match all the terms.
  bool anyMatch = false;
  bool allTermsHere = true;
  for (const auto& t : terms) {
    if (!nodeLabel(node, t.topologyKey)) return false;  // every topology label must exist
    bool here = false;
    for (const auto& other : s.nodes)
      for (const auto& p : other.pods)
        if (matchesAll(*p) && nodeLabel(other, t.topologyKey)) {
          anyMatch = true;
          here = here || sameDomain(other, node, t.topologyKey);
        }
    allTermsHere = allTermsHere && here;
  }
  if (allTermsHere) return true;
  // The first pod of a group with affinity to itself: nothing matches anywhere yet.
  return !anyMatch && matchesAll(pod);
}

bool satisfiesPodAntiAffinity(const nlohmann::json& pod, const NodeInfo& node, const Snapshot& s) {
  for (const auto& t : requiredAffinityTerms(pod, "podAntiAffinity", s)) {
    if (!nodeLabel(node, t.topologyKey)) continue;
    for (const auto& other : s.nodes) {
      if (!sameDomain(other, node, t.topologyKey)) continue;
      for (const auto& p : other.pods)
        if (t.matches(*p)) return false;
    }
  }
  return true;
}

bool satisfiesExistingPodsAntiAffinity(const nlohmann::json& pod, const NodeInfo& node,
                                       const Snapshot& s) {
  for (const auto& other : s.nodes)
    for (const auto& p : other.pods)
      for (const auto& t : requiredAffinityTerms(*p, "podAntiAffinity", s))
        if (t.matches(pod) && sameDomain(other, node, t.topologyKey)) return false;
  return true;
}

std::vector<SpreadConstraint> topologySpreadConstraints(const nlohmann::json& pod,
                                                        std::string_view whenUnsatisfiable) {
  std::vector<SpreadConstraint> out;
  const auto& podLabels = field(pod, "metadata", "labels");
  for (const auto& c : field(pod, "spec", "topologySpreadConstraints")) {
    if (kubeapi::jsonString(c, "whenUnsatisfiable") != whenUnsatisfiable) continue;
    SpreadConstraint sc;
    if (field(c, "maxSkew").is_number_integer()) sc.maxSkew = c["maxSkew"].get<std::int64_t>();
    sc.topologyKey = kubeapi::jsonString(c, "topologyKey");
    if (auto sel = kubeapi::LabelSelector::fromLabelSelector(field(c, "labelSelector")))
      sc.selector = std::move(*sel);
    for (const auto& key : field(c, "matchLabelKeys")) {
      const auto& v = field(podLabels, key.is_string() ? key.get<std::string>() : "");
      if (!v.is_string()) continue;
      auto req = kubeapi::LabelRequirement::create(
          key.get<std::string>(), kubeapi::SelectorOperator::kIn, {v.get<std::string>()});
      if (req) sc.selector = sc.selector.add(std::move(*req));
    }
    if (field(c, "minDomains").is_number_integer())
      sc.minDomains = c["minDomains"].get<std::int64_t>();
    sc.honorNodeAffinity = kubeapi::jsonString(c, "nodeAffinityPolicy") != "Ignore";
    sc.honorTaints = kubeapi::jsonString(c, "nodeTaintsPolicy") == "Honor";
    out.push_back(std::move(sc));
  }
  return out;
}

namespace {

// The owner reference with controller: true (metav1.GetControllerOf).
const nlohmann::json* controllerOf(const nlohmann::json& pod) {
  for (const auto& ref : field(pod, "metadata", "ownerReferences"))
    if (field(ref, "controller") == true) return &ref;
  return nullptr;
}

// helper.DefaultSelector.
kubeapi::LabelSelector defaultSelector(const nlohmann::json& pod, const Snapshot& s) {
  std::string ns = namespaceOf(pod);
  const auto& podLabels = field(pod, "metadata", "labels");
  kubeapi::LabelMap set;
  for (const auto& svc : s.services) {
    if (namespaceOf(*svc) != ns) continue;
    const auto& sel = field(*svc, "spec", "selector");
    kubeapi::LabelMap svcSet;
    if (sel.is_object())
      for (const auto& [k, v] : sel.items())
        if (v.is_string()) svcSet[k] = v.get<std::string>();
    auto svcSelector = kubeapi::LabelSelector::fromSet(svcSet);
    if (svcSelector && svcSelector->matches(podLabels)) set.insert(svcSet.begin(), svcSet.end());
  }
  auto selector =
      kubeapi::LabelSelector::fromSet(set).value_or(kubeapi::LabelSelector::everything());
  const auto* owner = controllerOf(pod);
  if (!owner || kubeapi::jsonString(*owner, "apiVersion") != "apps/v1") return selector;
  std::string kind = kubeapi::jsonString(*owner, "kind");
  const auto& owners = kind == "ReplicaSet" ? s.replicaSets : s.statefulSets;
  if (kind != "ReplicaSet" && kind != "StatefulSet") return selector;
  auto it = owners.find(ns + "/" + kubeapi::jsonString(*owner, "name"));
  if (it == owners.end()) return selector;
  if (auto ownerSelector =
          kubeapi::LabelSelector::fromLabelSelector(field(*it->second, "spec", "selector")))
    for (const auto& r : ownerSelector->requirements())
      selector = selector.add(r);
  return selector;
}

}  // namespace

std::vector<SpreadConstraint> defaultSpreadConstraints(const nlohmann::json& pod,
                                                       const Snapshot& s) {
  auto selector = defaultSelector(pod, s);
  if (selector.empty() || selector.matchesNothing()) return {};
  return {{.maxSkew = 3, .topologyKey = "kubernetes.io/hostname", .selector = selector},
          {.maxSkew = 5, .topologyKey = "topology.kubernetes.io/zone", .selector = selector}};
}

std::int64_t SpreadCounts::count(const std::string& domain) const {
  auto it = byDomain.find(domain);
  return it == byDomain.end() ? 0 : it->second;
}

std::int64_t SpreadCounts::minMatch() const {
  if (minDomains && static_cast<std::int64_t>(byDomain.size()) < *minDomains) return 0;
  if (byDomain.empty()) return std::numeric_limits<std::int32_t>::max();
  return std::ranges::min(byDomain | std::views::values);
}

SpreadCounts countSpread(const nlohmann::json& pod, const SpreadConstraint& c,
                         const std::vector<SpreadConstraint>& all, const Snapshot& s,
                         bool requireAllKeys) {
  SpreadCounts counts;
  counts.minDomains = c.minDomains;
  std::string ns = namespaceOf(pod);
  for (const auto& node : s.nodes) {
    bool hasKeys = requireAllKeys
                       ? std::ranges::all_of(all,
                                             [&](const SpreadConstraint& o) {
                                               return nodeLabel(node, o.topologyKey).has_value();
                                             })
                       : nodeLabel(node, c.topologyKey).has_value();
    if (!hasKeys) continue;
    if (c.honorNodeAffinity && !podMatchesNodeSelectorAndAffinity(pod, *node.node)) continue;
    if (c.honorTaints && !taintToleration(pod, node, s).ok()) continue;
    auto& n = counts.byDomain[*nodeLabel(node, c.topologyKey)];
    for (const auto& p : node.pods)
      if (namespaceOf(*p) == ns && !terminating(*p) &&
          c.selector.matches(field(*p, "metadata", "labels")))
        ++n;
  }
  return counts;
}

}  // namespace berth::controlplane::scheduler
