#pragma once
// downwardAPI volume files (upstream pkg/volume/downwardapi CollectData, pkg/fieldpath and
// pkg/api/v1/resource): pod metadata and container resources as file contents.

#include <sys/types.h>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubeapi/label_requirement.h"
#include "kubelet/volume/atomic_writer.h"

namespace berth::kubelet::volume {

// fieldpath.FormatMap: `key="value"` lines sorted by key, values Go-quoted, no final newline.
std::string formatDownwardApiMap(const kubeapi::LabelMap& m);

// fieldRef.fieldPath as a volume file may use it: metadata.name, metadata.namespace,
// metadata.uid, metadata.labels, metadata.annotations, metadata.labels['key'],
// metadata.annotations['key'].
[[nodiscard]] Result<std::string> downwardApiFieldValue(const nlohmann::json& pod,
                                                        std::string_view fieldPath);

// resourceFieldRef {containerName, resource, divisor}: limits.* / requests.* of cpu, memory,
// ephemeral-storage and hugepages-<size>, divided by divisor (default 1) and rounded up. A
// container without a cpu, memory or ephemeral-storage limit reads the node's allocatable
// (node.status.allocatable, a JSON map of quantities).
[[nodiscard]] Result<std::string> downwardApiResourceValue(const nlohmann::json& pod,
                                                           const nlohmann::json& resourceFieldRef,
                                                           const nlohmann::json& nodeAllocatable);

// The payload of a downwardAPI volume (or projected source): items [{path, fieldRef |
// resourceFieldRef, mode}].
[[nodiscard]] Result<Payload> collectDownwardApi(const nlohmann::json& items,
                                                 const nlohmann::json& pod,
                                                 const nlohmann::json& nodeAllocatable,
                                                 mode_t defaultMode);

}  // namespace berth::kubelet::volume
