#pragma once
// The pure part of the Deployment controller, as pkg/controller/deployment/util computes it:
// maxSurge/maxUnavailable from int-or-percent, the pod-template-hash, revision and replica
// annotations, how many replicas a new ReplicaSet gets, proportional scaling, conditions and
// status. Objects are JSON; nothing here talks to the API.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubeapi/meta_time.h"

namespace berth::controlplane::controllers::deployment {

inline constexpr std::string_view kRevisionAnnotation = "deployment.kubernetes.io/revision";
inline constexpr std::string_view kRevisionHistoryAnnotation =
    "deployment.kubernetes.io/revision-history";
inline constexpr std::string_view kDesiredReplicasAnnotation =
    "deployment.kubernetes.io/desired-replicas";
inline constexpr std::string_view kMaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";
inline constexpr std::string_view kPodTemplateHashLabel = "pod-template-hash";
inline constexpr int kMaxRevisionHistoryLength = 2000;  // characters

// Condition reasons (deploymentutil).
inline constexpr std::string_view kReplicaSetUpdatedReason = "ReplicaSetUpdated";
inline constexpr std::string_view kFailedRSCreateReason = "ReplicaSetCreateError";
inline constexpr std::string_view kNewReplicaSetReason = "NewReplicaSetCreated";
inline constexpr std::string_view kFoundNewRSReason = "FoundNewReplicaSet";
inline constexpr std::string_view kNewRSAvailableReason = "NewReplicaSetAvailable";
inline constexpr std::string_view kTimedOutReason = "ProgressDeadlineExceeded";
inline constexpr std::string_view kPausedDeployReason = "DeploymentPaused";
inline constexpr std::string_view kResumedDeployReason = "DeploymentResumed";
inline constexpr std::string_view kMinimumReplicasAvailable = "MinimumReplicasAvailable";
inline constexpr std::string_view kMinimumReplicasUnavailable = "MinimumReplicasUnavailable";

// intstr.GetScaledValueFromIntOrPercent: an int as is, "25%" of total rounded up or down.
[[nodiscard]] Result<std::int32_t> scaledValue(const nlohmann::json& intOrPercent,
                                               std::int32_t total, bool roundUp);
struct Fenceposts {
  std::int32_t maxSurge = 0;
  std::int32_t maxUnavailable = 0;
};
// ResolveFenceposts: surge rounds up, unavailability down; both 0 makes unavailability 1.
[[nodiscard]] Result<Fenceposts> resolveFenceposts(const nlohmann::json& maxSurge,
                                                   const nlohmann::json& maxUnavailable,
                                                   std::int32_t desired);
bool isRollingUpdate(const nlohmann::json& d);
// MaxSurge / MaxUnavailable of a Deployment (0 for Recreate; unavailability at most replicas).
std::int32_t maxSurge(const nlohmann::json& d);
std::int32_t maxUnavailable(const nlohmann::json& d);

// controller.ComputeHash: fnv32a over the template (then the collision count, 8 bytes little
// endian), the decimal sum rendered by rand.SafeEncodeString. Upstream hashes Go's spew dump
// of the struct; we hash the canonical JSON (sorted keys), so the names differ from upstream's
// for the same template but are as stable.
std::uint32_t fnv32a(std::string_view data, std::uint32_t hash = 2166136261u);
std::string safeEncodeString(std::string_view s);
std::string computeHash(const nlohmann::json& podTemplate, std::optional<std::int32_t> collisions);
// EqualIgnoreHash: the templates are equal but for the pod-template-hash label.
bool equalIgnoreHash(const nlohmann::json& a, const nlohmann::json& b);

// Revisions (deployment.kubernetes.io/revision; absent or unparsable is 0).
std::int64_t revisionOf(const nlohmann::json& rs);
std::int64_t maxRevision(const std::vector<nlohmann::json>& rss);
// SetNewReplicaSetAnnotations: copies the Deployment's annotations (but the skipped ones), raises
// the revision (keeping the former ones in revision-history, as a rollback does), and for a new
// set the replica annotations. Returns whether anything changed.
bool setNewReplicaSetAnnotations(const nlohmann::json& d, nlohmann::json& rs,
                                 const std::string& newRevision, bool exists);
bool setReplicasAnnotations(nlohmann::json& rs, std::int32_t desired, std::int32_t max);
bool replicasAnnotationsNeedUpdate(const nlohmann::json& rs, std::int32_t desired,
                                   std::int32_t max);
std::optional<std::int32_t> desiredReplicasAnnotation(const nlohmann::json& rs);

// Sums over sets: spec.replicas, status.replicas, readyReplicas, availableReplicas.
std::int32_t replicaCount(const std::vector<nlohmann::json>& rss);
std::int32_t actualReplicaCount(const std::vector<nlohmann::json>& rss);
std::int32_t readyReplicaCount(const std::vector<nlohmann::json>& rss);
std::int32_t availableReplicaCount(const std::vector<nlohmann::json>& rss);
// Sets with spec.replicas > 0.
std::vector<nlohmann::json> activeReplicaSets(const std::vector<nlohmann::json>& rss);

// NewRSNewReplicas: the size of the new set next step (RollingUpdate: up to replicas+maxSurge
// pods in all; Recreate: all at once).
[[nodiscard]] Result<std::int32_t> newRSNewReplicas(const nlohmann::json& d,
                                                    const std::vector<nlohmann::json>& allRSs,
                                                    const nlohmann::json& newRS);
// GetProportion: how many of `toAdd` replicas (negative: remove) the set takes when a scaled
// Deployment spreads the change over its sets by their max-replicas annotation.
std::int32_t proportion(const nlohmann::json& rs, const nlohmann::json& d, std::int32_t toAdd,
                        std::int32_t added);
// IsSaturated: the set has all the Deployment's replicas, available.
bool isSaturated(const nlohmann::json& d, const nlohmann::json* rs);

// Sorting (controller.ReplicaSetsByCreationTimestamp and friends): ties by name.
bool createdBefore(const nlohmann::json& a, const nlohmann::json& b);
void sortByCreation(std::vector<nlohmann::json>& rss, bool newestFirst = false);
void sortByRevision(std::vector<nlohmann::json>& rss);
// ReplicaSetsBySizeNewer (larger first, then newer) or BySizeOlder (larger first, then older).
void sortBySize(std::vector<nlohmann::json>& rss, bool newerFirst);

// Conditions of status.conditions.
nlohmann::json newCondition(std::string_view type, std::string_view status, std::string_view reason,
                            std::string message, kubeapi::Time now);
const nlohmann::json* getCondition(const nlohmann::json& status, std::string_view type);
// SetDeploymentCondition: no change when status and reason are the same; the transition time
// is kept when only the reason changes.
void setCondition(nlohmann::json& status, nlohmann::json condition);
void removeCondition(nlohmann::json& status, std::string_view type);

// calculateStatus: counts over the sets, observedGeneration, the Available condition.
nlohmann::json calculateStatus(const std::vector<nlohmann::json>& allRSs,
                               const nlohmann::json* newRS, const nlohmann::json& d,
                               kubeapi::Time now);
bool hasProgressDeadline(const nlohmann::json& d);
// DeploymentComplete / DeploymentProgressing / DeploymentTimedOut.
bool deploymentComplete(const nlohmann::json& d, const nlohmann::json& newStatus);
bool deploymentProgressing(const nlohmann::json& d, const nlohmann::json& newStatus);
bool deploymentTimedOut(const nlohmann::json& d, const nlohmann::json& newStatus,
                        kubeapi::Time now);

}  // namespace berth::controlplane::controllers::deployment
