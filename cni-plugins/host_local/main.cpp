#include "cni-plugins/host_local/host_local.h"

int main() {
  return berth::cni::pluginMain(berth::cni::hostlocal::plugin());
}
