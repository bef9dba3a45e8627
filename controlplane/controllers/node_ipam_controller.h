#pragma once
// kube-controller-manager's "nodeipam" with the RangeAllocator: one podCIDR per cluster CIDR
// (spec.podCIDR and spec.podCIDRs, both families for a dual-stack --cluster-cidr) for every Node
// without one. The CIDRs Nodes already have are occupied before any is handed out, so a
// restarted manager never hands one out twice; a deleted Node's CIDRs are released.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/ip.h"
#include "controlplane/controllers/cidr_set.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/queue_worker.h"

namespace berth::kubeapi {
class EventRecorder;
class SharedInformer;
}  // namespace berth::kubeapi

namespace berth::controlplane::controllers {

class NodeIpamController final : public Controller {
 public:
  explicit NodeIpamController(ControllerContext& context);
  ~NodeIpamController() override;

  void start() override;
  void stop() override;

 private:
  Status sync(const std::string& name);
  // Marks the node's CIDRs used and remembers them for its release.
  void occupy(const std::string& name, const std::vector<IpNet>& cidrs);
  Result<std::vector<IpNet>> allocate(const std::string& name);
  void release(const std::string& name);

  ControllerContext& context_;
  kubeapi::SharedInformer* nodes_;
  std::unique_ptr<kubeapi::EventRecorder> recorder_;
  std::mutex mu_;
  std::vector<CidrSet> sets_;                         // in --cluster-cidr order
  std::map<std::string, std::vector<IpNet>> byNode_;  // what each node holds
  QueueWorker worker_;
};

}  // namespace berth::controlplane::controllers
