#include "controlplane/controllers/slow_start.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace berth::controlplane::controllers {

Status parallelFor(int count, const std::function<Status(int)>& fn, int width) {
  std::vector<Status> results(std::max(count, 0));
  for (int start = 0; start < count; start += width) {
    std::vector<std::thread> threads;
    for (int i = start; i < std::min(count, start + width); ++i)
      threads.emplace_back([&, i] { results[i] = fn(i); });
    for (auto& t : threads)
      t.join();
  }
  for (auto& r : results)
    if (!r) return r;
  return {};
}

std::pair<int, Status> slowStartBatch(int count, int initialBatchSize,
                                      const std::function<Status()>& fn) {
  int remaining = count;
  int successes = 0;
  for (int batch = std::min(remaining, initialBatchSize); batch > 0;
       batch = std::min(2 * batch, remaining)) {
    std::atomic<int> ok{0};
    Status status = parallelFor(batch, [&](int) {
      Status s = fn();
      if (s) ++ok;
      return s;
    });
    successes += ok;
    if (!status) return {successes, status};
    remaining -= batch;
  }
  return {successes, {}};
}

}  // namespace berth::controlplane::controllers
