#include "controlplane/controllers/active_pods.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "kubeapi/json_fields.h"
#include "kubeapi/object_meta.h"

namespace berth::controlplane::controllers {

using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;
using nlohmann::json;

namespace {

const json* readyCondition(const json& pod) {
  for (const json& c : jsonArray(jsonField(pod, "status"), "conditions"))
    if (jsonString(c, "type") == "Ready") return &c;
  return nullptr;
}

std::string_view nodeNameOf(const json& pod) {
  const json& node = jsonField(jsonField(pod, "spec"), "nodeName");
  return node.is_string() ? std::string_view(node.get_ref<const std::string&>()) : "";
}

std::string phaseOf(const json& pod) {
  return jsonString(jsonField(pod, "status"), "phase");
}

// podPhaseToOrdinal: Pending < Unknown < Running; any other phase reads as Pending.
int phaseOrdinal(const json& pod) {
  static const std::map<std::string, int, std::less<>> ordinal = {
      {"Pending", 0}, {"Unknown", 1}, {"Running", 2}};
  auto it = ordinal.find(phaseOf(pod));
  return it == ordinal.end() ? 0 : it->second;
}

// controller.kubernetes.io/pod-deletion-cost; unset or not an int32 reads as 0.
std::int32_t deletionCost(const json& pod) {
  auto value = kubeapi::annotationOf(pod, "controller.kubernetes.io/pod-deletion-cost");
  if (!value) return 0;
  std::int32_t cost = 0;
  auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), cost);
  return ec == std::errc() && end == value->data() + value->size() ? cost : 0;
}

std::int64_t maxContainerRestarts(const json& pod) {
  std::int64_t most = 0;
  for (const json& s : jsonArray(jsonField(pod, "status"), "containerStatuses")) {
    const json& count = jsonField(s, "restartCount");
    if (count.is_number_integer()) most = std::max(most, count.get<std::int64_t>());
  }
  return most;
}

// afterOrZero: a zero time sorts first, then the later time.
bool afterOrZero(const std::optional<kubeapi::Time>& a, const std::optional<kubeapi::Time>& b) {
  if (!a || !b) return !a;
  return *a > *b;
}

// logarithmicRankDiff: the log2 buckets of the nanoseconds since each time.
std::int64_t logarithmicRankDiff(kubeapi::Time a, kubeapi::Time b, kubeapi::Time now) {
  auto bucket = [&](kubeapi::Time t) -> std::int64_t {
    auto d = (now - t).count();
    return d > 0 ? static_cast<std::int64_t>(std::log2(static_cast<double>(d))) : -1;
  };
  return bucket(a) - bucket(b);
}

// Younger first, compared in log2 buckets; equal buckets fall back to the UID, as upstream.
bool youngerFirst(const json& a, const json& b, const std::optional<kubeapi::Time>& ta,
                  const std::optional<kubeapi::Time>& tb, kubeapi::Time now) {
  if (!ta || !tb) return afterOrZero(ta, tb);
  std::int64_t diff = logarithmicRankDiff(*ta, *tb, now);
  if (diff == 0) return kubeapi::uidOf(a) < kubeapi::uidOf(b);
  return diff < 0;
}

bool deleteFirst(const RankedPod& x, const RankedPod& y, kubeapi::Time now) {
  const json& a = *x.pod;
  const json& b = *y.pod;
  std::string_view nodeA = nodeNameOf(a), nodeB = nodeNameOf(b);
  if (nodeA != nodeB && (nodeA.empty() || nodeB.empty())) return nodeA.empty();
  if (phaseOrdinal(a) != phaseOrdinal(b)) return phaseOrdinal(a) < phaseOrdinal(b);
  bool readyA = isPodReady(a), readyB = isPodReady(b);
  if (readyA != readyB) return !readyA;
  if (deletionCost(a) != deletionCost(b)) return deletionCost(a) < deletionCost(b);
  if (x.rank != y.rank) return x.rank > y.rank;
  if (readyA && readyB) {
    auto ta = podReadySince(a), tb = podReadySince(b);
    if (ta != tb) return youngerFirst(a, b, ta, tb, now);
  }
  if (maxContainerRestarts(a) != maxContainerRestarts(b))
    return maxContainerRestarts(a) > maxContainerRestarts(b);
  auto ca = kubeapi::creationTimestampOf(a), cb = kubeapi::creationTimestampOf(b);
  if (ca != cb) return youngerFirst(a, b, ca, cb, now);
  return false;
}

}  // namespace

bool isPodActive(const json& pod) {
  std::string phase = phaseOf(pod);
  return phase != "Succeeded" && phase != "Failed" && !kubeapi::deletionTimestampOf(pod);
}

bool isPodReady(const json& pod) {
  const json* c = readyCondition(pod);
  return c && jsonString(*c, "status") == "True";
}

std::optional<kubeapi::Time> podReadySince(const json& pod) {
  const json* c = readyCondition(pod);
  if (!c || jsonString(*c, "status") != "True") return std::nullopt;
  auto t = kubeapi::timeFromJson(jsonField(*c, "lastTransitionTime"));
  return t ? *t : std::nullopt;
}

bool isPodAvailable(const json& pod, std::int32_t minReadySeconds, kubeapi::Time now) {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds == 0) return true;
  auto since = podReadySince(pod);
  return since && *since + std::chrono::seconds(minReadySeconds) < now;
}

void sortPodsForDeletion(std::vector<RankedPod>& pods, kubeapi::Time now) {
  std::stable_sort(pods.begin(), pods.end(),
                   [&](const RankedPod& a, const RankedPod& b) { return deleteFirst(a, b, now); });
}

std::vector<kubeapi::ObjectPtr> podsToDelete(const std::vector<kubeapi::ObjectPtr>& pods,
                                             const std::vector<kubeapi::ObjectPtr>& related,
                                             size_t diff, kubeapi::Time now) {
  std::vector<kubeapi::ObjectPtr> chosen;
  if (diff >= pods.size()) return pods;
  // getPodsRankedByRelatedPodsOnSameNode: active related pods per node.
  std::map<std::string, int, std::less<>> perNode;
  for (const auto& p : related)
    if (isPodActive(*p)) ++perNode[std::string(nodeNameOf(*p))];
  std::vector<RankedPod> ranked;
  for (const auto& p : pods) {
    auto it = perNode.find(nodeNameOf(*p));
    ranked.push_back({p, it == perNode.end() ? 0 : it->second});
  }
  sortPodsForDeletion(ranked, now);
  for (size_t i = 0; i < diff; ++i)
    chosen.push_back(ranked[i].pod);
  return chosen;
}

}  // namespace berth::controlplane::controllers
