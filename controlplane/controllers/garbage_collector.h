#pragma once
// kube-controller-manager's "garbagecollector" (pkg/controller/garbagecollector), for the
// resources berth-server serves that have owners in practice. Instead of upstream's graph it
// keeps two indexes on each shared informer (an object's uid, its owners' uids) and acts on
// one object at a time, as attemptToDeleteItem and attemptToOrphan do:
// - a dependent none of whose owners is still there (a live GET; another uid counts as gone) is
//   deleted, with the propagation its own finalizers ask for, else Background;
// - a dependent of an owner in foreground deletion is deleted (Foreground when it has
//   dependents of its own); the owner's "foregroundDeletion" finalizer goes once no dependent
//   with blockOwnerDeletion is left;
// - an owner with the "orphan" finalizer has its ownerReference removed from every dependent,
//   then the finalizer.
// The dependents of an owner whose kind is not in the list are left alone.
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/queue_worker.h"
#include "kubeapi/group_version.h"
#include "kubeapi/object_meta.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/shared_informer.h"

namespace berth::controlplane::controllers {

class GarbageCollector final : public Controller {
 public:
  explicit GarbageCollector(ControllerContext& context);
  ~GarbageCollector() override { stop(); }

  void start() override;
  void stop() override { worker_.stop(); }

 private:
  struct Resource {
    kubeapi::GroupVersionResource gvr;
    std::string kind;
    bool namespaced = true;
    kubeapi::SharedInformer* informer = nullptr;
  };
  enum class OwnerState { kSolid, kDangling, kWaitingForDependents };
  struct Dependent {
    size_t resource;
    kubeapi::ObjectPtr object;
  };

  Status sync(const std::string& key);
  [[nodiscard]] Status syncDependent(const Resource& r, const nlohmann::json& obj);
  [[nodiscard]] Status orphanDependents(const Resource& r, const nlohmann::json& owner);
  [[nodiscard]] Status deleteDependents(const Resource& r, const nlohmann::json& owner);
  [[nodiscard]] Result<OwnerState> ownerState(const nlohmann::json& dependent,
                                              const kubeapi::OwnerReference& ref);
  [[nodiscard]] Status removeOwnerReferences(const Resource& r, const nlohmann::json& obj,
                                             const std::vector<std::string>& uids);
  [[nodiscard]] Status removeFinalizer(const Resource& r, const nlohmann::json& obj,
                                       std::string_view finalizer);
  [[nodiscard]] Status deleteObject(const Resource& r, const nlohmann::json& obj,
                                    std::string policy);

  void onEvent(size_t resource, const kubeapi::ObjectPtr& oldObj, const kubeapi::ObjectPtr& obj,
               bool deleted);
  void enqueue(size_t resource, const nlohmann::json& obj);
  std::vector<Dependent> dependentsOf(std::string_view uid) const;
  const Resource* resourceOfKind(const std::string& apiVersion, const std::string& kind) const;
  kubeapi::ResourceClient clientFor(const Resource& r, std::string_view ns) const;

  ControllerContext& context_;
  std::vector<Resource> resources_;
  // Owner uids found gone (upstream's absentOwnerCache): the dependents of one deleted owner
  // cost one GET, not one each. A uid never comes back, so entries never go stale.
  std::mutex absentMu_;
  std::set<std::string> absentOwners_;
  QueueWorker worker_;
};

}  // namespace berth::controlplane::controllers
