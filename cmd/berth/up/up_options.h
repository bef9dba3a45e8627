#pragma once
// `berth up`'s flags (k3s server's names where it has one) and the files of a node, all under
// --data-dir so that several nodes can run side by side:
//
//   <data>/berth.lock                 held while `berth up` runs; the pid file is beside it
//   <data>/server/                    berth-server: db/, tls/, *.kubeconfig (0600)
//   <data>/agent/cri.yaml, cri/, image-store/   berth-cri's config, root and images
//   <data>/agent/kubelet.yaml, kubelet/   the kubelet's config and --root-dir
//   <data>/agent/pod-manifests/       static pods
//   <data>/agent/images/              image archives imported at start (k3s' airgap images)
//   <data>/agent/net.d/, cni/         the CNI config (written once the node has a podCIDR), IPAM
//   <data>/run/                       sockets and state that don't outlive a reboot
//   <data>/logs/<daemon>.log          each child daemon's output
#include <filesystem>
#include <string>
#include <vector>

namespace berth::cmd {

// The pods' bridge (the CNI template's), removed by `berth down --purge`.
inline constexpr const char* kPodBridge = "berth0";

struct UpOptions {
  std::filesystem::path dataDir = "/var/lib/berth";
  std::string writeKubeconfig;  // default: /etc/berth/admin.kubeconfig, or <data>/admin.kubeconfig
  std::string nodeName;         // default: the hostname
  std::string nodeIp;           // default: the kubelet's choice
  std::string bindAddress = "0.0.0.0";
  int httpsListenPort = 6443;
  std::string clusterCidr = "10.42.0.0/16";
  std::string serviceCidr = "10.43.0.0/16";
  std::string clusterDomain = "cluster.local";
  std::string clusterDns;  // the kube-dns ClusterIP; default: the 10th address of --service-cidr
  std::string registryConfig;        // registries.yaml for berth-cri
  std::string datastore;             // "" / "sqlite": embedded; "etcd://host:port,..." etcd
  std::string cgroupRoot;            // the kubelet's --cgroup-root ("" = its default)
  std::vector<std::string> disable;  // scheduler, controllers, kubelet, cri, proxy, dns
  bool disabled(std::string_view part) const;
  std::string logLevel = "info";
};

struct NodePaths {
  std::filesystem::path data;
  std::filesystem::path server() const { return data / "server"; }
  std::filesystem::path agent() const { return data / "agent"; }
  std::filesystem::path run() const { return data / "run"; }
  std::filesystem::path logs() const { return data / "logs"; }
  std::filesystem::path dns() const { return data / "dns"; }
  std::filesystem::path lockFile() const { return data / "berth.lock"; }
  std::filesystem::path pidFile() const { return data / "berth.pid"; }
  std::filesystem::path kubeconfig(std::string_view who) const {
    return server() / (std::string(who) + ".kubeconfig");
  }
  std::filesystem::path caCertificate() const { return server() / "tls" / "ca.crt"; }
  std::filesystem::path criConfig() const { return agent() / "cri.yaml"; }
  std::filesystem::path criSocket() const { return run() / "cri.sock"; }
  std::filesystem::path kubeletConfig() const { return agent() / "kubelet.yaml"; }
  std::filesystem::path kubeletRoot() const { return agent() / "kubelet"; }
  std::filesystem::path staticPods() const { return agent() / "pod-manifests"; }
  std::filesystem::path podLogs() const { return agent() / "pod-logs"; }
  std::filesystem::path airgapImages() const { return agent() / "images"; }
  std::filesystem::path imageStore() const { return agent() / "image-store"; }
  std::filesystem::path cniConfDir() const { return agent() / "net.d"; }
  std::filesystem::path cniTemplate() const { return agent() / "cni-template.conflist"; }
  // What berth-cri renders from the template once the kubelet hands it the node's podCIDR.
  std::filesystem::path cniConflist() const { return cniConfDir() / "10-berth-net.conflist"; }
  std::filesystem::path log(std::string_view daemon) const {
    return logs() / (std::string(daemon) + ".log");
  }
};

}  // namespace berth::cmd
