#include "cmd/berth/up/node_files.h"

#include <fmt/format.h>

#include "cmd/berth/up/executables.h"
#include "common/file_util.h"

namespace berth::cmd {

Result<NodeExecutables> findNodeExecutables(const UpOptions& options) {
  NodeExecutables bin;
  auto need = [&](bool wanted, const char* name, std::filesystem::path& out) -> Status {
    if (!wanted) return {};
    out = BERTH_TRY(findExecutable(name));
    return {};
  };
  const bool cri = !options.disabled("cri");
  BERTH_TRY(need(cri, "berth-cri", bin.cri));
  BERTH_TRY(need(cri, "berth-monitor", bin.monitor));
  BERTH_TRY(need(cri, "berth-pod-init", bin.podInit));
  BERTH_TRY(need(cri, "berth-runtime", bin.runtime));
  BERTH_TRY(need(!options.disabled("kubelet"), "berth-kubelet", bin.kubelet));
  BERTH_TRY(need(!options.disabled("proxy"), "berth-proxy", bin.proxy));
  if (cri) bin.cniBinDir = BERTH_TRY(findCniBinDir());
  return bin;
}

Status writeCriFiles(const NodePaths& paths, const UpOptions& options, const NodeExecutables& bin) {
  const auto agent = paths.agent().string();
  BERTH_TRY(makeDirs(paths.cniConfDir(), 0755));
  // ipMasq: pods reach beyond the cluster CIDR through the node's address, as k3s' flannel does.
  std::string cniTemplate = fmt::format(R"({{
  "cniVersion": "1.0.0",
  "name": "berth",
  "plugins": [
    {{"type": "bridge", "bridge": "{1}", "isGateway": true, "ipMasq": true,
      "hairpinMode": true,
      "ipam": {{"type": "host-local", "dataDir": "{0}/cni/ipam",
               "ranges": [[{{"subnet": "{{{{.PodCIDR}}}}"}}]],
               "routes": [{{"dst": "0.0.0.0/0"}}]}}}},
    {{"type": "portmap", "capabilities": {{"portMappings": true}}}}
  ]
}}
)",
                                        agent, kPodBridge);
  BERTH_TRY(writeFileAtomic(paths.cniTemplate(), cniTemplate, 0644));

  std::string registries;
  if (!options.registryConfig.empty()) {
    registries = fmt::format("registry_config: {}\n",
                             std::filesystem::absolute(options.registryConfig).string());
  }
  std::string config = fmt::format(
      "# Written by `berth up` at every start, from its flags.\n"
      "root: {0}/cri\n"
      "state: {1}/cri\n"
      "listen: {2}\n"
      "log_level: {3}\n"
      "image_root: {11}\n"
      "{4}"
      "monitor_path: {5}\n"
      "pod_init_path: {6}\n"
      "runtime_handlers:\n"
      "  berth-runtime:\n"
      "    type: runc-cli\n"
      "    path: {7}\n"
      "default_runtime_handler: berth-runtime\n"
      "cni:\n"
      "  bin_dirs: [{8}]\n"
      "  conf_dir: {9}\n"
      "  conf_template: {10}\n",
      agent, paths.run().string(), paths.criSocket().string(), options.logLevel, registries,
      bin.monitor.string(), bin.podInit.string(), bin.runtime.string(), bin.cniBinDir.string(),
      paths.cniConfDir().string(), paths.cniTemplate().string(), paths.imageStore().string());
  return writeFileAtomic(paths.criConfig(), config, 0644);
}

Status writeKubeletConfig(const NodePaths& paths, const UpOptions& options) {
  BERTH_TRY(makeDirs(paths.staticPods(), 0700));
  std::string address = options.nodeIp.empty() ? "0.0.0.0" : options.nodeIp;
  std::string cgroupRoot =
      options.cgroupRoot.empty() ? "" : fmt::format("cgroupRoot: {}\n", options.cgroupRoot);
  std::string config = fmt::format(
      "# Written by `berth up` at every start, from its flags.\n"
      "apiVersion: kubelet.config.k8s.io/v1beta1\n"
      "kind: KubeletConfiguration\n"
      "address: {0}\n"
      "healthzBindAddress: 127.0.0.1\n"
      "authentication:\n"
      "  anonymous:\n"
      "    enabled: false\n"
      "  x509:\n"
      "    clientCAFile: {1}\n"
      "  webhook:\n"
      "    enabled: true\n"
      "authorization:\n"
      "  mode: Webhook\n"
      "clusterDomain: {2}\n"
      "clusterDNS: [{6}]\n"
      "failSwapOn: false\n"
      "staticPodPath: {3}\n"
      "podLogsDir: {4}\n"
      "{5}",
      address, paths.caCertificate().string(), options.clusterDomain, paths.staticPods().string(),
      paths.podLogs().string(), cgroupRoot, options.clusterDns);
  return writeFileAtomic(paths.kubeletConfig(), config, 0644);
}

}  // namespace berth::cmd
