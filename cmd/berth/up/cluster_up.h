#pragma once
// `berth up`: one node and its control plane from one process tree. In this process: berth-server
// (the API), the controller manager and the scheduler (kubeapi clients of it over loopback TLS,
// each with a user of its own). Children, supervised: berth-cri, berth-kubelet, berth-proxy. The
// cluster's state lives in --data-dir, so a second start brings the same cluster back.
#include <memory>
#include <optional>

#include "cmd/berth/up/node_files.h"
#include "cmd/berth/up/supervisor.h"
#include "cmd/berth/up/up_options.h"
#include "common/file_lock.h"

namespace berth::kubeapi {
class InformerFactory;
}
namespace berth::dns {
class ClusterDns;
}
namespace berth::controlplane {
class Server;
namespace controllers {
class ControllerManager;
}
namespace scheduler {
class Scheduler;
}
}  // namespace berth::controlplane

namespace berth::cmd {

class ClusterUp {
 public:
  [[nodiscard]] static Result<std::unique_ptr<ClusterUp>> start(const UpOptions& options);
  ~ClusterUp();  // stop()

  // Stops the children (containers keep running), the control loops, then the server.
  void stop();
  const std::string& nodeName() const { return nodeName_; }
  std::filesystem::path adminKubeconfig() const;
  const NodePaths& paths() const { return paths_; }

 private:
  ClusterUp(UpOptions options);
  Status run();
  Status prepareDataDir();
  Status startServer();
  Status startControlLoops();
  Status startCri();
  Status startKubelet();
  Status startProxy();
  // Cluster DNS on the node address (once the Node says which), behind the kube-dns Service.
  Status startDns();
  SpawnOptions daemon(const std::string& name, const std::filesystem::path& path,
                      std::vector<std::string> args) const;

  UpOptions options_;
  NodePaths paths_;
  std::string nodeName_;
  std::optional<FileLock> lock_;
  NodeExecutables bin_;
  std::unique_ptr<controlplane::Server> server_;
  // One set of informers for the controllers and the scheduler (one cache of pods and nodes).
  std::unique_ptr<kubeapi::InformerFactory> informers_;
  std::unique_ptr<controlplane::controllers::ControllerManager> controllers_;
  std::unique_ptr<controlplane::scheduler::Scheduler> scheduler_;
  std::unique_ptr<dns::ClusterDns> dns_;
  Supervisor children_;
  bool stopped_ = false;
};

}  // namespace berth::cmd
