#pragma once
// Workloads shared by the storage tests and tests/bench/server: pod-sized values and the churn
// the size goal is stated for (N updates to M objects from concurrent writers, with
// compaction at a fixed pace).
#include <cstdint>
#include <string>

#include "common/result.h"
#include "controlplane/storage/backend.h"

namespace berth::controlplane::storage::testing {

// "/registry/pods/default/pod-<n>".
std::string podKey(int object);
// A pod-sized JSON object (about 1 KiB) that differs per object and round.
std::string podValue(int object, int round);

struct ChurnOptions {
  int objects = 1000;
  int updates = 100'000;
  int writers = 16;
  // Compaction to the current revision after every this many updates (what a schedule does
  // under steady load), and once after the creates and at the end.
  int compactEvery = 10'000;
};

struct ChurnResult {
  std::int64_t sizeAfterCreates = 0;  // after the first `objects` writes (and a compaction)
  std::int64_t peakSize = 0;          // the largest size seen just before a compaction
  std::int64_t sizeAfterChurn = 0;    // after every update and the last compaction
  double seconds = 0;                 // the updates' wall time
};

// Creates the objects, then updates random ones; each writer owns the objects i with
// i % writers == its index, so no compare-and-swap fails. An error ends it.
[[nodiscard]] Result<ChurnResult> runChurn(Backend& backend, const ChurnOptions& options);

}  // namespace berth::controlplane::storage::testing
