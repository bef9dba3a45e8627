#include "cni-plugins/bridge/bridge.h"

int main() {
  return berth::cni::pluginMain(berth::cni::bridge::plugin());
}
