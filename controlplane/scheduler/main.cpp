// berth-scheduler: the scheduler on its own, with kube-scheduler's flags where they apply.
#include <cstdio>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/command_line.h"
#include "common/log.h"
#include "common/termination_signals.h"
#include "controlplane/scheduler/scheduler.h"
#include "kubeapi/informer_factory.h"
#include "kubeapi/rest_client.h"

namespace {

int fatal(const std::string& message) {
  std::fprintf(stderr, "berth-scheduler: %s\n", message.c_str());
  return 1;
}

// pflag takes a shorthand with "=" (kube-scheduler -v=4); CLI11 only takes "-v 4" or "--v=4".
void acceptShorthandWithValue(int argc, char** argv, std::vector<std::string>& storage) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]).starts_with("-v=")) {
      storage.push_back("-" + std::string(argv[i]));
      argv[i] = storage.back().data();
    }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace berth;
  std::string kubeconfig;
  bool leaderElect = false;
  int verbosity = 0;
  controlplane::scheduler::SchedulerOptions options;

  CLI::App app{"berth-scheduler: places pending pods on nodes, as kube-scheduler"};
  app.set_version_flag("--version", "berth-scheduler " BERTH_VERSION);
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig of the API server")->required();
  // A pflag bool: "--leader-elect", "--leader-elect=false".
  app.add_flag("--leader-elect", leaderElect,
               "Leader election (only false: berth-scheduler runs alone)");
  app.add_option("--scheduler-name", options.schedulerName,
                 "Pods with this spec.schedulerName are ours");
  app.add_option("-v,--v", verbosity, "Log verbosity (4 and up: debug)");
  std::vector<std::string> rewritten;
  rewritten.reserve(static_cast<size_t>(argc));  // argv points into it: no reallocation
  acceptShorthandWithValue(argc, argv, rewritten);
  if (auto exitCode = parseCommandLine(app, argc, argv)) return *exitCode;
  if (leaderElect) return fatal("--leader-elect=true is not supported; run one berth-scheduler");

  const TerminationSignals signals;  // before any thread starts
  setupLogging(
      {.name = "scheduler", .level = verbosity >= 4 ? spdlog::level::debug : spdlog::level::info});
  auto api = kubeapi::RestClient::fromKubeconfig(kubeconfig);
  if (!api) return fatal(api.error().message());
  kubeapi::InformerFactory informers(*api);
  controlplane::scheduler::Scheduler scheduler(informers, options);
  scheduler.start();
  informers.start();
  const int sig = signals.wait();
  spdlog::info("berth-scheduler: signal {}, shutting down", sig);
  scheduler.stop();
  informers.stop();
  return 0;
}
