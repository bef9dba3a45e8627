// bench_cri — berth-cri vs Debian's containerd (its CRI plugin is built in), side by side in one
// run, both driven over gRPC by the same client (tests/integration/cri_client, on criapi):
//   up   = RunPodSandbox + CreateContainer + StartContainer (→ running)
//   down = StopContainer + RemoveContainer + StopPodSandbox + RemovePodSandbox
// sequentially (one pod after another; median per pod) and 10 pods in parallel (wall time; median
// of rounds), and the memory of each engine holding 10 running pods: the server (RSS, PSS, peak),
// and the per-pod processes (berth-monitor vs containerd-shim-runc-v2 + its pause process).
//
// Same work on both sides: one busybox image pushed by the bench to its own docker-registry on
// 127.0.0.1 and pulled first (not timed); the same CNI network (our bridge + host-local from the
// build, a bridge and subnet of this run); a runc-compatible runtime (containerd: Debian's runc
// through its io.containerd.runc.v2 shim; berth-cri: berth-runtime under berth-monitor, and
// Debian's runc as a second handler so the runtime's share is visible). containerd runs with its
// own root, state, socket and config in the temp dir (tests/integration/containerd's fixture,
// which the containerd CNI interop test uses too); its sandbox image is a one-layer image the
// bench builds from berth-pod-init (sleeps until SIGTERM, as pause does). Both put their pods
// under a relative cgroup parent, so every container cgroup nests under this process's own.
//
// Exit 0, 1 when something does not work at all, 77 (ctest skip) without root, docker-registry,
// containerd, its runc shim or runc. Never asserts on time. Environment: BENCH_PODS (sequential
// pods per engine, default 10), BENCH_PARALLEL (pods per parallel round, 10), BENCH_ROUNDS
// (parallel rounds, 3).

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "common/child_process.h"
#include "common/file_util.h"
#include "common/scope_guard.h"
#include "common/spawn.h"
#include "images/digest.h"
#include "runtime/v1/api.grpc.pb.h"
#include "tests/bench/tools/bench_util.h"
#include "tests/bench/tools/veth_floor.h"
#include "tests/integration/containerd/containerd_fixture.h"
#include "tests/integration/cri_client.h"
#include "tests/integration/registry_fixture.h"

namespace {

using namespace berth;
using namespace berth::images::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace v1 = ::runtime::v1;
using Clock = std::chrono::steady_clock;

using berth::bench::envInt;

bool have(const std::string& program) {
  auto r = runProgram(
      {.path = "sh", .args = {"sh", "-c", fmt::format("command -v {} >/dev/null", program)}});
  return r && r->status.success();
}

std::string sh(const std::string& command) {
  SpawnOptions o{.path = "sh", .args = {"sh", "-c", command}};
  o.captureStdout = true;
  o.captureStderr = true;
  o.timeout = 30s;
  auto r = runProgram(o);
  return r ? r->stdoutData : "";
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// ---------------------------------------------------------------------------------------------
// Processes and their memory, from /proc.

std::map<std::string, long> statusFields(pid_t pid) {
  std::map<std::string, long> out;
  std::istringstream in(readFile(fmt::format("/proc/{}/status", pid)).value_or(""));
  std::string key;
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    out[line.substr(0, colon)] = std::atol(line.c_str() + colon + 1);
  }
  return out;
}

struct Mem {
  double rssKb = 0;
  double pssKb = 0;
  double hwmKb = 0;
  int count = 0;
  Mem& operator+=(const Mem& o) {
    rssKb += o.rssKb;
    pssKb += o.pssKb;
    hwmKb += o.hwmKb;
    count += o.count;
    return *this;
  }
};

Mem memOf(pid_t pid) {
  auto f = statusFields(pid);
  Mem m{.rssKb = static_cast<double>(f["VmRSS"]), .hwmKb = static_cast<double>(f["VmHWM"])};
  std::istringstream in(readFile(fmt::format("/proc/{}/smaps_rollup", pid)).value_or(""));
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("Pss:")) m.pssKb = static_cast<double>(std::atol(line.c_str() + 4));
  }
  m.count = m.rssKb > 0 ? 1 : 0;
  return m;
}

Mem memOf(const std::vector<pid_t>& pids) {
  Mem sum;
  for (pid_t p : pids)
    sum += memOf(p);
  return sum;
}

// ---------------------------------------------------------------------------------------------
// A CRI engine: the server process and a client of it.

struct Pod {
  std::string podId;
  std::string containerId;
};

struct Workload {
  std::string image;
  std::string cgroupParent;
  fs::path logRoot;
};

// One engine under test: its server process (owned elsewhere) and a CRI client recording each
// RPC's time while asked to.
class Engine {
 public:
  Engine(std::string name, const fs::path& socket, ChildProcess& process)
      : name_(std::move(name)), process_(process), client_(name_, socket) {
    client_.observe([this](const char* rpc, double ms) {
      if (!recording_) return;
      std::lock_guard lock(mu_);
      rpcMs_[rpc].push_back(ms);
    });
  }

  const std::string& name() const { return name_; }
  cri_testing::CriClient& client() { return client_; }
  // Per-RPC times of the calls made between record(true) and record(false), taken away.
  void record(bool on) { recording_ = on; }
  std::map<std::string, std::vector<double>> takeRpcTimes() {
    std::lock_guard lock(mu_);
    return std::exchange(rpcMs_, {});
  }
  pid_t pid() const { return process_.pid(); }
  Status waitReady() { return client_.waitReady(process_, 30s); }

  v1::PodSandboxConfig podConfig(const Workload& w, const std::string& name) const {
    v1::PodSandboxConfig c;
    c.mutable_metadata()->set_name(name);
    c.mutable_metadata()->set_namespace_("bench");
    c.mutable_metadata()->set_uid(name_ + "-" + name);
    c.set_hostname(name);
    c.set_log_directory((w.logRoot / name_ / name).string());
    c.mutable_linux()->set_cgroup_parent(w.cgroupParent);
    // The kubelet's defaults (NamespaceMode's zero value is POD: a shared PID namespace).
    c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
        v1::CONTAINER);
    return c;
  }

  Result<Pod> up(const Workload& w, const std::string& name, const std::string& handler) {
    Pod pod;
    v1::PodSandboxConfig sandbox = podConfig(w, name);
    pod.podId = BERTH_TRY(client_.runPodSandbox(sandbox, handler));
    v1::ContainerConfig c;
    c.mutable_metadata()->set_name("main");
    c.mutable_image()->set_image(w.image);
    // PID 1 of its namespace ignores an unhandled SIGTERM: trap it, so StopContainer is the
    // graceful stop a kubelet asks for, not the timeout.
    // An absolute path: the image sets no PATH, and containerd adds none (berth-cri does).
    for (const char* a : {"/bin/sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"})
      c.add_command(a);
    c.set_log_path("main.log");
    c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
        v1::CONTAINER);
    pod.containerId = BERTH_TRY(client_.createContainer(pod.podId, c, sandbox));
    BERTH_TRY(client_.startContainer(pod.containerId));
    return pod;
  }

  Status down(const Pod& pod) {
    BERTH_TRY(client_.stopContainer(pod.containerId, 10));
    BERTH_TRY(client_.removeContainer(pod.containerId));
    return client_.removePod(pod.podId);
  }

 private:
  std::string name_;
  ChildProcess& process_;
  cri_testing::CriClient client_;
  std::atomic<bool> recording_ = false;
  std::mutex mu_;
  std::map<std::string, std::vector<double>> rpcMs_;
};

Result<ChildProcess> startDaemon(const std::string& path, std::vector<std::string> args,
                                 const fs::path& log) {
  SpawnOptions o;
  o.path = path;
  o.args = std::move(args);
  o.outputFile = log.string();
  return startProgram(o);
}

// SIGTERM (20 s to finish), then SIGKILL; reaped.
void stopDaemon(ChildProcess& process) {
  if (!process.valid()) return;
  ::kill(process.pid(), SIGTERM);
  auto exited = process.waitFor(20s);
  if (!exited || !*exited) process.killAndReap();
  (void)process.release();
}

// ---------------------------------------------------------------------------------------------
// The measurements.

struct Timings {
  std::vector<double> seqUp, seqDown, parUp, parDown;
  std::map<std::string, std::vector<double>> rpc;  // per RPC, sequential phase
  std::string parError;                            // the first failure of a parallel round
};

struct MemSample {
  Mem server;   // the daemon
  Mem perPod;   // berth-monitor, or containerd-shim-runc-v2 + pause
  Mem monitor;  // berth-monitor, or containerd-shim-runc-v2 alone
  Mem pause;    // containerd's pause processes
};

using PerPodFinder = std::function<MemSample(const Engine&)>;

Status benchEngine(Engine& e, const Workload& w, const std::string& handler, int pods, int parallel,
                   int rounds, Timings& t, MemSample* mem, const PerPodFinder& sample) {
  const std::string tag = handler.empty() ? "d" : handler;
  // Warm-up (first pod: caches, pause image unpack, CNI network load), not counted.
  {
    auto pod = BERTH_TRY(e.up(w, "warm-" + tag, handler));
    BERTH_TRY(e.down(pod));
  }
  auto finishRecording = [&] {
    e.record(false);
    t.rpc = e.takeRpcTimes();
  };
  e.record(true);
  auto recording = defer(finishRecording);
  for (int i = 0; i < pods; ++i) {
    auto start = Clock::now();
    auto pod = BERTH_TRY(e.up(w, fmt::format("seq-{}-{}", tag, i), handler));
    t.seqUp.push_back(msSince(start));
    start = Clock::now();
    BERTH_TRY(e.down(pod));
    t.seqDown.push_back(msSince(start));
  }
  recording.cancel();
  finishRecording();
  for (int r = 0; r < rounds && parallel > 0; ++r) {
    std::vector<Result<Pod>> up(parallel, fail(Code::kUnknown, "not run"));
    std::vector<std::thread> threads;
    auto start = Clock::now();
    for (int i = 0; i < parallel; ++i)
      threads.emplace_back(
          [&, i] { up[i] = e.up(w, fmt::format("par-{}-{}-{}", tag, r, i), handler); });
    for (auto& th : threads)
      th.join();
    t.parUp.push_back(msSince(start));
    if (mem && r == 0) *mem = sample(e);
    std::vector<Status> down(parallel);
    threads.clear();
    start = Clock::now();
    for (int i = 0; i < parallel; ++i)
      threads.emplace_back([&, i] { down[i] = up[i] ? e.down(*up[i]) : Status{}; });
    for (auto& th : threads)
      th.join();
    t.parDown.push_back(msSince(start));
    // A failed round is reported, not fatal: the other engine still gets measured.
    for (auto& u : up) {
      if (!u && t.parError.empty()) t.parError = u.error().message();
    }
    for (auto& d : down) {
      if (!d && t.parError.empty()) t.parError = d.error().message();
    }
    if (!t.parError.empty()) break;
  }
  return {};
}

// ---------------------------------------------------------------------------------------------

void printRow(const char* what, double berth, double containerd, const char* unit) {
  std::printf("%-34s %12.1f %12.1f %9.2f   %s\n", what, berth, containerd,
              containerd > 0 ? berth / containerd : 0, unit);
}

int runBench(const std::string& criPath, const std::string& monitorPath, const std::string& podInit,
             const std::string& runtimePath, const std::string& cniBin) {
  if (::geteuid() != 0) {
    std::puts("SKIP: needs root (namespaces, mounts, CNI)");
    return 77;
  }
  for (const char* tool : {"containerd", "containerd-shim-runc-v2", "runc"}) {
    if (!have(tool)) {
      std::printf("SKIP: %s is not installed\n", tool);
      return 77;
    }
  }
  if (!RegistryServer::available()) {
    std::puts("SKIP: docker-registry is not installed");
    return 77;
  }
  const int pods = std::max(1, envInt("BENCH_PODS", 10));
  const int parallel = std::max(1, envInt("BENCH_PARALLEL", 10));
  const int rounds = std::max(1, envInt("BENCH_ROUNDS", 3));
  std::string runcPath = sh("command -v runc");
  runcPath = runcPath.substr(0, runcPath.find('\n'));

  char tmpl[] = "/tmp/bcri-XXXXXX";  // short: sun_path holds 108 bytes, containerd adds .ttrpc
  if (!::mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path dir = tmpl;
  const int self = ::getpid();
  const std::string bridge = fmt::format("bcb{}", self % 100000);
  const std::string subnet = fmt::format("10.{}.{}", 200 + self % 50, (self / 50) % 256);
  const std::string cgroupParent = fmt::format("berthbench{}", self);
  const fs::path criSock = dir / "cri.sock";
  const auto createdRunDirs = cri_testing::missingContainerdHostDirs();

  std::unique_ptr<RegistryServer> registry;
  ChildProcess criProcess;
  std::unique_ptr<cri_testing::Containerd> ctrd;
  std::unique_ptr<Engine> berth;
  std::unique_ptr<Engine> containerd;
  auto cleanup = defer([&] {
    if (berth) berth->client().removeAllPods();
    if (containerd) containerd->client().removeAllPods();
    berth.reset();
    containerd.reset();
    stopDaemon(criProcess);
    ctrd.reset();  // containerd, then its shims
    // berth-monitor outlives berth-cri, and a child berth-cri forked (to pin a pod's namespaces)
    // may be stuck: ours, by PID.
    for (pid_t p : cri_testing::pidsWhose([&](pid_t, const std::string& cmd) {
           bool inDir = cmd.find(dir.string()) != std::string::npos;
           return (cmd.starts_with(monitorPath) && inDir) || (cmd.starts_with(criPath) && inDir);
         }))
      cri_testing::endProcess(p, 2s);
    cri_testing::unmountUnder(dir);
    cri_testing::removeCgroups(cgroupParent);
    sh("ip link del " + bridge + " 2>/dev/null");
    registry.reset();
    cri_testing::removeIfEmpty(createdRunDirs);
    (void)removeAll(dir);
  });

  auto bail = [&](const std::string& what, const Error& e) {
    std::printf("%s: %s\n", what.c_str(), e.message().c_str());
    for (const char* log : {"berth-cri.log", "ctrd/containerd.log"}) {
      auto text = readFile(dir / log);
      if (text && !text->empty()) {
        std::string tail = text->substr(text->size() > 3000 ? text->size() - 3000 : 0);
        std::printf("--- %s (tail)\n%s\n", log, tail.c_str());
      }
    }
    return 1;
  };

  // The registry and the images.
  auto reg = RegistryServer::start(dir / "registry", {});
  if (!reg) return bail("registry", reg.error());
  registry = std::move(*reg);
  const std::string host = registry->host();
  const std::string busyboxRef = host + "/bench/busybox:1";
  const std::string pauseRef = host + "/bench/pause:1";
  auto busybox = readFile("/bin/busybox");
  if (!busybox) return bail("read /bin/busybox (busybox-static)", busybox.error());
  if (auto st = push(*registry, "bench/busybox", "1", makeAppletImage(*busybox, {"sh", "sleep"}));
      !st)
    return bail("push busybox", st.error());
  auto podInitBinary = readFile(podInit);
  if (!podInitBinary) return bail("read " + podInit, podInitBinary.error());
  if (auto st = push(*registry, "bench/pause", "1", makePauseImage(*podInitBinary)); !st)
    return bail("push pause", st.error());

  // One CNI network for both.
  Status st = makeDirs(dir / "net.d");
  if (st) {
    st = writeFile(dir / "net.d" / "10-bench.conflist",
                   fmt::format(R"({{"cniVersion": "1.0.0", "name": "bench", "plugins": [
  {{"type": "bridge", "bridge": "{}", "isGateway": true,
    "ipam": {{"type": "host-local", "dataDir": "{}/ipam", "subnet": "{}.0/24"}}}}]}}
)",
                               bridge, dir.string(), subnet));
  }
  if (!st) return bail("CNI config", st.error());

  // berth-cri: berth-runtime by default, Debian's runc as the handler "runc".
  st = writeFile(dir / "registries.yaml",
                 fmt::format("mirrors:\n  \"{0}\":\n    endpoint: [\"http://{0}\"]\n", host));
  if (st) {
    st = writeFile(
        dir / "cri.yaml",
        fmt::format("root: {0}/berth/root\nstate: {0}/berth/state\nimage_root: {0}/berth/images\n"
                    "registry_config: {0}/registries.yaml\nlog_level: {6}\n"
                    "monitor_path: {1}\npod_init_path: {2}\n"
                    "runtime_handlers:\n  berth-runtime: {{path: {3}}}\n  runc: {{path: {4}}}\n"
                    "default_runtime_handler: berth-runtime\n"
                    "cni: {{bin_dirs: [{5}], conf_dir: {0}/net.d}}\n",
                    dir.string(), monitorPath, podInit, runtimePath, runcPath, cniBin,
                    std::getenv("BENCH_LOG_LEVEL") ? std::getenv("BENCH_LOG_LEVEL") : "warn"));
  }
  if (!st) return bail("berth-cri config", st.error());
  auto criProc = startDaemon(
      criPath, {criPath, "--config", (dir / "cri.yaml").string(), "--listen", criSock.string()},
      dir / "berth-cri.log");
  if (!criProc) return bail("start berth-cri", criProc.error());
  criProcess = std::move(*criProc);
  berth = std::make_unique<Engine>("berth-cri", criSock, criProcess);

  // containerd: root, state, socket and opt in the temp dir; the CRI plugin on the same network,
  // registry (a mirror with the http endpoint) and runc (its runc.v2 shim, runc's state root in
  // the temp dir).
  auto started = cri_testing::Containerd::start({.dir = dir / "ctrd",
                                                 .sandboxImage = pauseRef,
                                                 .runcPath = runcPath,
                                                 .cniBinDir = cniBin,
                                                 .cniConfDir = dir / "net.d",
                                                 .registryMirror = host});
  if (!started) return bail("start containerd", started.error());
  ctrd = std::move(*started);
  containerd = std::make_unique<Engine>("containerd", ctrd->socket(), ctrd->process());

  if (auto r = berth->waitReady(); !r) return bail("berth-cri", r.error());
  if (auto r = containerd->waitReady(); !r) return bail("containerd", r.error());
  if (auto r = berth->client().pull(busyboxRef); !r) return bail("pull", r.error());
  if (auto r = containerd->client().pull(busyboxRef); !r) return bail("pull", r.error());
  if (auto r = containerd->client().pull(pauseRef); !r) return bail("pull", r.error());

  const Workload w{.image = busyboxRef, .cgroupParent = cgroupParent, .logRoot = dir / "logs"};
  const std::string monitorReal = fs::canonical(monitorPath).string();
  auto berthSample = [&](const Engine& e) {
    MemSample m;
    m.server = memOf(e.pid());
    m.monitor = memOf(cri_testing::pidsWhose([&](pid_t, const std::string& cmd) {
      return (cmd.starts_with(monitorPath) || cmd.starts_with(monitorReal)) &&
             cmd.find(dir.string()) != std::string::npos;
    }));
    m.perPod = m.monitor;
    return m;
  };
  auto containerdSample = [&](const Engine& e) {
    MemSample m;
    m.server = memOf(e.pid());
    auto shims = ctrd->shims();
    std::set<pid_t> shimSet(shims.begin(), shims.end());
    m.monitor = memOf(shims);
    m.pause = memOf(cri_testing::pidsWhose([&](pid_t p, const std::string& cmd) {
      return cmd.starts_with("/pause") && shimSet.count(statusFields(p)["PPid"]) > 0;
    }));
    m.perPod = m.monitor;
    m.perPod += m.pause;
    return m;
  };

  std::string version = sh("containerd --version | awk '{print $3}'");
  version = version.substr(0, version.find('\n'));
  std::printf(
      "berth-cri vs containerd %s (CRI plugin, runc.v2 shim, %s): %d sequential pods, "
      "%d rounds of %d in parallel\n",
      version.c_str(), runcPath.c_str(), pods, rounds, parallel);
  std::fflush(stdout);
  Timings tb, tc, tr;
  MemSample mb, mc;
  if (auto r = benchEngine(*berth, w, "", pods, parallel, rounds, tb, &mb, berthSample); !r)
    return bail("berth-cri", r.error());
  if (auto r = benchEngine(*containerd, w, "", pods, parallel, rounds, tc, &mc, containerdSample);
      !r)
    return bail("containerd", r.error());
  if (auto r = benchEngine(*berth, w, "runc", pods, 0, 0, tr, nullptr, berthSample); !r)
    return bail("berth-cri (runc)", r.error());
  Mem berthPeak = memOf(berth->pid());
  Mem ctrdPeak = memOf(containerd->pid());
  // Last, so the namespaces it releases slow no engine: the kernel alone doing a pod's network
  // (a fresh netns and a veth pair into it, the pair deleted, the netns released) back to back.
  auto floor = bench::measureVethFloor(pods, "", fmt::format("bfloor{}", ::getpid() % 100000));
  if (!floor) return bail("kernel floor", floor.error());

  std::printf("\n%-34s %12s %12s %9s\n", "time (median)", "berth-cri", "containerd", "ratio");
  printRow("up, sequential (per pod)", median(tb.seqUp), median(tc.seqUp), "ms");
  printRow("down, sequential (per pod)", median(tb.seqDown), median(tc.seqDown), "ms");
  printRow(fmt::format("up, {} in parallel (wall)", parallel).c_str(), median(tb.parUp),
           median(tc.parUp), "ms");
  printRow(fmt::format("down, {} in parallel (wall)", parallel).c_str(), median(tb.parDown),
           median(tc.parDown), "ms");
  int status = 0;
  for (const auto* t : {&tb, &tc}) {
    if (t->parError.empty()) continue;
    std::printf("  parallel rounds of %s FAILED (times above include the failed round): %s\n",
                t == &tb ? "berth-cri" : "containerd", t->parError.c_str());
    status = 1;
  }
  // A sequential pod's up and down together, and what is left of it above the kernel's floor:
  // deleting the veth waits for an RCU barrier, and the kernel's cleanup of the released netns
  // takes two more under the same mutex, so back to back pods can't cycle faster than the
  // floor whoever drives them; a fast up leaves that wait to the next pod's down.
  auto cycle = [](const Timings& t) {
    std::vector<double> v;
    for (size_t i = 0; i < t.seqUp.size() && i < t.seqDown.size(); ++i)
      v.push_back(t.seqUp[i] + t.seqDown[i]);
    return median(v);
  };
  printRow("up + down, sequential (per pod)", cycle(tb), cycle(tc), "ms");
  std::printf("%-34s %12.1f %12.1f %9s   ms\n", "  kernel floor per sequential pod", floor->cycleMs,
              floor->cycleMs, "");
  printRow("  up + down above the floor", cycle(tb) - floor->cycleMs, cycle(tc) - floor->cycleMs,
           "ms");
  printRow("up, sequential, berth-cri + runc", median(tr.seqUp), median(tc.seqUp), "ms");
  printRow("down, sequential, berth-cri + runc", median(tr.seqDown), median(tc.seqDown), "ms");

  std::printf("\n%-34s %12s %12s %9s %12s\n", "per RPC, sequential (median)", "berth-cri",
              "containerd", "ratio", "berth+runc");
  for (const char* rpc : {"RunPodSandbox", "CreateContainer", "StartContainer", "StopContainer",
                          "RemoveContainer", "StopPodSandbox", "RemovePodSandbox"}) {
    double b = median(tb.rpc[rpc]), c = median(tc.rpc[rpc]);
    std::printf("%-34s %12.1f %12.1f %9.2f %12.1f   ms\n", rpc, b, c, c > 0 ? b / c : 0,
                median(tr.rpc[rpc]));
  }

  auto perProc = [](const Mem& m, double Mem::*field) {
    return m.count > 0 ? m.*field / m.count / 1024.0 : 0.0;
  };
  std::printf("\n%-34s %12s %12s %9s\n", fmt::format("memory ({} pods running)", parallel).c_str(),
              "berth-cri", "containerd", "ratio");
  printRow("server RSS", mb.server.rssKb / 1024, mc.server.rssKb / 1024, "MB");
  printRow("server PSS", mb.server.pssKb / 1024, mc.server.pssKb / 1024, "MB");
  printRow("server peak RSS (VmHWM, whole run)", berthPeak.hwmKb / 1024, ctrdPeak.hwmKb / 1024,
           "MB");
  printRow("per-pod processes, RSS sum", mb.perPod.rssKb / 1024, mc.perPod.rssKb / 1024, "MB");
  printRow("per-pod processes, PSS sum", mb.perPod.pssKb / 1024, mc.perPod.pssKb / 1024, "MB");
  printRow("server + per-pod, PSS", (mb.server.pssKb + mb.perPod.pssKb) / 1024,
           (mc.server.pssKb + mc.perPod.pssKb) / 1024, "MB");
  printRow("monitor vs shim, RSS each", perProc(mb.monitor, &Mem::rssKb),
           perProc(mc.monitor, &Mem::rssKb), "MB");
  printRow("monitor vs shim, PSS each", perProc(mb.monitor, &Mem::pssKb),
           perProc(mc.monitor, &Mem::pssKb), "MB");
  std::printf(
      "(per-pod processes: berth-monitor x%d | containerd-shim-runc-v2 x%d + pause x%d, "
      "pause RSS %.1f MB each; berth-monitor vs conmon: bench.monitor)\n",
      mb.monitor.count, mc.monitor.count, mc.pause.count, perProc(mc.pause, &Mem::rssKb));
  std::printf("targets: time ratio <= 0.33, monitor no larger than the shim / conmon\n");
  return status;
}

}  // namespace

int main() {
  return runBench(BERTH_CRI_PATH, BERTH_MONITOR_PATH, BERTH_POD_INIT_PATH, BERTH_RUNTIME_PATH,
                  BERTH_CNI_BIN_DIR);
}
