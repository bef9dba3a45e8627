#include "cni-plugins/loopback/loopback.h"

int main() {
  return berth::cni::pluginMain(berth::cni::loopback::plugin());
}
