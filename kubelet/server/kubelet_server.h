#pragma once
// The kubelet's HTTPS API on :10250 (pkg/kubelet/server/server.go): /healthz, /pods,
// /runningpods/, /containerLogs, /exec, /attach, /portForward (proxied to the runtime's
// streaming server), /stats/summary, /metrics, /metrics/resource, /metrics/probes, /configz.
// Every known path is authenticated and authorized first (auth.h); unknown paths are 404.
// The daemon provides what the server shows through KubeletServerHost.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http/server.h"
#include "common/result.h"
#include "kubeapi/clock.h"
#include "kubelet/server/auth.h"

namespace berth::kubeapi {
class RestClient;
}
namespace berth::kubelet {
class CriClient;
}

namespace berth::kubelet::server {

struct ContainerLogLocation {
  std::string path;         // the CRI log file
  std::string containerId;  // the runtime's id, to ask whether it still runs
};

// What the daemon implements. Called from the server's worker threads, concurrently.
class KubeletServerHost {
 public:
  virtual ~KubeletServerHost() = default;
  // The API pods bound to this node (as the pod manager has them), for GET /pods.
  virtual std::vector<nlohmann::json> pods() = 0;
  // The runtime's pods as minimal API pods (metadata name/namespace/uid, spec.containers with
  // name and image), for GET /runningpods/.
  virtual std::vector<nlohmann::json> runningPods() = 0;
  // The log of a container of a pod (previous: its last terminated instance). kNotFound with a
  // message naming the pod or container when there is none.
  [[nodiscard]] virtual Result<ContainerLogLocation> containerLog(const std::string& podNamespace,
                                                                  const std::string& podName,
                                                                  const std::string& container,
                                                                  bool previous) = 0;
  // Whether the container is running (following a log ends once it is not).
  virtual bool containerRunning(const std::string& containerId) = 0;
  // The runtime id of a running container (exec, attach) or of the pod's sandbox (portForward);
  // `podUid` is empty unless the request named it (then it must match). kNotFound otherwise.
  [[nodiscard]] virtual Result<std::string> containerId(const std::string& podNamespace,
                                                        const std::string& podName,
                                                        const std::string& podUid,
                                                        const std::string& container) = 0;
  [[nodiscard]] virtual Result<std::string> podSandboxId(const std::string& podNamespace,
                                                         const std::string& podName,
                                                         const std::string& podUid) = 0;
  // The runtime: Exec/Attach/PortForward URLs and stats.
  virtual CriClient& cri() = 0;
  // The KubeletConfiguration in effect as JSON, for GET /configz ({"kubeletconfig": ...}).
  virtual nlohmann::json configz() = 0;
  // The sync loop's health for /healthz/syncloop (an error says why not).
  [[nodiscard]] virtual Status syncLoopHealthy() = 0;
  // Prometheus text for /metrics/probes (prober_probe_total ...).
  virtual std::string probeMetrics() { return {}; }
  // More of the kubelet's own metrics for /metrics (the PLEG's ...), Prometheus text.
  virtual std::string kubeletMetrics() { return {}; }
};

struct KubeletServerOptions {
  std::string nodeName;
  std::string bindAddress = "0.0.0.0";  // KubeletConfiguration.address
  std::uint16_t port = 10250;           // 0: any free port (tests)
  // tlsCertFile/tlsPrivateKeyFile; both empty: a self-signed pair in certDirectory.
  std::string tlsCertFile;
  std::string tlsPrivateKeyFile;
  // serverTLSBootstrap: the files are the rotated kubelet-server-current.pem, re-read when it
  // changes (and missing until the first CSR is issued: handshakes fail until then).
  bool rotatedCertificate = false;
  std::string certDirectory;
  std::vector<std::string> nodeIps;  // IP SANs of a self-signed certificate
  std::string clientCaFile;          // authentication.x509.clientCAFile
  AuthenticationOptions authentication;
  AuthorizationOptions authorization;
  // enableDebuggingHandlers: off answers /exec, /attach, /portForward, /containerLogs and /run
  // with 405 "Debug endpoints are disabled." as upstream does.
  bool enableDebuggingHandlers = true;
  // How often a followed log whose file is quiet checks that its container still runs.
  std::chrono::milliseconds logFollowRecheck{1000};
  // Followed logs hold a worker each; the kubelet has a goroutine per request.
  std::size_t workerThreads = 64;
  std::chrono::milliseconds streamIdleTimeout{4 * 3600 * 1000};
};

class KubeletServer {
 public:
  // Binds and serves. `api` answers TokenReviews and SubjectAccessReviews (null: no webhook).
  [[nodiscard]] static Result<std::unique_ptr<KubeletServer>> start(
      KubeletServerOptions options, KubeletServerHost& host,
      std::shared_ptr<kubeapi::RestClient> api,
      kubeapi::Clock& clock = kubeapi::RealClock::instance());
  ~KubeletServer();

  std::uint16_t port() const;
  // The serving certificate in use (generated or given).
  const std::string& certFile() const { return certFile_; }
  void shutdown(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  class Routes;
  KubeletServer() = default;

  std::string certFile_;
  std::unique_ptr<Routes> routes_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace berth::kubelet::server
