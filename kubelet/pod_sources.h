#pragma once
// Where the pod workers find the pods to run (the merge of sources in pkg/kubelet/config
// upstream): the API's pods bound to this node, from the informer, and the static pods of the
// manifest path. The API's mirror pods stand for static pods and are never run themselves.
#include <set>
#include <string>
#include <vector>

#include "kubeapi/shared_informer.h"
#include "kubelet/file_pod_source.h"

namespace berth::kubelet {

class PodSources {
 public:
  // `files` is null without a manifest path.
  PodSources(const kubeapi::SharedInformer& api, const FilePodSource* files)
      : api_(api), files_(files) {}

  struct Desired {
    // False while a source that could hold the pod has not been read yet: "not found" does not
    // mean "deleted" then (a restarted kubelet must not remove the pods it is about to adopt).
    bool known = false;
    kubeapi::ObjectPtr pod;  // null: gone
    bool isStatic = false;   // it came from a manifest file (not from its annotations)
  };
  // The pod with this UID and namespace/name. `wasStatic`: the worker last saw it as a static
  // pod, so its absence from the files is enough (the API need not answer).
  Desired desired(const std::string& uid, const std::string& key, bool wasStatic) const;

  // The mirror pod in the API with this namespace/name; null when there is none or the API has
  // not been listed yet.
  kubeapi::ObjectPtr mirrorPod(const std::string& key) const;
  // The API's mirror pods whose static pod is gone (to delete), once the API has been listed.
  std::vector<kubeapi::ObjectPtr> orphanedMirrorPods() const;

  // The pods the kubelet runs (static pods, then the API's), as its /pods shows them.
  std::vector<kubeapi::ObjectPtr> pods() const;
  // The pod the kubelet runs under namespace/name (a static pod, not its mirror); null if none.
  kubeapi::ObjectPtr podByKey(const std::string& key) const;
  // The UIDs of every pod either source holds (mirror pods included).
  std::set<std::string> uids() const;
  bool apiSynced() const { return api_.hasSynced(); }

 private:
  const kubeapi::SharedInformer& api_;
  const FilePodSource* files_;
};

}  // namespace berth::kubelet
