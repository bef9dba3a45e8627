#include "kubelet/mirror_pods.h"

#include "kubeapi/object_meta.h"
#include "kubeapi/resource_client.h"
#include "kubelet/kubelet_log.h"
#include "kubelet/static_pod.h"

namespace berth::kubelet {
namespace {

const kubeapi::GroupVersionResource kPods{"", "v1", "pods"};

}  // namespace

Result<bool> MirrorPodClient::sync(const nlohmann::json& staticPod, const nlohmann::json* mirror) {
  const MirrorAction action = planMirrorPod(staticPod, mirror);
  if (action == MirrorAction::kNone) return false;
  if (action == MirrorAction::kRecreate) BERTH_TRY(remove(*mirror));
  const std::string nodeUid = nodeUid_();
  // NodeRestriction wants the Node's UID in the owner reference.
  if (nodeUid.empty()) return fail(Code::kUnavailable, "node {} is not registered yet", nodeName_);
  auto pods = api_->resource(kPods).inNamespace(kubeapi::namespaceOf(staticPod));
  auto created = pods.create(mirrorPodFor(staticPod, nodeName_, nodeUid));
  if (!created) {
    // Another sync got there first with the same version: nothing to do.
    if (created.error().isAlreadyExists()) return false;
    return std::unexpected(created.error().toError().context("creating mirror pod"));
  }
  kubeletLog()->info("created mirror pod [pod={} uid={}]", kubeapi::objectKey(staticPod),
                     kubeapi::uidOf(*created));
  return true;
}

Status MirrorPodClient::remove(const nlohmann::json& mirror) {
  kubeapi::DeleteOptions del;
  del.gracePeriodSeconds = 0;
  del.preconditionUid = std::string(kubeapi::uidOf(mirror));
  auto pods = api_->resource(kPods).inNamespace(kubeapi::namespaceOf(mirror));
  auto st = pods.remove(kubeapi::nameOf(mirror), del);
  if (!st && !st.error().isNotFound() && !st.error().isConflict()) {
    return std::unexpected(st.error().toError().context("deleting mirror pod"));
  }
  kubeletLog()->info("deleted mirror pod [pod={} uid={}]", kubeapi::objectKey(mirror),
                     kubeapi::uidOf(mirror));
  return {};
}

}  // namespace berth::kubelet
