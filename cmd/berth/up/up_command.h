#pragma once
// `berth up` and `berth down`: the CLI of the one-command cluster (k3s server's flag names).
#include <CLI/CLI.hpp>

#include "cmd/berth/image_command.h"
#include "cmd/berth/up/up_options.h"

namespace berth::cmd {

class UpCommand {
 public:
  UpCommand(CLI::App& app, const GlobalFlags& global);
  int status() const { return status_; }

 private:
  int up();
  int down();

  const GlobalFlags& global_;
  UpOptions options_;
  std::string disable_;
  std::filesystem::path downDataDir_ = "/var/lib/berth";
  bool purge_ = false;
  int timeoutSeconds_ = 60;
  int status_ = 0;
};

}  // namespace berth::cmd
