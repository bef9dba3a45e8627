#include "controlplane/storage/storage_workload.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

namespace berth::controlplane::storage::testing {

std::string podKey(int object) {
  return fmt::format("/registry/pods/default/pod-{}", object);
}

std::string podValue(int object, int round) {
  return fmt::format(R"({{"metadata":{{"name":"pod-{}","labels":{{"app":"web"}}}},)"
                     R"("spec":{{"containers":[{{"name":"c","image":"busybox"}}]}},)"
                     R"("status":{{"round":{},"pad":"{}"}}}})",
                     object, round, std::string(900, 'p'));
}

namespace {

Status compactNow(Backend& backend) {
  return backend.compact(BERTH_TRY(backend.currentRevision()));
}

}  // namespace

Result<ChurnResult> runChurn(Backend& backend, const ChurnOptions& o) {
  std::vector<std::int64_t> revisions(o.objects);
  for (int i = 0; i < o.objects; ++i) {
    revisions[i] = BERTH_TRY(backend.create(podKey(i), podValue(i, 0))).modRevision;
  }
  BERTH_TRY(compactNow(backend));
  ChurnResult result;
  result.sizeAfterCreates = BERTH_TRY(backend.sizeBytes());
  result.peakSize = result.sizeAfterCreates;

  std::mutex mu;
  std::optional<Error> failure;
  auto start = std::chrono::steady_clock::now();
  for (int done = 0; done < o.updates; done += o.compactEvery) {
    int round = std::min(o.compactEvery, o.updates - done);
    std::vector<std::thread> threads;
    for (int t = 0; t < o.writers; ++t) {
      threads.emplace_back([&, t] {
        int owned = (o.objects - t + o.writers - 1) / o.writers;
        if (owned <= 0) return;
        std::mt19937 rng(static_cast<unsigned>(done * 31 + t));
        std::uniform_int_distribution<int> pick(0, owned - 1);
        for (int n = t; n < round; n += o.writers) {
          int i = pick(rng) * o.writers + t;
          auto r = backend.update(podKey(i), podValue(i, done + n), revisions[i]);
          if (!r || !r->succeeded || !r->kv) {
            std::lock_guard lock(mu);
            if (!failure) {
              failure = r ? Error(Code::kAborted, fmt::format("update {}: lost a race it could "
                                                              "not lose",
                                                              podKey(i)))
                          : r.error();
            }
            return;
          }
          revisions[i] = r->kv->modRevision;
        }
      });
    }
    for (auto& t : threads)
      t.join();
    if (failure) return std::unexpected(*failure);
    result.peakSize = std::max(result.peakSize, BERTH_TRY(backend.sizeBytes()));
    BERTH_TRY(compactNow(backend));
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.sizeAfterChurn = BERTH_TRY(backend.sizeBytes());
  return result;
}

}  // namespace berth::controlplane::storage::testing
