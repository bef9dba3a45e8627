// bench_veth_floor <cycles> [<pod netns path>]: prints the kernel floor of a pod's veth pair in
// milliseconds ("cycle create delete"), for the shell benchmarks. Root.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "tests/bench/tools/veth_floor.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s <cycles> [<pod netns path>]\n", argv[0]);
    return 2;
  }
  int cycles = std::atoi(argv[1]);
  if (cycles <= 0) {
    std::fprintf(stderr, "bench_veth_floor: cycles must be a positive number, not %s\n", argv[1]);
    return 2;
  }
  auto floor = berth::bench::measureVethFloor(cycles, argc == 3 ? argv[2] : "",
                                              fmt::format("bfloor{}", ::getpid() % 100000));
  if (!floor) {
    std::fprintf(stderr, "bench_veth_floor: %s\n", floor.error().message().c_str());
    return 1;
  }
  std::printf("%.2f %.2f %.2f\n", floor->cycleMs, floor->createMs, floor->deleteMs);
  return 0;
}
