#pragma once
// Static pods and their mirror pods, as pure functions (pkg/kubelet/config/common.go and
// pkg/kubelet/pod/mirror_client.go upstream): a manifest file decodes into the pod the kubelet
// runs, and each static pod is shown in the API by a mirror pod the kubelet creates.
#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::kubelet {

// pkg/kubelet/types/pod_update.go.
inline constexpr std::string_view kConfigSourceAnnotation = "kubernetes.io/config.source";
inline constexpr std::string_view kConfigHashAnnotation = "kubernetes.io/config.hash";
inline constexpr std::string_view kConfigSeenAnnotation = "kubernetes.io/config.seen";
inline constexpr std::string_view kConfigMirrorAnnotation = "kubernetes.io/config.mirror";
inline constexpr std::string_view kFileSource = "file";

// One manifest (YAML or JSON, one v1 Pod) as the file source delivers it: the API server's pod
// defaults; name "<name>-<nodeName>"; namespace "default" when unset; spec.nodeName; a UID (unless
// the file gives one) hashed from the node name, the file's path and the pod, so an edit makes a
// new pod; the annotations config.hash (the UID), config.source=file and config.seen (`seen`, the
// time the kubelet first saw it); a toleration of every NoExecute taint; phase Pending.
[[nodiscard]] Result<nlohmann::json> decodeStaticPod(std::string_view data, const std::string& path,
                                                     const std::string& nodeName,
                                                     const std::string& seen);

// Whether the pod came from a file rather than the API (config.source).
bool isStaticPod(const nlohmann::json& pod);
// Whether an API pod is a mirror pod (the config.mirror annotation): it is never run itself.
bool isMirrorPod(const nlohmann::json& pod);

// The mirror pod to create for a static pod: the static pod with config.mirror=<hash> and the
// Node as its controlling owner (what NodeRestriction demands), without UID and status.
nlohmann::json mirrorPodFor(const nlohmann::json& staticPod, const std::string& nodeName,
                            const std::string& nodeUid);

enum class MirrorAction {
  kNone,      // the mirror is current
  kCreate,    // there is none
  kRecreate,  // it is another version's, or someone is deleting it: delete, then create
};
// What to do about a static pod's mirror (`mirror` null when the API has none); upstream's
// SyncPod compares the config.mirror annotation with the static pod's hash.
MirrorAction planMirrorPod(const nlohmann::json& staticPod, const nlohmann::json* mirror);

// RFC 3339 with nanoseconds in UTC (Go's time.RFC3339Nano), as config.seen holds it.
std::string rfc3339Nano(std::chrono::system_clock::time_point t);

}  // namespace berth::kubelet
