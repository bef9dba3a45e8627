#pragma once
// The three kube-controller-manager loops a namespace can't be used without, run inside
// berth-server (as k3s runs its controllers in-process): the serviceaccount controller (a
// `default` ServiceAccount in every namespace), the root-ca-cert-publisher (the
// `kube-root-ca.crt` ConfigMap with the cluster CA in every namespace) and the namespace
// controller (a Terminating namespace's content deleted, then the namespace finalized and
// removed). Each is a sync(namespace) on a queue fed by the watch cache, idempotent, so a
// duplicate or missed event is harmless; a periodic resync repairs what anyone deleted.
#include <chrono>
#include <string>

#include "controlplane/apiserver/controller_loop.h"
#include "controlplane/apiserver/registry.h"

namespace berth::controlplane::apiserver {

class NamespaceControllers {
 public:
  NamespaceControllers(Registry& registry, storage::WatchCache& cache, std::string caPem,
                       std::chrono::milliseconds resync = std::chrono::seconds(30));

  [[nodiscard]] Status start() { return loop_.start(); }

 private:
  // False while a Terminating namespace still has content (it runs again shortly).
  bool sync(const std::string& ns);
  void ensureDefaults(const std::string& ns);
  // Deletes what is left in a Terminating namespace; true once nothing is.
  bool deleteContent(const std::string& ns);
  void finalize(const std::string& ns);

  Registry& registry_;
  storage::WatchCache& cache_;
  std::string caPem_;
  ControllerLoop loop_;
};

}  // namespace berth::controlplane::apiserver
