// berth: the node's command: `berth up` (a whole cluster on this machine), `berth down`, and
// `berth image ...` (the image store).

#include "cmd/berth/image_command.h"
#include "cmd/berth/up/up_command.h"
#include "common/command_line.h"

int main(int argc, char** argv) {
  CLI::App app("berth: a Kubernetes node", "berth");
  app.require_subcommand(1);
  berth::cmd::GlobalFlags global;
  app.add_option("--root", global.root, "image store root (default /var/lib/berth/images)");
  app.add_option("--registry-config", global.registryConfig,
                 "registries.yaml: mirrors, credentials, TLS (k3s format)");
  app.add_flag("--debug", global.debug, "progress output");
  berth::cmd::ImageCommand image(app, global);
  berth::cmd::UpCommand up(app, global);
  if (auto exit = berth::parseCommandLine(app, argc, argv)) return *exit;
  return std::max(image.status(), up.status());
}
