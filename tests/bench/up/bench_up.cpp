// `berth up` as a whole node (the e2e tests' UpFixture, in a network namespace of its own):
// start → node Ready → first pod Running with the image already present, and the idle RSS of the
// whole node (berth up with its server, controllers and scheduler; berth-cri, berth-kubelet,
// berth-proxy, the per-container monitors) with 0 and 30 pods. No k3s or stock control plane
// runs here: the peers' column is the issue's figures. Prints numbers and the targets; never
// asserts on time. Root; exit 77 (skip) without what the e2e tests need.
// Environment: BENCH_PODS (default 30), BENCH_IDLE_SECONDS (10).
#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "tests/bench/tools/bench_util.h"
#include "tests/e2e/up_fixture.h"

namespace {

using namespace berth;
using berth::testing::UpFixture;
using Clock = std::chrono::steady_clock;

std::string netnsOf(const std::string& pid) {
  std::error_code ec;
  auto link = std::filesystem::read_symlink("/proc/" + pid + "/ns/net", ec);
  return ec ? "" : link.string();
}

// RSS (MiB) of the node's own processes, by program: those of build/bin running in our network
// namespace (the containers' processes are the workload, not the node).
std::map<std::string, double> nodeRss() {
  const std::string ours = netnsOf("self");
  std::map<std::string, double> out;
  DIR* proc = ::opendir("/proc");
  if (!proc) return out;
  while (dirent* e = ::readdir(proc)) {
    std::string pid = e->d_name;
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (netnsOf(pid) != ours) continue;
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/" + pid + "/exe", ec).filename().string();
    if (ec || !exe.starts_with("berth")) continue;
    double rss = bench::rssMiB(std::atoi(pid.c_str()));
    if (rss > 0) out[exe] += rss;
  }
  ::closedir(proc);
  return out;
}

void printRss(const char* label, const std::map<std::string, double>& rss) {
  double total = 0;
  std::string parts;
  for (const auto& [exe, mib] : rss) {
    total += mib;
    parts += fmt::format(" {}={:.1f}", exe, mib);
  }
  std::printf(
      "%-28s %7.1f MiB  (%s )  target <= 128 MiB; k3s documents ~1600 MB, a stock control "
      "plane with kubelet and containerd measured ~566 MB here\n",
      label, total, parts.c_str());
}

std::string pod(const std::string& name, const UpFixture& up) {
  return fmt::format(R"({{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{}"}},
    "spec":{{"nodeName":"{}","terminationGracePeriodSeconds":0,
    "containers":[{{"name":"app","image":"{}","imagePullPolicy":"IfNotPresent",
    "command":["sleep","3600"]}}]}}}})",
                     name, up.nodeName(), up.image());
}

bool waitRunning(UpFixture& up, const std::string& name) {
  return up.waitForOutput({"get", "pod", name, "-o", "jsonpath={.status.phase}"}, "Running");
}

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

int main() {
  if (auto why = UpFixture::missingPrerequisite(); !why.empty()) {
    std::printf("bench.up: skipped: %s\n", why.c_str());
    return 77;
  }
  const int pods = std::max(1, bench::envInt("BENCH_PODS", 30));
  const auto idle = std::chrono::seconds(std::max(1, bench::envInt("BENCH_IDLE_SECONDS", 10)));

  auto coldStart = Clock::now();
  auto started = UpFixture::start();
  if (!started) {
    std::fprintf(stderr, "bench.up: %s\n", started.error().message().c_str());
    return 1;
  }
  UpFixture& up = **started;
  std::printf("cold start to node Ready (incl. a fresh data dir and the test registry): %.2f s\n",
              secondsSince(coldStart));

  // The image into the node's store, then a warm start: what the target measures.
  up.kubectlOk({"apply", "-f", "-"}, pod("pull", up));
  if (!waitRunning(up, "pull")) return 1;
  up.kubectlOk({"delete", "pod", "pull", "--wait=true"});
  if (auto s = up.stop(); !s) {
    std::fprintf(stderr, "bench.up: stop: %s\n", s.error().message().c_str());
    return 1;
  }
  auto t0 = Clock::now();
  if (auto s = up.startAgain(); !s) {
    std::fprintf(stderr, "bench.up: start: %s\n", s.error().message().c_str());
    return 1;
  }
  double ready = secondsSince(t0);
  up.kubectlOk({"apply", "-f", "-"}, pod("first", up));
  if (!waitRunning(up, "first")) return 1;
  double running = secondsSince(t0);
  std::printf("berth up -> node Ready:      %6.2f s\n", ready);
  std::printf("berth up -> first pod Running: %6.2f s   target <= 5 s (image present)\n", running);

  up.kubectlOk({"delete", "pod", "first", "--wait=true"});
  std::this_thread::sleep_for(idle);
  printRss("whole node idle, 0 pods:", nodeRss());

  for (int i = 0; i < pods; ++i)
    up.kubectlOk({"apply", "-f", "-"}, pod(fmt::format("idle-{}", i), up));
  for (int i = 0; i < pods; ++i) {
    if (!waitRunning(up, fmt::format("idle-{}", i))) return 1;
  }
  std::this_thread::sleep_for(idle);
  printRss(fmt::format("whole node idle, {} pods:", pods).c_str(), nodeRss());
  return 0;
}
