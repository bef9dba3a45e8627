#pragma once
// Pods as the workload controllers judge them (k8s.io/kubernetes pkg/controller/controller_utils.go
// and pkg/api/v1/pod): active, ready, available after minReadySeconds, and the order in which a
// ReplicaSet gives up pods when it scales down (ActivePodsWithRanks).
#include <cstdint>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "kubeapi/meta_time.h"
#include "kubeapi/object_cache.h"

namespace berth::controlplane::controllers {

// Not Succeeded, not Failed and not being deleted (controller.IsPodActive).
bool isPodActive(const nlohmann::json& pod);
// The Ready condition is True (podutil.IsPodReady).
bool isPodReady(const nlohmann::json& pod);
// When the Ready condition last turned True, if it is True.
std::optional<kubeapi::Time> podReadySince(const nlohmann::json& pod);
// Ready for at least minReadySeconds at `now` (podutil.IsPodAvailable).
bool isPodAvailable(const nlohmann::json& pod, std::int32_t minReadySeconds, kubeapi::Time now);

// A pod and the number of pods related to it (owned by the same controller's other sets) on its
// node: a "doubled up" pod goes first.
struct RankedPod {
  kubeapi::ObjectPtr pod;
  int rank = 0;
};

// Sorts pods so the ones to delete first come first (ActivePodsWithRanks.Less): unscheduled <
// scheduled; Pending < Unknown < Running; not ready < ready; lower pod-deletion-cost; higher
// rank; ready for less time (in log2 buckets of seconds, LogarithmicScaleDown); more container
// restarts; created later (log2 buckets too). `now` anchors the buckets.
void sortPodsForDeletion(std::vector<RankedPod>& pods, kubeapi::Time now);

// The `diff` pods to delete from `pods`, ranked by how many `related` active pods share their
// node (getPodsToDelete).
std::vector<kubeapi::ObjectPtr> podsToDelete(const std::vector<kubeapi::ObjectPtr>& pods,
                                             const std::vector<kubeapi::ObjectPtr>& related,
                                             size_t diff, kubeapi::Time now);

}  // namespace berth::controlplane::controllers
