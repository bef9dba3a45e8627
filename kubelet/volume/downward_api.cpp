#include "kubelet/volume/downward_api.h"

#include <cstdint>

#include "kubeapi/go_format.h"
#include "kubeapi/object_meta.h"
#include "kubeapi/quantity.h"
#include "kubelet/volume/json_fields.h"

namespace berth::kubelet::volume {
using kubeapi::Quantity;
using nlohmann::json;

namespace {

// fieldpath.SplitMaybeSubscriptedPath: "metadata.labels['app']" -> ("metadata.labels", "app").
bool splitSubscript(std::string_view fieldPath, std::string_view& path, std::string_view& key) {
  if (!fieldPath.ends_with("']")) return false;
  std::string_view s = fieldPath.substr(0, fieldPath.size() - 2);
  std::size_t open = s.find("['");
  if (open == std::string_view::npos || open == 0) return false;
  path = s.substr(0, open);
  key = s.substr(open + 2);
  return true;
}

const json* findContainer(const json& pod, std::string_view name) {
  for (const char* list : {"containers", "initContainers"}) {
    json::json_pointer ptr = "/spec"_json_pointer / list;
    if (!pod.contains(ptr) || !pod.at(ptr).is_array()) continue;
    for (const json& c : pod.at(ptr))
      if (c.is_object() && c.value("name", "") == name) return &c;
  }
  return nullptr;
}

// container.Resources.<kind>[resource] as a quantity; limits of cpu, memory and
// ephemeral-storage default to node allocatable when absent or zero
// (MergeContainerResourceLimits).
Result<Quantity> containerResource(const json& container, std::string_view kind,
                                   const std::string& resource, const json& nodeAllocatable) {
  const json* value = nullptr;
  json::json_pointer ptr = "/resources"_json_pointer / std::string(kind) / resource;
  if (container.contains(ptr)) value = &container.at(ptr);
  Quantity q;
  if (value) q = BERTH_TRY_CTX(Quantity::fromJson(*value), fmt::format("{}.{}", kind, resource));
  bool defaultable = resource == "cpu" || resource == "memory" || resource == "ephemeral-storage";
  if (kind == "limits" && defaultable && q.isZero() && nodeAllocatable.is_object() &&
      nodeAllocatable.contains(resource))
    q = BERTH_TRY_CTX(Quantity::fromJson(nodeAllocatable.at(resource)),
                      fmt::format("node allocatable {}", resource));
  return q;
}

// ceil(a / b) for a >= 0, b > 0, as upstream's math.Ceil over float64.
std::int64_t ceilDiv(std::int64_t a, std::int64_t b) {
  return a / b + (a % b != 0 ? 1 : 0);
}

}  // namespace

std::string formatDownwardApiMap(const kubeapi::LabelMap& m) {
  std::string out;
  for (const auto& [k, v] : m) {
    if (!out.empty()) out += '\n';
    out += k;
    out += '=';
    out += kubeapi::goQuote(v);
  }
  return out;
}

Result<std::string> downwardApiFieldValue(const json& pod, std::string_view fieldPath) {
  std::string_view path, key;
  if (splitSubscript(fieldPath, path, key)) {
    if (path == "metadata.annotations")
      return std::string(kubeapi::annotationOf(pod, key).value_or(""));
    if (path == "metadata.labels") return std::string(kubeapi::labelOf(pod, key).value_or(""));
    return fail(Code::kInvalidArgument, "fieldPath {} does not support subscript",
                kubeapi::goQuote(fieldPath));
  }
  if (fieldPath == "metadata.annotations") return formatDownwardApiMap(kubeapi::annotationsOf(pod));
  if (fieldPath == "metadata.labels") return formatDownwardApiMap(kubeapi::labelsOf(pod));
  if (fieldPath == "metadata.name") return std::string(kubeapi::nameOf(pod));
  if (fieldPath == "metadata.namespace") return std::string(kubeapi::namespaceOf(pod));
  if (fieldPath == "metadata.uid") return std::string(kubeapi::uidOf(pod));
  return fail(Code::kInvalidArgument, "unsupported fieldPath: {}", fieldPath);
}

Result<std::string> downwardApiResourceValue(const json& pod, const json& ref,
                                             const json& nodeAllocatable) {
  std::string containerName = ref.value("containerName", "");
  std::string resource = ref.value("resource", "");
  const json* container = findContainer(pod, containerName);
  if (!container) return fail(Code::kInvalidArgument, "container {} not found", containerName);

  Quantity divisor = Quantity::fromInt64(1);
  if (ref.contains("divisor")) {
    Quantity d = BERTH_TRY_CTX(Quantity::fromJson(ref["divisor"]), "divisor");
    if (!d.isZero()) divisor = d;
  }
  std::size_t dot = resource.find('.');
  std::string kind = resource.substr(0, dot);
  std::string name = dot == std::string::npos ? "" : resource.substr(dot + 1);
  bool known = name == "cpu" || name == "memory" || name == "ephemeral-storage" ||
               name.starts_with("hugepages-");
  if ((kind != "limits" && kind != "requests") || !known)
    return fail(Code::kInvalidArgument, "unsupported container resource : {}", resource);

  Quantity value = BERTH_TRY(containerResource(*container, kind, name, nodeAllocatable));
  if (name == "cpu") {
    std::int64_t d = divisor.milliValue();
    if (d <= 0) return fail(Code::kInvalidArgument, "divisor: must be positive");
    return std::to_string(ceilDiv(value.milliValue(), d));
  }
  std::int64_t d = divisor.value();
  if (d <= 0) return fail(Code::kInvalidArgument, "divisor: must be positive");
  return std::to_string(ceilDiv(value.value(), d));
}

Result<Payload> collectDownwardApi(const json& items, const json& pod, const json& nodeAllocatable,
                                   mode_t defaultMode) {
  Payload payload;
  if (items.is_null()) return payload;
  if (!items.is_array()) return fail(Code::kInvalidArgument, "items: must be a list");
  for (std::size_t i = 0; i < items.size(); ++i) {
    const json& item = items[i];
    std::string field = fmt::format("items[{}]", i);
    std::string path = BERTH_TRY(stringField(item, "path", field));
    FileProjection file;
    file.mode = BERTH_TRY(modeField(item, "mode", defaultMode, field));
    if (item.contains("fieldRef")) {
      std::string fieldPath = item["fieldRef"].value("fieldPath", "");
      file.data = BERTH_TRY_CTX(downwardApiFieldValue(pod, fieldPath), field + ".fieldRef");
    } else if (item.contains("resourceFieldRef")) {
      file.data =
          BERTH_TRY_CTX(downwardApiResourceValue(pod, item["resourceFieldRef"], nodeAllocatable),
                        field + ".resourceFieldRef");
    }
    payload[path] = std::move(file);
  }
  return payload;
}

}  // namespace berth::kubelet::volume
