#include "cni-plugins/portmap/portmap.h"

int main() {
  return berth::cni::pluginMain(berth::cni::portmap::plugin());
}
