#include <string_view>

#include "cni-plugins/vxlan/vxlan.h"

int main(int argc, char** argv) {
  if (argc == 3 && std::string_view(argv[1]) == "sync-peers") {
    return berth::cni::vxlan::syncPeersMain(argv[2]);
  }
  return berth::cni::pluginMain(berth::cni::vxlan::plugin());
}
