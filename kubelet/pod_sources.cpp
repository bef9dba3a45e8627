#include "kubelet/pod_sources.h"

#include "kubeapi/object_meta.h"
#include "kubelet/static_pod.h"

namespace berth::kubelet {

PodSources::Desired PodSources::desired(const std::string& uid, const std::string& key,
                                        bool wasStatic) const {
  if (files_) {
    if (auto pod = files_->get(uid)) return {.known = true, .pod = pod, .isStatic = true};
    // The files are read before any worker runs: a static pod missing there is gone.
    if (wasStatic) return {.known = true, .pod = nullptr};
  }
  if (!api_.hasSynced()) return {.known = false, .pod = nullptr};
  kubeapi::ObjectPtr cached = api_.cache().get(key);
  if (cached && kubeapi::uidOf(*cached) == uid && !isMirrorPod(*cached)) {
    return {.known = true, .pod = cached};
  }
  return {.known = true, .pod = nullptr};
}

kubeapi::ObjectPtr PodSources::mirrorPod(const std::string& key) const {
  if (!api_.hasSynced()) return nullptr;
  kubeapi::ObjectPtr cached = api_.cache().get(key);
  return cached && isMirrorPod(*cached) ? cached : nullptr;
}

std::vector<kubeapi::ObjectPtr> PodSources::orphanedMirrorPods() const {
  std::vector<kubeapi::ObjectPtr> out;
  if (!api_.hasSynced()) return out;
  for (const auto& p : api_.cache().list()) {
    if (!isMirrorPod(*p)) continue;
    if (!files_ || !files_->getByKey(kubeapi::objectKey(*p))) out.push_back(p);
  }
  return out;
}

std::vector<kubeapi::ObjectPtr> PodSources::pods() const {
  std::vector<kubeapi::ObjectPtr> out;
  if (files_) out = files_->pods();
  for (const auto& p : api_.cache().list())
    if (!isMirrorPod(*p)) out.push_back(p);
  return out;
}

kubeapi::ObjectPtr PodSources::podByKey(const std::string& key) const {
  if (files_) {
    if (auto pod = files_->getByKey(key)) return pod;
  }
  kubeapi::ObjectPtr cached = api_.cache().get(key);
  return cached && !isMirrorPod(*cached) ? cached : nullptr;
}

std::set<std::string> PodSources::uids() const {
  std::set<std::string> out;
  if (files_) {
    for (const auto& p : files_->pods())
      out.insert(std::string(kubeapi::uidOf(*p)));
  }
  for (const auto& p : api_.cache().list())
    out.insert(std::string(kubeapi::uidOf(*p)));
  return out;
}

}  // namespace berth::kubelet
