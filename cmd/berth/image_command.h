#pragma once
// `berth image pull|ls|inspect|rm|mount|umount|gc|df`: the image store for people and tests
// (later the CRI ImageService calls the same library).

#include <CLI/CLI.hpp>

namespace berth::cmd {

struct GlobalFlags {
  std::string root = "/var/lib/berth/images";
  std::string registryConfig = "/etc/berth/registries.yaml";
  bool debug = false;
};

// Adds the `image` subcommand tree to app; the callbacks store the exit status in *status.
void addImageCommand(CLI::App& app, const GlobalFlags& global, int* status);

}  // namespace berth::cmd
