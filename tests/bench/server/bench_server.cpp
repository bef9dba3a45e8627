// bench_server — berth-server's numbers, printed, never asserted (ctest bench.server, label
// bench). Today: its storage (bench_storage.cpp). Environment: BENCH_WRITES (creates per run,
// default 2000), BENCH_CHURN (updates for the size measurement, default 100000).
#include "tests/bench/server/bench_storage.h"

int main() {
  return berth::bench::runStorageBench();
}
