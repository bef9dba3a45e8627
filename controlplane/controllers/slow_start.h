#pragma once
// Parallel API calls as kube-controller-manager's workload controllers make them.
#include <functional>
#include <utility>

#include "common/result.h"

namespace berth::controlplane::controllers {

// Runs fn(i) for i in [0, count) on parallel threads, at most `width` at a time; the first error
// (by index) is returned after all ran.
Status parallelFor(int count, const std::function<Status(int)>& fn, int width = 16);

// controller.slowStartBatch: `count` calls of fn in batches of initialBatchSize, then twice as
// many each time, each batch in parallel; stops after the first batch with an error, so a
// quota or admission refusal costs one call and not hundreds. Returns the successes and that
// error.
std::pair<int, Status> slowStartBatch(int count, int initialBatchSize,
                                      const std::function<Status()>& fn);

}  // namespace berth::controlplane::controllers
