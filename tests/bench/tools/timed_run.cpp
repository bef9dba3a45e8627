// bench_timed_run <program> [args...]: runs the program as a CNI runtime does (posix_spawn, the
// whole of our stdin as its stdin, the environment inherited) and prints the wall time of that
// run in microseconds on the first line of stdout, then the program's stdout. Exits with the
// program's status. For the shell benchmarks: a $(...) in bash forks the whole shell, ~1 ms
// that neither plugin spends and a runtime doesn't either.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "common/spawn.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <program> [args...]\n", argv[0]);
    return 2;
  }
  std::string input(std::istreambuf_iterator<char>(std::cin), {});
  berth::SpawnOptions o;
  o.path = argv[1];
  o.args.assign(argv + 1, argv + argc);
  o.stdinData = std::move(input);
  o.captureStdout = true;
  auto start = std::chrono::steady_clock::now();
  auto r = berth::runProgram(o);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  if (!r) {
    std::fprintf(stderr, "bench_timed_run: %s\n", r.error().message().c_str());
    return 1;
  }
  std::printf("%lld\n%s", static_cast<long long>(us), r->stdoutData.c_str());
  return r->status.code;
}
