#pragma once
// `berth image pull|import|ls|inspect|rm|mount|umount|gc|df`: the image store for people and tests
// (later the CRI ImageService calls the same library).

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace berth::cmd {

struct GlobalFlags {
  std::string root = "/var/lib/berth/images";
  std::string registryConfig = "/etc/berth/registries.yaml";
  bool debug = false;
};

// The `image` subcommand tree: its flags live here, so the object must outlive app.parse().
class ImageCommand {
 public:
  ImageCommand(CLI::App& app, const GlobalFlags& global);
  // The exit status of the command that ran.
  int status() const { return status_; }

 private:
  template <class F>
  void run(F&& f);

  const GlobalFlags& global_;
  int status_ = 0;
  std::string ref_, platform_, user_, what_, mountImage_, containerId_;
  std::vector<std::string> toRemove_, files_;
  bool noUnpack_ = false, quiet_ = false, readOnly_ = false;
};

}  // namespace berth::cmd
