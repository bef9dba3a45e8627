// berth: the node's command (today `berth image ...`; `berth up` and `berth agent` come later).

#include <CLI/CLI.hpp>

#include "cmd/berth/image_command.h"

int main(int argc, char** argv) {
  CLI::App app("berth: a Kubernetes node", "berth");
  app.require_subcommand(1);
  berth::cmd::GlobalFlags global;
  app.add_option("--root", global.root, "image store root (default /var/lib/berth/images)");
  app.add_option("--registry-config", global.registryConfig,
                 "registries.yaml: mirrors, credentials, TLS (k3s format)");
  app.add_flag("--debug", global.debug, "progress output");
  berth::cmd::ImageCommand image(app, global);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return image.status();
}
