// berth-controller-manager: berth's controllers on their own, against any API server
// (kube-controller-manager's flag names). `berth up` runs the same ControllerManager in process.
#include <cstdio>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/command_line.h"
#include "common/log.h"
#include "common/termination_signals.h"
#include "controlplane/controllers/controller_manager.h"
#include "kubeapi/go_duration.h"
#include "kubeapi/kubeconfig.h"
#include "kubeapi/rest_client.h"

namespace {

using namespace berth;

std::vector<std::string> splitCommas(const std::string& s) {
  std::vector<std::string> out;
  for (size_t start = 0; start < s.size();) {
    size_t comma = std::min(s.find(',', start), s.size());
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// A Go duration flag into whole seconds, or an error naming the flag.
bool parseSeconds(const char* flag, const std::string& text, std::chrono::seconds& out) {
  auto d = kubeapi::parseGoDuration(text);
  if (!d || d->count() < 0) {
    std::fprintf(stderr, "berth-controller-manager: %s \"%s\": %s\n", flag, text.c_str(),
                 d ? "must not be negative" : d.error().message().c_str());
    return false;
  }
  out = std::chrono::duration_cast<std::chrono::seconds>(*d);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  controlplane::controllers::ControllerOptions options;
  std::string kubeconfig, controllers = "*", logLevel = "info", grace = "40s", monitor = "5s",
                          startup = "1m0s";
  bool allocateNodeCidrs = false;
  double qps = 20;
  int burst = 30;
  CLI::App app{"berth-controller-manager: berth's Kubernetes controllers"};
  app.set_version_flag("--version", "berth-controller-manager " BERTH_VERSION);
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig of the API server")->required();
  app.add_option("--controllers", controllers,
                 "controllers to run: * (the default set), name, -name (comma-separated)");
  app.add_option("--cluster-cidr", options.clusterCidr, "the pod network (IPv4[,IPv6])");
  app.add_flag("--allocate-node-cidrs", allocateNodeCidrs,
               "give each Node a podCIDR from --cluster-cidr");
  app.add_option("--node-cidr-mask-size-ipv4", options.nodeCidrMaskSizeIpv4);
  app.add_option("--node-cidr-mask-size-ipv6", options.nodeCidrMaskSizeIpv6);
  app.add_option("--service-cluster-ip-range", options.serviceClusterIpRange);
  app.add_option("--node-monitor-grace-period", grace,
                 "a node without heartbeat this long is "
                 "NotReady/Unknown (Go duration)");
  app.add_option("--node-monitor-period", monitor, "how often nodes are checked (Go duration)");
  app.add_option("--node-startup-grace-period", startup, "grace for a starting node (Go duration)");
  app.add_option("--concurrent-syncs", options.concurrentSyncs, "workers per controller");
  app.add_option("--kube-api-qps", qps, "requests per second to the API server");
  app.add_option("--kube-api-burst", burst, "request burst to the API server");
  app.add_option("--cluster-name", options.clusterName);
  app.add_option("--v,-v", logLevel, "log level: trace, debug, info, warn, error")->group("");
  app.add_option("--log-level", logLevel, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  if (auto exitCode = parseCommandLine(app, argc, argv)) return *exitCode;

  if (!parseSeconds("--node-monitor-grace-period", grace, options.nodeMonitorGracePeriod) ||
      !parseSeconds("--node-monitor-period", monitor, options.nodeMonitorPeriod) ||
      !parseSeconds("--node-startup-grace-period", startup, options.nodeStartupGracePeriod)) {
    return 1;
  }
  options.controllers = splitCommas(controllers);
  if (!allocateNodeCidrs) options.clusterCidr.clear();
  setupLogging({.name = "controllers", .level = spdlog::level::from_str(logLevel)});
  const TerminationSignals signals;

  auto loaded = kubeapi::Kubeconfig::load(kubeconfig);
  auto config = loaded ? loaded->restConfig() : std::unexpected(loaded.error());
  if (!config) {
    std::fprintf(stderr, "berth-controller-manager: --kubeconfig %s: %s\n", kubeconfig.c_str(),
                 config.error().message().c_str());
    return 1;
  }
  config->qps = qps;
  config->burst = burst;
  auto client = kubeapi::RestClient::create(*config);
  if (!client) {
    std::fprintf(stderr, "berth-controller-manager: %s\n", client.error().message().c_str());
    return 1;
  }
  controlplane::controllers::ControllerManager manager(*client, options);
  if (auto s = manager.start(); !s) {
    std::fprintf(stderr, "berth-controller-manager: %s\n", s.error().message().c_str());
    return 1;
  }
  int sig = signals.wait();
  spdlog::info("berth-controller-manager: signal {}, stopping", sig);
  manager.stop();
  return 0;
}
