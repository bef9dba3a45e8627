// berth-kubelet on a whole node (the integration tests' NodeFixture: berth-server, berth-cri,
// CNI, a local registry): its RSS and CPU idle with 0 and 100 pods, and pod create → Running and
// → Ready latency (p50/p99) for one pod at a time and for 30 at once, the image already present.
// A stock kubelet is not built on these machines (PEERS.md: it builds from a vendored v1.24
// tree outside the repo); its column says so. Prints numbers and the targets; never
// asserts on time. Root; exit 77 (skip) without what a node needs.
// Environment: BENCH_SINGLE (default 20), BENCH_BURST (30), BENCH_IDLE_PODS (100),
// BENCH_IDLE_SECONDS (10).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/file_util.h"
#include "kubeapi/json_fields.h"
#include "kubeapi/object_meta.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/rest_client.h"
#include "tests/bench/tools/bench_util.h"
#include "tests/integration/kubelet/node_fixture.h"

namespace {

using namespace berth;
using namespace std::chrono_literals;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

using bench::cpuSeconds;
using bench::envInt;
using bench::idleCpuPercent;
using bench::percentile;
using bench::rssMiB;

bool podReady(const Json& pod) {
  for (const Json& c : kubeapi::jsonArray(kubeapi::jsonField(pod, "status"), "conditions"))
    if (kubeapi::jsonString(c, "type") == "Ready")
      return kubeapi::jsonString(c, "status") == "True";
  return false;
}

struct Latency {
  std::vector<double> running;  // ms
  std::vector<double> ready;
};

// Creates `count` pods at once and watches them until each is Running and Ready.
Latency createAndWatch(kubeapi::ResourceClient pods, const berth::testing::NodeFixture& node,
                       const std::string& prefix, int count) {
  Latency out;
  auto list = pods.list();
  const std::string rv =
      list ? kubeapi::jsonString(kubeapi::jsonField(*list, "metadata"), "resourceVersion") : "";
  auto watch = pods.watch({.resourceVersion = rv});
  if (!watch) {
    std::fprintf(stderr, "watch: %s\n", watch.error().toError().message().c_str());
    return out;
  }
  std::map<std::string, Clock::time_point> created;
  std::map<std::string, bool> running, ready;
  for (int i = 0; i < count; ++i) {
    const std::string name = fmt::format("{}-{}", prefix, i);
    Json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", name}}},
                {"spec",
                 {{"nodeName", node.nodeName()},
                  {"terminationGracePeriodSeconds", 0},
                  {"containers",
                   {{{"name", "app"},
                     {"image", node.image()},
                     {"imagePullPolicy", "IfNotPresent"},
                     {"command", {"sleep", "3600"}}}}}}}};
    created[name] = Clock::now();
    if (auto r = pods.create(pod); !r) {
      std::fprintf(stderr, "create %s: %s\n", name.c_str(), r.error().toError().message().c_str());
    }
  }
  auto deadline = Clock::now() + 180s;
  while ((out.ready.size() < static_cast<std::size_t>(count)) && Clock::now() < deadline) {
    auto next = (*watch)->next(1s);
    if (next.kind == kubeapi::WatchNext::Kind::kClosed) break;
    if (next.kind != kubeapi::WatchNext::Kind::kEvent) continue;
    const Json& pod = next.event.object;
    const std::string name(kubeapi::nameOf(pod));
    auto c = created.find(name);
    if (c == created.end()) continue;
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - c->second).count();
    if (!running[name] &&
        kubeapi::jsonString(kubeapi::jsonField(pod, "status"), "phase") == "Running") {
      running[name] = true;
      out.running.push_back(ms);
    }
    if (!ready[name] && podReady(pod)) {
      ready[name] = true;
      out.ready.push_back(ms);
    }
  }
  return out;
}

void deleteAll(kubeapi::ResourceClient pods) {
  (void)pods.removeCollection({.gracePeriodSeconds = 0}, {});
  // Wait until the kubelet has removed them (their final DELETE empties the list).
  auto deadline = Clock::now() + 180s;
  while (Clock::now() < deadline) {
    auto list = pods.list();
    if (list && kubeapi::jsonArray(*list, "items").empty()) return;
    std::this_thread::sleep_for(200ms);
  }
}

void printLatency(const char* what, const Latency& l, int expected) {
  std::printf(
      "%-34s %5zu/%-3d running p50 %7.0f ms  p99 %7.0f ms | ready p50 %7.0f ms  p99 %7.0f ms\n",
      what, l.running.size(), expected, percentile(l.running, 0.5), percentile(l.running, 0.99),
      percentile(l.ready, 0.5), percentile(l.ready, 0.99));
}

}  // namespace

int main() {
  if (auto missing = berth::testing::NodeFixture::missingPrerequisite(); !missing.empty()) {
    std::printf("bench.kubelet: skipped: %s\n", missing.c_str());
    return 77;
  }
  auto node = berth::testing::NodeFixture::start();
  if (!node) {
    std::fprintf(stderr, "bench.kubelet: the node did not start: %s\n",
                 node.error().message().c_str());
    return 1;
  }
  auto api = kubeapi::RestClient::fromKubeconfig((*node)->server().adminKubeconfig());
  if (!api) {
    std::fprintf(stderr, "bench.kubelet: %s\n", api.error().message().c_str());
    return 1;
  }
  auto pods = (*api)->resource({"", "v1", "pods"}).inNamespace("default");
  const pid_t kubelet = (*node)->kubeletPid();
  const auto idleWindow = std::chrono::seconds(envInt("BENCH_IDLE_SECONDS", 10));

  std::printf(
      "bench.kubelet: berth-kubelet on berth-cri and berth-server (stock kubelet: n/a, not "
      "built on this machine; PEERS.md)\n");
  std::this_thread::sleep_for(2s);
  std::printf("%-34s RSS %6.1f MiB  CPU %5.2f %%\n", "idle, 0 pods", rssMiB(kubelet),
              idleCpuPercent(kubelet, idleWindow));

  // Warm-up (the first pod pays for the image unpack and the bridge).
  Latency warm = createAndWatch(pods, **node, "warm", 1);
  deleteAll(pods);

  Latency single;
  const int singles = envInt("BENCH_SINGLE", 20);
  for (int i = 0; i < singles; ++i) {
    Latency one = createAndWatch(pods, **node, fmt::format("single{}", i), 1);
    single.running.insert(single.running.end(), one.running.begin(), one.running.end());
    single.ready.insert(single.ready.end(), one.ready.begin(), one.ready.end());
  }
  deleteAll(pods);
  printLatency("1 pod at a time", single, singles);

  const int burst = envInt("BENCH_BURST", 30);
  Latency many = createAndWatch(pods, **node, "burst", burst);
  printLatency(fmt::format("{} pods at once", burst).c_str(), many, burst);
  deleteAll(pods);

  const int idlePods = envInt("BENCH_IDLE_PODS", 100);
  Latency hundred = createAndWatch(pods, **node, "idle", idlePods);
  std::this_thread::sleep_for(3s);
  const double rss = rssMiB(kubelet);
  std::printf("%-34s RSS %6.1f MiB  CPU %5.2f %%  (%zu running)\n",
              fmt::format("idle, {} pods", idlePods).c_str(), rss,
              idleCpuPercent(kubelet, idleWindow), hundred.running.size());
  deleteAll(pods);

  const double p99 = percentile(single.running, 0.99);
  std::printf(
      "targets: RSS <= 25 MiB at %d pods: %.1f MiB (%s); p99 create -> Running <= 500 ms "
      "for a single pod: %.0f ms (%s)\n",
      idlePods, rss, rss <= 25 ? "met" : "NOT met", p99, p99 <= 500 ? "met" : "NOT met");
  const bool worked = !warm.running.empty() &&
                      single.running.size() == static_cast<std::size_t>(singles) &&
                      hundred.running.size() == static_cast<std::size_t>(idlePods);
  return worked ? 0 : 1;
}
