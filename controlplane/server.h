#pragma once
// berth-server's object graph: the data directory and its PKI, the store (SQLite or etcd), the
// watch cache, the registry, authentication, authorization, admission, the API handler, the
// HTTPS server, bootstrap objects and the in-process namespace controllers.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace berth::controlplane {

struct ServerOptions {
  std::string bindAddress = "127.0.0.1";
  int securePort = 6443;  // 0: any free port (written into admin.kubeconfig)
  std::filesystem::path dataDir = "/var/lib/berth/server";
  std::vector<std::string> etcdServers;  // empty: the embedded SQLite store
  std::string etcdCaFile;                // --etcd-cafile, --etcd-certfile, --etcd-keyfile
  std::string etcdCertFile;
  std::string etcdKeyFile;
  std::string serviceClusterIpRange = "10.43.0.0/16";
  std::string serviceNodePortRange = "30000-32767";
  std::string advertiseAddress;      // the `kubernetes` Endpoints' address; default: bind
  std::vector<std::string> tlsSans;  // more serving-certificate names and addresses
  std::string clientCaFile;          // default: the generated CA
  std::string tlsCertFile;           // default: the generated serving certificate
  std::string tlsPrivateKeyFile;
  std::string tokenAuthFile;
  std::vector<std::string> serviceAccountKeyFiles;  // verify; default: the generated key
  std::string serviceAccountSigningKeyFile;         // sign; default: the generated key
  std::string serviceAccountIssuer = "https://kubernetes.default.svc.cluster.local";
  std::vector<std::string> apiAudiences;  // default: the issuer
  std::string authorizationMode = "Node,RBAC";
  bool anonymousAuth = true;  // anonymous only where upstream grants it (health and version)
  std::chrono::seconds minRequestTimeout{1800};
  std::chrono::seconds etcdCompactionInterval{300};
  std::chrono::milliseconds watchBookmarkInterval{60'000};
  std::string clusterDomain = "cluster.local";
  // Reaching kubelets: the client certificate (default: the generated kubelet-client pair),
  // the CA their serving certificates must chain to (empty: not verified, as kube-apiserver), and
  // the Node address types tried in order (empty: InternalIP, ExternalIP, Hostname).
  std::string kubeletClientCertificate;
  std::string kubeletClientKey;
  std::string kubeletCertificateAuthority;
  std::vector<std::string> kubeletPreferredAddressTypes;
  // kube-controller-manager's --cluster-signing-duration: the longest certificate the CSR signer
  // issues (kubelet client and serving certificates live this long).
  std::chrono::seconds clusterSigningDuration = std::chrono::hours(8760);
  // More client identities, each issued from the cluster CA and written as a kubeconfig next to
  // admin.kubeconfig (<dataDir>/<name>.kubeconfig, 0600): how `berth up` gives its scheduler,
  // controllers, proxy and kubelet their own users, as k3s does.
  struct ClientIdentity {
    std::string name;  // file stem
    std::string user;  // certificate CN
    std::vector<std::string> groups;
  };
  std::vector<ClientIdentity> clientIdentities;
};

class Server {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Server>> start(const ServerOptions& options);
  virtual ~Server() = default;
  virtual int port() const = 0;
  // Stops serving: in-flight requests get `grace`, watches end, the store is closed.
  virtual void shutdown(std::chrono::milliseconds grace) = 0;
};

}  // namespace berth::controlplane
