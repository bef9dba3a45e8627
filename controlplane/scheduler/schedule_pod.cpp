#include "controlplane/scheduler/schedule_pod.h"

#include <algorithm>

#include <fmt/format.h>

#include "controlplane/scheduler/scores.h"

namespace berth::controlplane::scheduler {

namespace {

std::int64_t podPriority(const nlohmann::json& pod) {
  const auto& p = field(pod, "spec", "priority");
  return p.is_number_integer() ? p.get<std::int64_t>() : 0;
}

// SelectVictimsOnNode's verdict for one node that rejected the pod as Unschedulable.
FilterStatus preemptionVerdict(const nlohmann::json& pod, const NodeInfo& node, const Snapshot& s) {
  NodeInfo without(node.node);
  bool victims = false;
  for (const auto& p : node.pods) {
    if (podPriority(*p) < podPriority(pod))
      victims = true;
    else
      without.addPod(p);
  }
  if (victims) {
    auto status = runFilters(pod, without, s);
    if (!status.ok()) return status;
  }
  return FilterStatus::unresolvable("No preemption victims found for incoming pod");
}

}  // namespace

std::string fitErrorMessage(size_t numAllNodes, const Diagnosis& d,
                            const std::string& postFilterMessage) {
  std::string msg = fmt::format("0/{} nodes are available:", numAllNodes);
  if (!d.preFilterMessage.empty()) {
    msg += fmt::format(" {}.", d.preFilterMessage);
  } else {
    std::map<std::string, int> reasons;
    for (const auto& [node, status] : d.nodeStatus)
      for (const auto& r : status.reasons)
        ++reasons[r];
    std::vector<std::string> counted;
    for (const auto& [r, n] : reasons)
      counted.push_back(fmt::format("{} {}", n, r));
    std::ranges::sort(counted);  // upstream sorts the "<count> <reason>" strings
    if (!counted.empty()) msg += fmt::format(" {}.", fmt::join(counted, ", "));
  }
  if (!postFilterMessage.empty()) msg += " " + postFilterMessage;
  return msg;
}

std::string preemptionMessage(const nlohmann::json& pod, const Diagnosis& d, const Snapshot& s) {
  if (stringField(pod, "spec", "preemptionPolicy") == "Never")
    return "preemption: not eligible due to preemptionPolicy=Never.";
  Diagnosis verdicts;
  for (const auto& node : s.nodes) {
    auto it = d.nodeStatus.find(node.name());
    bool helpless = !d.preFilterMessage.empty() || it == d.nodeStatus.end() ||
                    it->second.code == FilterCode::kUnschedulableAndUnresolvable;
    verdicts.nodeStatus[node.name()] =
        helpless ? FilterStatus::unresolvable("Preemption is not helpful for scheduling")
                 : preemptionVerdict(pod, node, s);
  }
  return "preemption: " + fitErrorMessage(s.nodes.size(), verdicts, "");
}

ScheduleResult schedulePod(const nlohmann::json& pod, const Snapshot& s, std::mt19937_64& rng) {
  ScheduleResult result;
  if (s.nodes.empty()) {
    result.noNodes = true;
    result.message = "no nodes available to schedule pods";
    return result;
  }
  Diagnosis diagnosis;
  Nodes feasible;
  if (auto pre = preFilter(pod, s); !pre.ok()) {
    diagnosis.preFilterMessage = fmt::format("{}", fmt::join(pre.reasons, ", "));
    for (const auto& node : s.nodes)
      diagnosis.nodeStatus[node.name()] = pre;
  } else {
    for (const auto& node : s.nodes) {
      auto status = runFilters(pod, node, s);
      if (status.ok())
        feasible.push_back(&node);
      else
        diagnosis.nodeStatus[node.name()] = std::move(status);
    }
  }
  if (feasible.empty()) {
    result.message =
        fitErrorMessage(s.nodes.size(), diagnosis, preemptionMessage(pod, diagnosis, s));
    return result;
  }
  if (feasible.size() == 1) {
    result.node = feasible[0]->name();
    return result;
  }
  auto scores = scoreNodes(pod, feasible, s);
  result.node = feasible[selectHost(scores, rng)]->name();
  return result;
}

}  // namespace berth::controlplane::scheduler
