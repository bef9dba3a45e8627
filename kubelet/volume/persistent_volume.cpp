#include "kubelet/volume/persistent_volume.h"

#include <sys/stat.h>

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include "kubeapi/json_fields.h"
#include "kubeapi/object_meta.h"
#include "kubelet/volume/host_path.h"
#include "kubelet/volume/json_fields.h"

namespace berth::kubelet::volume {
namespace {

using json = nlohmann::json;
using kubeapi::jsonField;
using kubeapi::jsonString;

}  // namespace

Result<ClaimedVolume> claimedVolume(const json& pod, const json& source,
                                    VolumeObjectSource& objects) {
  const std::string ns(kubeapi::namespaceOf(pod));
  const std::string claimName =
      BERTH_TRY(stringField(source, "claimName", "persistentVolumeClaim"));
  auto claim = objects.persistentVolumeClaim(ns, claimName);
  if (!claim) {
    return std::unexpected(claim.error().context(fmt::format(
        "error processing PVC {}/{}: failed to fetch PVC from API server", ns, claimName)));
  }
  if (!jsonField(jsonField(*claim, "metadata"), "deletionTimestamp").is_null()) {
    return fail(Code::kFailedPrecondition, "can't start pod because PVC {}/{} is being deleted", ns,
                claimName);
  }
  const std::string phase = jsonString(jsonField(*claim, "status"), "phase");
  const std::string volumeName = jsonString(jsonField(*claim, "spec"), "volumeName");
  if (phase != "Bound" || volumeName.empty()) {
    return fail(Code::kFailedPrecondition,
                "PVC {}/{} has non-bound phase (\"{}\") or empty pvc.Spec.VolumeName (\"{}\")", ns,
                claimName, phase, volumeName);
  }
  auto pv = objects.persistentVolume(volumeName);
  if (!pv) {
    return std::unexpected(pv.error().context(fmt::format(
        "error processing PVC {}/{}: failed to fetch PV {}", ns, claimName, volumeName)));
  }
  const json& pvSpec = jsonField(*pv, "spec");
  const json& claimRef = jsonField(pvSpec, "claimRef");
  const std::string claimUid = jsonString(jsonField(*claim, "metadata"), "uid");
  if (jsonString(claimRef, "namespace") != ns || jsonString(claimRef, "name") != claimName ||
      (!jsonString(claimRef, "uid").empty() && jsonString(claimRef, "uid") != claimUid)) {
    return fail(Code::kFailedPrecondition,
                "PV {} is not bound to PVC {}/{} (its claimRef is {}/{})", volumeName, ns,
                claimName, jsonString(claimRef, "namespace"), jsonString(claimRef, "name"));
  }
  if (jsonString(pvSpec, "volumeMode", "Filesystem") != "Filesystem") {
    return fail(Code::kUnimplemented, "PV {}: volumeMode {} is not supported by this kubelet",
                volumeName, jsonString(pvSpec, "volumeMode"));
  }
  ClaimedVolume out;
  out.readOnly = jsonField(source, "readOnly") == json(true);
  if (const json& hostPath = jsonField(pvSpec, "hostPath"); hostPath.is_object()) {
    out.plugin = Plugin::kHostPath;
    out.hostPath = BERTH_TRY(stringField(hostPath, "path", "PV " + volumeName + " hostPath"));
    BERTH_TRY(checkHostPathType(out.hostPath, jsonString(hostPath, "type")));
    return out;
  }
  if (const json& local = jsonField(pvSpec, "local"); local.is_object()) {
    out.plugin = Plugin::kLocal;
    out.hostPath = BERTH_TRY(stringField(local, "path", "PV " + volumeName + " local"));
    struct stat st {};
    if (::stat(out.hostPath.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return fail(Code::kFailedPrecondition, "PV {}: local path {} is not a directory on this node",
                  volumeName, out.hostPath);
    }
    return out;
  }
  for (const auto& [key, value] : pvSpec.items()) {
    static const char* const kNotSources[] = {
        "accessModes",      "capacity",     "claimRef",
        "mountOptions",     "nodeAffinity", "persistentVolumeReclaimPolicy",
        "storageClassName", "volumeMode",   "volumeAttributesClassName"};
    if (std::find(std::begin(kNotSources), std::end(kNotSources), key) != std::end(kNotSources)) {
      continue;
    }
    return fail(Code::kUnimplemented, "PV {}: volume type {} is not supported by this kubelet",
                volumeName, key);
  }
  return fail(Code::kInvalidArgument, "PV {} has no volume source", volumeName);
}

}  // namespace berth::kubelet::volume
