// berth-cri: the CRI v1 server. Flags override cri.yaml; SIGTERM or SIGINT stops it gracefully.

#include <signal.h>

#include <chrono>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "common/command_line.h"
#include "common/log.h"
#include "shim/cri_config.h"
#include "shim/cri_server.h"

namespace {

using berth::Result;
using berth::cri::CriConfig;

// Time running calls get to finish after SIGTERM before they are cancelled.
constexpr std::chrono::seconds kShutdownGrace(5);

struct Flags {
  std::string config = "/etc/berth/cri.yaml";
  std::string listen, root, state, logLevel;
};

Result<CriConfig> loadConfig(const CLI::App& app, const Flags& flags) {
  CriConfig config = BERTH_TRY(berth::cri::loadCriConfig(flags.config, app.count("--config") > 0));
  if (app.count("--listen")) config.listen = flags.listen;
  if (app.count("--root")) config.root = flags.root;
  if (app.count("--state")) config.state = flags.state;
  if (app.count("--log-level")) config.logLevel = flags.logLevel;
  BERTH_TRY_CTX(berth::cri::finalizeCriConfig(config), flags.config);
  return config;
}

int run(const CriConfig& config) {
  // Blocked before gRPC starts its threads, so only sigwait below sees them.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  // A client gone from a pipe or socket is an error return, never the end of the daemon.
  ::signal(SIGPIPE, SIG_IGN);

  auto log = spdlog::get("cri");
  auto server = berth::cri::CriServer::start(config);
  if (!server) {
    std::fprintf(stderr, "berth-cri: %s\n", server.error().message().c_str());
    return 1;
  }
  log->info("berth-cri {} serving CRI v1 on {}", BERTH_VERSION, config.listen.string());
  int sig = 0;
  sigwait(&stopSignals, &sig);
  log->info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  (*server)->shutdown(kShutdownGrace);
  log->info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("berth-cri: a CRI v1 (runtime.v1) server on a unix socket", "berth-cri");
  app.set_version_flag("--version", BERTH_VERSION);
  Flags flags;
  app.add_option("--config", flags.config, "configuration file (YAML)")->default_str(flags.config);
  app.add_option("--listen", flags.listen, "unix socket to serve on")
      ->default_str("/run/berth/cri.sock");
  app.add_option("--root", flags.root, "persistent state directory")
      ->default_str("/var/lib/berth/cri");
  app.add_option("--state", flags.state, "volatile state directory")->default_str("/run/berth");
  app.add_option("--log-level", flags.logLevel, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->default_str("info");
  if (auto exit = berth::parseCommandLine(app, argc, argv)) return *exit;

  for (auto [name, value] : {std::pair{"--listen", &flags.listen}, std::pair{"--root", &flags.root},
                             std::pair{"--state", &flags.state}}) {
    if (!value->empty() && (*value)[0] != '/') {
      std::fprintf(stderr, "berth-cri: %s: must be an absolute path, not \"%s\"\n", name,
                   value->c_str());
      return 1;
    }
  }
  auto config = loadConfig(app, flags);
  if (!config) {
    std::fprintf(stderr, "berth-cri: %s\n", config.error().message().c_str());
    return 1;
  }
  auto logger =
      berth::setupLogging({.name = "cri", .level = spdlog::level::from_str(config->logLevel)});
  (void)logger;
  return run(*config);
}
