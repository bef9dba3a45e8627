// Resource limits really enforced, on what this host has: on a v1/hybrid host the v1 controllers
// (nested under the test's own cgroup); the eBPF device filter on the cgroup2 hierarchy. The
// v2 cgroupfs and systemd drivers are exercised by the vm tier (tests/vm).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "common/file_util.h"
#include "runtime/cgroup_manager.h"
#include "runtime/device_filter.h"
#include "tests/integration/runtime_fixture.h"

namespace berth::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

class Cgroups : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    if (IsSkipped()) return;
    struct statfs st {};
    if (::statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == 0x63677270)
      GTEST_SKIP() << "a cgroup v2 host: these are the v1 driver's tests (see tests/vm)";
  }
  fs::path dirOf(const std::string& controller) {
    for (const auto& d : cgroupDirs("ctr"))
      if (d.string().find("/" + controller + "/") != std::string::npos) return d;
    return {};
  }
};

TEST_F(Cgroups, MemoryLimitOomKillsTheHog) {
  // dd's 64 MiB buffer in a 16 MiB cgroup: the OOM killer takes dd (status 137), sh lives on.
  auto c = defaultConfig({"sh", "-c",
                          "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; "
                          "dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null && echo "
                          "completed || echo killed-$?"});
  c["linux"]["resources"]["memory"] = {{"limit", 16 << 20}, {"swap", 16 << 20}};
  auto r = runContainer(c, "ctr");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, std::to_string(16 << 20) + "\nkilled-137\n");
}

TEST_F(Cgroups, PidsLimitStopsAForkBomb) {
  // A child shell forks until it can't (busybox sh then gives up); the parent only uses builtins.
  auto c = defaultConfig({"sh", "-c",
                          "sh -c 'while :; do sleep 100 & done'; "
                          "read n < /sys/fs/cgroup/pids/pids.current; "
                          "read m < /sys/fs/cgroup/pids/pids.max; echo $n $m"});
  c["linux"]["resources"]["pids"] = {{"limit", 10}};
  auto r = runContainer(c, "ctr");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("can't fork"), std::string::npos) << r.err;
  int current = 0, max = 0;
  std::istringstream(r.out) >> current >> max;
  EXPECT_EQ(max, 10);
  EXPECT_GE(current, 8);  // the sleeps the limit let through are still there
  EXPECT_LE(current, 10);
}

// Every line of a /proc/<pid>/cgroup text names the container's cgroup (v1 hierarchies and the
// bare cgroup2 one of a hybrid host alike).
void expectInEveryHierarchy(const std::string& procCgroup, const std::string& cgroupsPath) {
  std::istringstream lines(procCgroup);
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    std::string path = line.substr(line.find(':', line.find(':') + 1) + 1);
    EXPECT_TRUE(path.ends_with("/" + cgroupsPath)) << line;
  }
  EXPECT_GT(n, 1) << procCgroup;
}

TEST_F(Cgroups, InitAndExecJoinEveryHierarchyAndNothingElseDoes) {
  // The container process and an exec'd one move themselves (v1 `tasks`) and are cloned into the
  // cgroup2 directory: every hierarchy lists them, and with pids.max 2 (init + one exec) neither
  // the runtime nor its intermediate process may count against the limit.
  auto c = defaultConfig({"sleep", "1000"});
  c["linux"]["resources"]["pids"] = {{"limit", 2}};
  writeConfig(c);
  std::string path = c["linux"]["cgroupsPath"];
  ASSERT_EQ(runtimeDetached({"run", "-d", "ctr"}).code, 0);
  auto e = runtime({"exec", "ctr", "cat", "/proc/self/cgroup"});
  ASSERT_EQ(e.code, 0) << e.err;
  expectInEveryHierarchy(e.out, path);
  fs::path pids = dirOf("pids");
  ASSERT_FALSE(pids.empty());
  auto tasks = readFile(pids / "tasks");
  ASSERT_TRUE(tasks);
  auto st = runtime({"state", "ctr"});
  ASSERT_EQ(st.code, 0) << st.err;
  int initPid = json::parse(st.out)["pid"];
  EXPECT_EQ(*tasks, std::to_string(initPid) + "\n");
  expectInEveryHierarchy(readFile(fmt::format("/proc/{}/cgroup", initPid)).value_or(""), path);
  EXPECT_EQ(runtime({"delete", "-f", "ctr"}).code, 0);
}

TEST_F(Cgroups, CpuAndBlkioFilesAreWritten) {
  writeConfig([&] {
    auto c = defaultConfig({"sleep", "1000"});
    c["linux"]["resources"]["cpu"] = {{"shares", 512}, {"quota", 20000}, {"period", 100000}};
    c["linux"]["resources"]["memory"] = {{"reservation", 8 << 20}};
    return c;
  }());
  ASSERT_EQ(runtimeDetached({"run", "-d", "c"}).code, 0);
  fs::path cpu = dirOf("cpu");
  ASSERT_FALSE(cpu.empty());
  EXPECT_EQ(readFile(cpu / "cpu.shares").value(), "512\n");
  EXPECT_EQ(readFile(cpu / "cpu.cfs_quota_us").value(), "20000\n");
  EXPECT_EQ(readFile(cpu / "cpu.cfs_period_us").value(), "100000\n");
  EXPECT_EQ(readFile(dirOf("memory") / "memory.soft_limit_in_bytes").value(),
            std::to_string(8 << 20) + "\n");
}

TEST_F(Cgroups, DeviceRulesDenyAndAllow) {
  // The default spec denies everything, then runc's allow list (appended after the spec's
  // rules) lets the default /dev through; a /dev/sda-like node made by the container is denied.
  auto c = defaultConfig({"sh", "-c",
                          "echo x > /dev/null && echo null-ok; "
                          "mknod /tmp/disk b 8 0 && (head -c1 /tmp/disk >/dev/null 2>&1 && "
                          "echo disk-readable || echo disk-denied); "
                          "grep -c 'c 1:3 rwm' /sys/fs/cgroup/devices/devices.list"});
  addCapability(c, "CAP_MKNOD");
  auto r = runContainer(c, "ctr");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "null-ok\ndisk-denied\n1\n");
}

TEST_F(Cgroups, ControllerOrKernelFileMissingIsAnErrorNamingTheField) {
  auto c = defaultConfig({"true"});
  c["linux"]["resources"]["hugepageLimits"] = json::array({{{"pageSize", "7MB"}, {"limit", 1}}});
  auto r = runContainer(c, "ctr");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("linux.resources.hugepageLimits[0]"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(stateRoot() / "ctr"));
  for (const auto& d : cgroupDirs("ctr"))
    EXPECT_FALSE(fs::exists(d)) << d;
}

TEST_F(Cgroups, EbpfDeviceFilterOnTheUnifiedHierarchy) {
  // The v2 device control, exercised on this host's cgroup2 mount: a cgroup of our own there, a
  // filter that denies /dev/null, and a process moved into it.
  std::ifstream own("/proc/self/cgroup");
  std::string line, path;
  while (std::getline(own, line))
    if (line.rfind("0::", 0) == 0) path = line.substr(3);
  if (path.empty() || !fs::exists("/sys/fs/cgroup/unified/cgroup.procs"))
    GTEST_SKIP() << "no cgroup2 hierarchy mounted";
  fs::path dir = fs::path("/sys/fs/cgroup/unified") / fs::path(path).relative_path() /
                 fmt::format("berth-ebpf-{}", ::getpid());
  fs::create_directories(dir);
  auto program = runtime::compileDeviceFilter(
      {{true, "a", std::nullopt, std::nullopt, "rwm"}, {false, "c", 1, 3, "rw"}});
  ASSERT_TRUE(program);
  auto st = runtime::attachDeviceFilter(dir.string(), *program);
  ASSERT_TRUE(st) << st.error().message();
  // Attaching again replaces the program instead of stacking a second one.
  ASSERT_TRUE(runtime::attachDeviceFilter(dir.string(), *program));
  pid_t pid = ::fork();
  if (pid == 0) {
    std::ofstream(dir / "cgroup.procs") << ::getpid();
    int nul = ::open("/dev/null", O_WRONLY);
    int zero = ::open("/dev/zero", O_RDONLY);
    _exit((nul < 0 && errno == EPERM ? 0 : 1) | (zero >= 0 ? 0 : 2));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::rmdir(dir.c_str());
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: /dev/null was not denied, 2: /dev/zero was denied";
}

TEST_F(Cgroups, UpdateChangesLimitsAndRemembersThem) {
  auto c = defaultConfig({"sleep", "1000"});
  c["linux"]["resources"]["memory"] = {{"limit", 32 << 20}};
  c["linux"]["resources"]["pids"] = {{"limit", 20}};
  writeConfig(c);
  ASSERT_EQ(runtimeDetached({"run", "-d", "c"}).code, 0);
  fs::path memory = dirOf("memory"), pids = dirOf("pids"), cpu = dirOf("cpu");
  ASSERT_FALSE(memory.empty());
  auto r = runtime({"update", "--memory", "50M", "--pids-limit", "10", "--cpu-share", "256", "c"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(readFile(memory / "memory.limit_in_bytes").value(), "52428800\n");
  EXPECT_EQ(readFile(pids / "pids.max").value(), "10\n");
  EXPECT_EQ(readFile(cpu / "cpu.shares").value(), "256\n");
  // -r from stdin, merged with what was set before.
  r = runtime({"update", "-r", "-", "c"}, R"({"cpu": {"quota": 30000, "period": 100000}})");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(readFile(cpu / "cpu.cfs_quota_us").value(), "30000\n");
  EXPECT_EQ(readFile(memory / "memory.limit_in_bytes").value(), "52428800\n");
  // Updating pauses nothing and survives in the saved config.
  auto saved = json::parse(readFile(stateRoot() / "c" / "config.json").value());
  EXPECT_EQ(saved["linux"]["resources"]["pids"]["limit"], 10);
  auto bad = runtime({"update", "--memory", "lots", "c"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("--memory: invalid size"), std::string::npos) << bad.err;
  bad = runtime({"update", "-r", "-", "c"}, R"({"pids": {"limit": "x"}})");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("linux.resources.pids.limit"), std::string::npos) << bad.err;
}

TEST_F(Cgroups, EventsStatsAndOomStream) {
  auto c = defaultConfig({"sleep", "1000"});
  c["linux"]["resources"]["memory"] = {{"limit", 16 << 20}, {"swap", 16 << 20}};
  writeConfig(c);
  ASSERT_EQ(runtimeDetached({"run", "-d", "c"}).code, 0);
  auto once = runtime({"events", "--stats", "c"});
  ASSERT_EQ(once.code, 0) << once.err;
  auto stats = json::parse(once.out);
  EXPECT_EQ(stats["type"], "stats");
  EXPECT_EQ(stats["id"], "c");
  EXPECT_EQ(stats["data"]["memory"]["usage"]["limit"], 16 << 20);
  EXPECT_GE(stats["data"]["pids"]["current"].get<int>(), 1);
  EXPECT_GT(stats["data"]["cpu"]["usage"]["total"].get<uint64_t>(), 0u);

  // The stream: stats every 50ms, an OOM event when a hog is killed, the end when the
  // container goes away.
  SpawnOptions o;
  o.path = runtimePath();
  o.args = {o.path, "--root", stateRoot().string(), "events", "--interval", "50ms", "c"};
  o.outputFile = (dir() / "events.log").string();
  o.timeout = std::chrono::seconds(60);
  pid_t pid = ::fork();
  if (pid == 0) {
    auto r = runProgram(o);
    _exit(r ? r->status.code : 99);
  }
  auto hog = runtime({"exec", "c", "sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1"});
  EXPECT_EQ(hog.code, 137) << hog.err;
  // Bounded wait for an OOM and a stats line, then stop the container, which ends the stream.
  std::string log;
  for (int i = 0; i < 500 && (log.find("\"oom\"") == std::string::npos ||
                              log.find("\"stats\"") == std::string::npos);
       ++i) {
    ::usleep(10000);
    log = readFile(dir() / "events.log").value_or("");
  }
  ASSERT_EQ(runtime({"delete", "--force", "c"}).code, 0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  log = readFile(dir() / "events.log").value_or("");
  EXPECT_NE(log.find(R"({"type":"oom","id":"c"})"), std::string::npos) << log;
  EXPECT_NE(log.find(R"({"type":"stats","id":"c","data":{)"), std::string::npos) << log;
}

// The cgroup v2 cgroupfs driver: runs where /sys/fs/cgroup is cgroup2 (the vm tier).
class CgroupsV2 : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    if (IsSkipped()) return;
    struct statfs st {};
    if (::statfs("/sys/fs/cgroup", &st) != 0 || st.f_type != 0x63677270)
      GTEST_SKIP() << "not a cgroup v2 host (runs in the vm tier)";
  }
};

TEST_F(CgroupsV2, LimitsAreWrittenAndEnforced) {
  auto c = defaultConfig({"sh", "-c",
                          "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max "
                          "/sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.weight; "
                          "dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null && echo "
                          "completed || echo killed-$?"});
  c["linux"]["namespaces"].push_back({{"type", "cgroup"}});
  c["linux"]["resources"]["memory"] = {{"limit", 16 << 20}, {"swap", 16 << 20}};
  c["linux"]["resources"]["pids"] = {{"limit", 30}};
  c["linux"]["resources"]["cpu"] = {{"shares", 1024}, {"quota", 50000}, {"period", 100000}};
  auto r = runContainer(c, "ctr");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("{}\n30\n50000 100000\n39\nkilled-137\n", 16 << 20));
}

TEST_F(CgroupsV2, EveryControllerIsDelegatedWithoutLimits) {
  // As runc: a container that asks for no limits still gets memory, cpu, io and pids accounting
  // (the kubelet's stats read memory.current and cpu.stat). A cgroup namespace shows its files.
  auto c = defaultConfig({"sh", "-c",
                          "for f in memory.current pids.current io.stat cpu.stat; do "
                          "test -e /sys/fs/cgroup/$f && echo $f; done"});
  c["linux"]["namespaces"].push_back({{"type", "cgroup"}});
  auto r = runContainer(c, "ctr");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "memory.current\npids.current\nio.stat\ncpu.stat\n");
}

TEST_F(CgroupsV2, ForkBombStopsAtPidsMax) {
  auto c = defaultConfig({"sh", "-c",
                          "sh -c 'while :; do sleep 100 & done'; "
                          "read n < /sys/fs/cgroup/pids.current; echo $n"});
  c["linux"]["namespaces"].push_back({{"type", "cgroup"}});
  c["linux"]["resources"]["pids"] = {{"limit", 10}};
  auto r = runContainer(c, "ctr");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("can't fork"), std::string::npos) << r.err;
  EXPECT_LE(std::stoi(r.out), 10);
}

TEST_F(CgroupsV2, CpuMaxThrottles) {
  // A busy loop under a 10% quota: cpu.stat shows throttled periods.
  auto c = defaultConfig({"sh", "-c",
                          "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; "
                          "grep nr_throttled /sys/fs/cgroup/cpu.stat"});
  c["linux"]["namespaces"].push_back({{"type", "cgroup"}});
  c["linux"]["resources"]["cpu"] = {{"quota", 10000}, {"period", 100000}};
  auto r = runContainer(c, "ctr");
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(r.out.rfind("nr_throttled ", 0), 0u) << r.out;
  EXPECT_GT(std::stoi(r.out.substr(13)), 0) << r.out;
}

TEST_F(CgroupsV2, DevicesThroughTheEbpfFilter) {
  auto c = defaultConfig({"sh", "-c",
                          "echo x > /dev/null && echo null-ok; "
                          "mknod /tmp/disk b 8 0 && (head -c1 /tmp/disk >/dev/null 2>&1 && "
                          "echo disk-readable || echo disk-denied)"});
  addCapability(c, "CAP_MKNOD");
  auto r = runContainer(c, "ctr");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "null-ok\ndisk-denied\n");
}

TEST_F(CgroupsV2, UnifiedKeysAndUpdate) {
  auto c = defaultConfig({"sleep", "1000"});
  c["linux"]["resources"]["unified"] = {{"memory.high", "33554432"}, {"pids.max", "42"}};
  writeConfig(c);
  ASSERT_EQ(runtimeDetached({"run", "-d", "c"}).code, 0);
  auto dirs = cgroupDirs("ctr");
  ASSERT_EQ(dirs.size(), 1u);
  EXPECT_EQ(readFile(dirs[0] / "memory.high").value(), "33554432\n");
  EXPECT_EQ(readFile(dirs[0] / "pids.max").value(), "42\n");
  auto r = runtime({"update", "--memory", "64M", "--cpu-quota", "20000", "c"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(readFile(dirs[0] / "memory.max").value(), "67108864\n");
  EXPECT_EQ(readFile(dirs[0] / "cpu.max").value().rfind("20000 ", 0), 0u);
  auto stats = json::parse(runtime({"events", "--stats", "c"}).out);
  EXPECT_EQ(stats["data"]["memory"]["usage"]["limit"], 67108864);
  ASSERT_EQ(runtime({"pause", "c"}).code, 0);
  EXPECT_EQ(readFile(dirs[0] / "cgroup.freeze").value(), "1\n");
  EXPECT_EQ(state("c")["status"], "paused");
  ASSERT_EQ(runtime({"resume", "c"}).code, 0);
  ASSERT_EQ(runtime({"delete", "--force", "c"}).code, 0);
  EXPECT_FALSE(fs::exists(dirs[0]));
}

// The systemd driver: systemd as PID 1 on a cgroup v2 host (the vm tier).
class CgroupsSystemd : public CgroupsV2 {
 protected:
  void SetUp() override {
    CgroupsV2::SetUp();
    if (IsSkipped()) return;
    if (!fs::exists("/run/systemd/private")) GTEST_SKIP() << "systemd is not PID 1";
  }
  static std::string systemctl(const std::vector<std::string>& args) {
    SpawnOptions o;
    o.path = "systemctl";
    o.args = {"systemctl"};
    o.args.insert(o.args.end(), args.begin(), args.end());
    o.captureStdout = true;
    auto r = runProgram(o);
    return r ? r->stdoutData : "";
  }
};

TEST_F(CgroupsSystemd, TransientScopeWithPropertiesAndDelegation) {
  auto c = defaultConfig({"sleep", "1000"});
  c["linux"]["cgroupsPath"] = "system.slice:berth-it:sd1";
  c["linux"]["resources"]["memory"] = {{"limit", 32 << 20}};
  c["linux"]["resources"]["pids"] = {{"limit", 40}};
  c["linux"]["resources"]["cpu"] = {{"quota", 25000}, {"period", 100000}};
  writeConfig(c);
  auto started = runtimeDetached({"--systemd-cgroup", "run", "-d", "sd1"});
  ASSERT_EQ(started.code, 0) << started.out;
  int pid = state("sd1")["pid"];
  auto cgroup = readFile(fmt::format("/proc/{}/cgroup", pid)).value();
  EXPECT_EQ(cgroup, "0::/system.slice/berth-it-sd1.scope\n");
  // systemd knows the limits as unit properties, and the cgroup has them.
  EXPECT_EQ(systemctl({"show", "-p", "MemoryMax", "-p", "TasksMax", "-p", "CPUQuotaPerSecUSec",
                       "-p", "Delegate", "berth-it-sd1.scope"}),
            "Delegate=yes\nCPUQuotaPerSecUSec=250ms\nMemoryMax=33554432\nTasksMax=40\n");
  fs::path dir = "/sys/fs/cgroup/system.slice/berth-it-sd1.scope";
  EXPECT_EQ(readFile(dir / "memory.max").value(), "33554432\n");
  EXPECT_EQ(readFile(dir / "pids.max").value(), "40\n");
  // exec joins the scope; update reaches it; delete stops the unit.
  auto e = runtime({"exec", "sd1", "cat", "/proc/self/cgroup"});
  EXPECT_EQ(e.out, "0::/system.slice/berth-it-sd1.scope\n") << e.err;
  ASSERT_EQ(runtime({"update", "--pids-limit", "20", "sd1"}).code, 0);
  EXPECT_EQ(readFile(dir / "pids.max").value(), "20\n");
  auto deleted = runtime({"--debug", "delete", "--force", "sd1"});
  ASSERT_EQ(deleted.code, 0) << deleted.err;
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_EQ(systemctl({"is-active", "berth-it-sd1.scope"}), "inactive\n");
}

TEST_F(CgroupsSystemd, BadCgroupsPathNamesTheField) {
  auto c = defaultConfig({"true"});
  c["linux"]["cgroupsPath"] = "not-a-slice-path";
  writeConfig(c);
  auto r = runtime({"--systemd-cgroup", "run", "bad"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("linux.cgroupsPath"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(stateRoot() / "bad"));
}

}  // namespace
}  // namespace berth::testing
