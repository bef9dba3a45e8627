#pragma once
// The files of configMap, secret and projected volumes (upstream pkg/volume/configmap,
// secret and projected MakePayload / collectData): what AtomicWriter writes.

#include <sys/types.h>

#include <optional>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubelet/volume/atomic_writer.h"
#include "kubelet/volume/object_source.h"

namespace berth::kubelet::volume {

inline constexpr mode_t kDefaultProjectionMode = 0644;  // defaultMode's API default
inline constexpr std::int64_t kDefaultTokenExpirationSeconds = 3600;

// Every key of data and binaryData with defaultMode, or only the listed items ({key, path,
// mode}); a listed key the object lacks is an error unless optional.
[[nodiscard]] Result<Payload> makeConfigMapPayload(const nlohmann::json& items,
                                                   const nlohmann::json& configMap,
                                                   mode_t defaultMode, bool optional);
// Same for a Secret, whose data values are base64 on the wire.
[[nodiscard]] Result<Payload> makeSecretPayload(const nlohmann::json& items,
                                                const nlohmann::json& secret, mode_t defaultMode,
                                                bool optional);

// What the payload builders need besides the volume source.
struct ProjectionContext {
  const nlohmann::json& pod;
  VolumeObjectSource& objects;
  const nlohmann::json& nodeAllocatable;
  std::optional<uid_t> fsUser;
  std::optional<gid_t> fsGroup;
};

// The volume's payload for a `configMap`, `secret`, `downwardAPI` or `projected` source
// (the object under that key in the pod's volume), fetching the objects it names.
[[nodiscard]] Result<Payload> configMapVolumePayload(const nlohmann::json& source,
                                                     const ProjectionContext& ctx);
[[nodiscard]] Result<Payload> secretVolumePayload(const nlohmann::json& source,
                                                  const ProjectionContext& ctx);
[[nodiscard]] Result<Payload> downwardApiVolumePayload(const nlohmann::json& source,
                                                       const ProjectionContext& ctx);
[[nodiscard]] Result<Payload> projectedVolumePayload(const nlohmann::json& source,
                                                     const ProjectionContext& ctx);

}  // namespace berth::kubelet::volume
