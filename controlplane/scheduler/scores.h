#pragma once
// kube-scheduler's default score plugins with their default weights. Each answers 0..100 per
// feasible node, already normalized as its NormalizeScore does; the scheduler sums them
// weighted and picks at random among the best (selectHost's reservoir sample).
#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/scheduler/node_info.h"

namespace berth::controlplane::scheduler {

constexpr std::int64_t kMaxNodeScore = 100;

using Nodes = std::vector<const NodeInfo*>;
using ScoreFn = std::vector<std::int64_t> (*)(const nlohmann::json& pod, const Nodes& nodes,
                                              const Snapshot& s);
struct ScorePlugin {
  std::string_view name;
  ScoreFn score;
  std::int64_t weight;
};

std::vector<std::int64_t> taintTolerationScore(const nlohmann::json& pod, const Nodes& nodes,
                                               const Snapshot&);
std::vector<std::int64_t> nodeAffinityScore(const nlohmann::json& pod, const Nodes& nodes,
                                            const Snapshot&);
std::vector<std::int64_t> leastAllocatedScore(const nlohmann::json& pod, const Nodes& nodes,
                                              const Snapshot&);
std::vector<std::int64_t> balancedAllocationScore(const nlohmann::json& pod, const Nodes& nodes,
                                                  const Snapshot&);
std::vector<std::int64_t> podTopologySpreadScore(const nlohmann::json& pod, const Nodes& nodes,
                                                 const Snapshot& s);
std::vector<std::int64_t> interPodAffinityScore(const nlohmann::json& pod, const Nodes& nodes,
                                                const Snapshot& s);
std::vector<std::int64_t> imageLocalityScore(const nlohmann::json& pod, const Nodes& nodes,
                                             const Snapshot& s);

const std::vector<ScorePlugin>& defaultScores();
// The weighted sum per node.
std::vector<std::int64_t> scoreNodes(const nlohmann::json& pod, const Nodes& nodes,
                                     const Snapshot& s);
// The index of a best-scoring node, each of the ties equally likely.
size_t selectHost(const std::vector<std::int64_t>& scores, std::mt19937_64& rng);

// helper.DefaultNormalizeScore: scale to 0..max by the highest score, reversed if asked.
void defaultNormalizeScore(std::vector<std::int64_t>& scores, bool reverse);

}  // namespace berth::controlplane::scheduler
