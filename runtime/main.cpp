#include "runtime/cli.h"

int main(int argc, char** argv) {
  return berth::runtime::runCli(argc, argv);
}
