#include "cmd/berth/up/up_command.h"

#include <signal.h>

#include <cstdio>
#include <thread>

#include "cmd/berth/up/cluster_up.h"
#include "cmd/berth/up/node_purge.h"
#include "common/file_lock.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/termination_signals.h"

namespace berth::cmd {

namespace {

std::vector<std::string> splitCommas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

UpCommand::UpCommand(CLI::App& app, const GlobalFlags& global) : global_(global) {
  auto* up = app.add_subcommand("up",
                                "run a whole cluster on this machine (server, controllers, "
                                "scheduler, kubelet, cri, proxy)");
  up->add_option("--data-dir,-d", options_.dataDir,
                 "where every file of the node lives (default /var/lib/berth)");
  up->add_option("--write-kubeconfig,-o", options_.writeKubeconfig,
                 "admin kubeconfig (default /etc/berth/admin.kubeconfig with the default "
                 "--data-dir, else <data-dir>/admin.kubeconfig)");
  up->add_option("--node-name", options_.nodeName, "node name (default: the hostname)");
  up->add_option("--node-ip", options_.nodeIp, "the node's InternalIP, kubelet and proxy address");
  up->add_option("--bind-address", options_.bindAddress, "API server address (default 0.0.0.0)");
  up->add_option("--https-listen-port", options_.httpsListenPort, "API server port")
      ->check(CLI::Range(1, 65535));
  up->add_option("--cluster-cidr", options_.clusterCidr, "pod network (IPv4[,IPv6])");
  up->add_option("--service-cidr", options_.serviceCidr, "Service ClusterIPs (IPv4[,IPv6])");
  up->add_option("--cluster-domain", options_.clusterDomain, "cluster DNS domain");
  up->add_option("--cluster-dns", options_.clusterDns,
                 "cluster DNS Service IP (default: the 10th address of --service-cidr)");
  up->add_option("--datastore", options_.datastore,
                 "sqlite (default, embedded) or etcd://host:port[,host:port...]");
  up->add_option("--cgroup-root", options_.cgroupRoot, "the kubelet's --cgroup-root");
  up->add_option(
      "--disable", disable_,
      "parts not to run: scheduler, controllers, cri, kubelet, proxy, dns (comma-separated)");
  up->add_option("--log-level", options_.logLevel, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  up->callback([this] { status_ = this->up(); });

  auto* down = app.add_subcommand("down", "stop a `berth up` running on a data dir");
  down->add_option("--data-dir,-d", downDataDir_, "its --data-dir (default /var/lib/berth)");
  down->add_flag("--purge", purge_, "also remove the data dir");
  down->add_option("--timeout", timeoutSeconds_, "seconds to wait for it to stop");
  down->callback([this] { status_ = this->down(); });
}

int UpCommand::up() {
  options_.disable = splitCommas(disable_);
  if (options_.writeKubeconfig.empty() && options_.dataDir == "/var/lib/berth") {
    options_.writeKubeconfig = "/etc/berth/admin.kubeconfig";
  }
  if (!global_.registryConfig.empty() && std::filesystem::exists(global_.registryConfig)) {
    options_.registryConfig = global_.registryConfig;
  }
  setupLogging({.name = "berth", .level = spdlog::level::from_str(options_.logLevel)});
  const TerminationSignals signals;
  auto cluster = ClusterUp::start(options_);
  if (!cluster) {
    std::fprintf(stderr, "berth up: %s\n", cluster.error().message().c_str());
    return 1;
  }
  std::printf("berth up: node %s, data in %s\nexport KUBECONFIG=%s\n",
              (*cluster)->nodeName().c_str(), (*cluster)->paths().data.c_str(),
              (*cluster)->adminKubeconfig().c_str());
  std::fflush(stdout);
  int sig = signals.wait();
  namedLogger("berth")->info("signal {}: stopping", sig);
  (*cluster)->stop();
  return 0;
}

int UpCommand::down() {
  NodePaths paths{downDataDir_};
  // Nothing there: nothing to stop or purge (a second `down --purge` is not an error).
  if (!std::filesystem::exists(paths.lockFile())) {
    std::fprintf(stderr, "berth down: no node in %s\n", downDataDir_.c_str());
    return 0;
  }
  auto pidText = readFile(paths.pidFile());
  if (pidText) {
    pid_t pid = std::atoi(pidText->c_str());
    // The pid is only trusted while the lock says `berth up` holds the data dir.
    if (pid > 0 && !FileLock::tryLock(paths.lockFile())) ::kill(pid, SIGTERM);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds_);
  while (!FileLock::tryLock(paths.lockFile())) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "berth down: `berth up` on %s did not stop in %d s\n",
                   downDataDir_.c_str(), timeoutSeconds_);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (purge_) {
    setupLogging({.name = "berth"});
    if (auto s = purgeNode(paths); !s) {
      std::fprintf(stderr, "berth down: %s\n", s.error().message().c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace berth::cmd
