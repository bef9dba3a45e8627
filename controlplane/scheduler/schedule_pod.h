#pragma once
// One scheduling cycle as a pure function (kube-scheduler's schedulePod + the
// DefaultPreemption PostFilter's message): filters over every node, scores over the feasible
// ones, a random pick among the best; or, when no node fits, FitError's message counting each
// reason ("0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint
// {node.kubernetes.io/not-ready: }. preemption: 0/3 nodes are available: 3 Preemption is not
// helpful for scheduling.").
#include <map>
#include <optional>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "controlplane/scheduler/filters.h"
#include "controlplane/scheduler/node_info.h"

namespace berth::controlplane::scheduler {

struct ScheduleResult {
  std::optional<std::string> node;  // the chosen node
  std::string message;              // why none fits (FitError.Error())
  bool noNodes = false;             // the cluster has no node ("no nodes available ...")
};

// framework.Diagnosis: each rejected node's status, or one PreFilter status for all.
struct Diagnosis {
  std::map<std::string, FilterStatus> nodeStatus;
  std::string preFilterMessage;
};

// FitError.Error(): "0/N nodes are available: <prefilter or sorted reason counts>." then
// " <postFilterMessage>" when there is one.
std::string fitErrorMessage(size_t numAllNodes, const Diagnosis& d,
                            const std::string& postFilterMessage);

// What DefaultPreemption answers when it finds no candidate: "preemption: 0/N nodes are
// available: ..." (nodes rejected as unresolvable: "Preemption is not helpful for scheduling";
// nodes without lower-priority pods: "No preemption victims found for incoming pod"; nodes
// that still don't fit without them: the filters' reasons). berth evicts nobody: a node
// where evicting would help is reported as having no victims.
std::string preemptionMessage(const nlohmann::json& pod, const Diagnosis& d, const Snapshot& s);

ScheduleResult schedulePod(const nlohmann::json& pod, const Snapshot& s, std::mt19937_64& rng);

}  // namespace berth::controlplane::scheduler
