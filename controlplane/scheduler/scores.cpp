#include "controlplane/scheduler/scores.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "controlplane/scheduler/filters.h"
#include "controlplane/scheduler/pod_affinity.h"

namespace berth::controlplane::scheduler {

namespace {

// resourceAllocationScorer over cpu and memory (weight 1 each); resources a node does not
// offer are left out.
template <typename Scorer>
std::int64_t allocationScore(const Resources& requested, const Resources& allocatable,
                             Scorer scorer) {
  std::vector<std::pair<std::int64_t, std::int64_t>> pairs;
  if (allocatable.milliCpu > 0) pairs.emplace_back(requested.milliCpu, allocatable.milliCpu);
  if (allocatable.memory > 0) pairs.emplace_back(requested.memory, allocatable.memory);
  if (pairs.empty()) return 0;
  return scorer(pairs);
}

// ImageLocality's thresholds (image_locality.go).
constexpr std::int64_t kMb = 1024 * 1024;
constexpr std::int64_t kMinThreshold = 23 * kMb;
constexpr std::int64_t kMaxContainerThreshold = 1000 * kMb;

std::string normalizedImageName(std::string name) {
  auto colon = name.rfind(':');
  auto slash = name.rfind('/');
  if (name.find('@') == std::string::npos &&
      (colon == std::string::npos || (slash != std::string::npos && colon < slash)))
    name += ":latest";
  return name;
}

}  // namespace

void defaultNormalizeScore(std::vector<std::int64_t>& scores, bool reverse) {
  std::int64_t maxCount = scores.empty() ? 0 : std::ranges::max(scores);
  for (auto& s : scores) {
    if (maxCount == 0) {
      s = reverse ? kMaxNodeScore : 0;
      continue;
    }
    s = kMaxNodeScore * s / maxCount;
    if (reverse) s = kMaxNodeScore - s;
  }
}

std::vector<std::int64_t> taintTolerationScore(const nlohmann::json& pod, const Nodes& nodes,
                                               const Snapshot&) {
  nlohmann::json preferTolerations = nlohmann::json::array();
  for (const auto& t : field(pod, "spec", "tolerations")) {
    std::string effect = kubeapi::jsonString(t, "effect");
    if (effect.empty() || effect == "PreferNoSchedule") preferTolerations.push_back(t);
  }
  std::vector<std::int64_t> scores;
  for (const auto* n : nodes) {
    std::int64_t intolerable = 0;
    for (const auto& taint : field(*n->node, "spec", "taints"))
      if (kubeapi::jsonString(taint, "effect") == "PreferNoSchedule" &&
          !tolerates(preferTolerations, taint))
        ++intolerable;
    scores.push_back(intolerable);
  }
  defaultNormalizeScore(scores, true);
  return scores;
}

std::vector<std::int64_t> nodeAffinityScore(const nlohmann::json& pod, const Nodes& nodes,
                                            const Snapshot&) {
  const auto& preferred = field(field(pod, "spec", "affinity"), "nodeAffinity",
                                "preferredDuringSchedulingIgnoredDuringExecution");
  std::vector<std::int64_t> scores;
  for (const auto* n : nodes) {
    std::int64_t sum = 0;
    for (const auto& term : preferred) {
      const auto& weight = field(term, "weight");
      if (weight.is_number_integer() && nodeMatchesTerm(*n->node, field(term, "preference")))
        sum += weight.get<std::int64_t>();
    }
    scores.push_back(sum);
  }
  defaultNormalizeScore(scores, false);
  return scores;
}

std::vector<std::int64_t> leastAllocatedScore(const nlohmann::json& pod, const Nodes& nodes,
                                              const Snapshot&) {
  Resources podReq = podNonZeroRequests(pod);
  std::vector<std::int64_t> scores;
  for (const auto* n : nodes) {
    Resources requested = n->nonZeroRequested;
    requested.add(podReq);
    scores.push_back(allocationScore(requested, n->allocatable, [](const auto& pairs) {
      std::int64_t sum = 0;
      for (auto [req, alloc] : pairs)
        sum += req > alloc ? 0 : (alloc - req) * kMaxNodeScore / alloc;
      return sum / static_cast<std::int64_t>(pairs.size());
    }));
  }
  return scores;
}

std::vector<std::int64_t> balancedAllocationScore(const nlohmann::json& pod, const Nodes& nodes,
                                                  const Snapshot&) {
  Resources podReq = podRequests(pod);
  if (podReq.milliCpu == 0 && podReq.memory == 0) return std::vector<std::int64_t>(nodes.size());
  std::vector<std::int64_t> scores;
  for (const auto* n : nodes) {
    Resources requested = n->requested;
    requested.add(podReq);
    scores.push_back(allocationScore(requested, n->allocatable, [](const auto& pairs) {
      std::vector<double> fractions;
      for (auto [req, alloc] : pairs)
        fractions.push_back(std::min(1.0, static_cast<double>(req) / static_cast<double>(alloc)));
      double std = 0;
      if (fractions.size() == 2) {
        std = std::abs(fractions[0] - fractions[1]) / 2;
      }
      return static_cast<std::int64_t>((1 - std) * static_cast<double>(kMaxNodeScore));
    }));
  }
  return scores;
}

std::vector<std::int64_t> podTopologySpreadScore(const nlohmann::json& pod, const Nodes& nodes,
                                                 const Snapshot& s) {
  auto constraints = topologySpreadConstraints(pod, "ScheduleAnyway");
  bool systemDefaulted = field(pod, "spec", "topologySpreadConstraints").empty();
  if (systemDefaulted) constraints = defaultSpreadConstraints(pod, s);
  std::vector<std::int64_t> scores(nodes.size(), 0);
  if (constraints.empty()) return scores;
  std::vector<SpreadCounts> counts;
  std::vector<double> weights;  // log(domains among the feasible nodes + 2)
  for (const auto& c : constraints) {
    counts.push_back(countSpread(pod, c, constraints, s, !systemDefaulted));
    std::set<std::string> domains;
    for (const auto* n : nodes)
      if (const auto& v = field(n->labels(), c.topologyKey); v.is_string())
        domains.insert(v.get<std::string>());
    weights.push_back(std::log(static_cast<double>(domains.size() + 2)));
  }
  // -1: ignored, a topology key of the pod's own constraints is missing (system defaults
  // just leave out the keys a node lacks).
  std::vector<double> raw(nodes.size(), -1);
  for (size_t i = 0; i < nodes.size(); ++i) {
    double sum = 0;
    bool ignored = false;
    for (size_t k = 0; k < constraints.size(); ++k) {
      const auto& v = field(nodes[i]->labels(), constraints[k].topologyKey);
      if (!v.is_string()) {
        ignored = !systemDefaulted;
        if (ignored) break;
        continue;
      }
      sum += static_cast<double>(counts[k].count(v.get<std::string>())) * weights[k] +
             static_cast<double>(constraints[k].maxSkew - 1);
    }
    if (!ignored) raw[i] = std::round(sum);
  }
  double maxScore = 0;
  double minScore = std::numeric_limits<double>::max();
  for (double r : raw)
    if (r >= 0) {
      maxScore = std::max(maxScore, r);
      minScore = std::min(minScore, r);
    }
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (raw[i] < 0) continue;
    scores[i] = maxScore == 0
                    ? kMaxNodeScore
                    : static_cast<std::int64_t>(static_cast<double>(kMaxNodeScore) *
                                                (maxScore + minScore - raw[i]) / maxScore);
  }
  return scores;
}

std::vector<std::int64_t> interPodAffinityScore(const nlohmann::json& pod, const Nodes& nodes,
                                                const Snapshot& s) {
  auto topology = affinityTopologyScores(pod, s);
  std::vector<std::int64_t> scores;
  for (const auto* n : nodes) {
    std::int64_t sum = 0;
    for (const auto& [key, domains] : topology)
      if (const auto& v = field(n->labels(), key); v.is_string())
        if (auto it = domains.find(v.get<std::string>()); it != domains.end()) sum += it->second;
    scores.push_back(sum);
  }
  // Scaled between the lowest and the highest (negative sums included).
  auto [lo, hi] = std::ranges::minmax(scores);
  for (auto& score : scores)
    score = hi > lo ? kMaxNodeScore * (score - lo) / (hi - lo) : 0;
  return scores;
}

std::vector<std::int64_t> imageLocalityScore(const nlohmann::json& pod, const Nodes& nodes,
                                             const Snapshot& s) {
  // name -> (size, how many nodes have it), over the whole cluster.
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> images;
  for (const auto& n : s.nodes)
    for (const auto& img : field(*n.node, "status", "images")) {
      std::int64_t size =
          field(img, "sizeBytes").is_number_integer() ? img["sizeBytes"].get<std::int64_t>() : 0;
      for (const auto& name : field(img, "names"))
        if (name.is_string()) {
          auto& e = images[name.get<std::string>()];
          e.first = size;
          ++e.second;
        }
    }
  std::vector<std::string> podImages;
  for (const char* kind : {"initContainers", "containers"})
    for (const auto& c : field(pod, "spec", kind))
      podImages.push_back(normalizedImageName(kubeapi::jsonString(c, "image")));
  std::int64_t total = static_cast<std::int64_t>(s.nodes.size());
  std::int64_t maxThreshold = kMaxContainerThreshold * static_cast<std::int64_t>(podImages.size());
  std::vector<std::int64_t> scores;
  for (const auto* n : nodes) {
    std::set<std::string> here;
    for (const auto& img : field(*n->node, "status", "images"))
      for (const auto& name : field(img, "names"))
        if (name.is_string()) here.insert(name.get<std::string>());
    std::int64_t sum = 0;
    for (const auto& image : podImages)
      if (here.contains(image)) {
        auto [size, count] = images[image];
        sum += static_cast<std::int64_t>(static_cast<double>(size) * static_cast<double>(count) /
                                         static_cast<double>(total));
      }
    if (maxThreshold <= kMinThreshold) {
      scores.push_back(0);
      continue;
    }
    sum = std::clamp(sum, kMinThreshold, maxThreshold);
    scores.push_back(kMaxNodeScore * (sum - kMinThreshold) / (maxThreshold - kMinThreshold));
  }
  return scores;
}

const std::vector<ScorePlugin>& defaultScores() {
  // getDefaultPlugins' weights.
  static const std::vector<ScorePlugin> kScores = {
      {"TaintToleration", taintTolerationScore, 3},
      {"NodeAffinity", nodeAffinityScore, 2},
      {"NodeResourcesFit", leastAllocatedScore, 1},
      {"PodTopologySpread", podTopologySpreadScore, 2},
      {"InterPodAffinity", interPodAffinityScore, 2},
      {"NodeResourcesBalancedAllocation", balancedAllocationScore, 1},
      {"ImageLocality", imageLocalityScore, 1},
  };
  return kScores;
}

std::vector<std::int64_t> scoreNodes(const nlohmann::json& pod, const Nodes& nodes,
                                     const Snapshot& s) {
  std::vector<std::int64_t> total(nodes.size(), 0);
  for (const auto& p : defaultScores()) {
    auto scores = p.score(pod, nodes, s);
    for (size_t i = 0; i < nodes.size(); ++i)
      total[i] += scores[i] * p.weight;
  }
  return total;
}

size_t selectHost(const std::vector<std::int64_t>& scores, std::mt19937_64& rng) {
  size_t selected = 0;
  std::int64_t best = std::numeric_limits<std::int64_t>::min();
  std::uint64_t ties = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (scores[i] > best) {
      best = scores[i];
      selected = i;
      ties = 1;
    } else if (scores[i] == best) {
      // Reservoir sampling: the i-th tie replaces the choice with probability 1/ties.
      if (std::uniform_int_distribution<std::uint64_t>(0, ties++)(rng) == 0) selected = i;
    }
  }
  return selected;
}

}  // namespace berth::controlplane::scheduler
