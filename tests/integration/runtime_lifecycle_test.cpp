// berth-runtime lifecycle (runtime-spec runtime.md), hooks, exec and console, driven through the
// command line as containerd's shim or runc's tests drive it.
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "common/file_util.h"
#include "common/unique_fd.h"
#include "common/unix_socket.h"
#include "tests/integration/runtime_fixture.h"

namespace berth::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

class Lifecycle : public RuntimeTest {};

TEST_F(Lifecycle, CreateStartKillDeleteMoveTheState) {
  writeConfig(defaultConfig({"sleep", "1000"}));
  fs::path pidFile = dir() / "pid";
  auto created = runtimeDetached({"create", "--pid-file", pidFile.string(), "c1"});
  ASSERT_EQ(created.code, 0) << created.out;
  json s = state("c1");
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s["status"], "created");
  EXPECT_EQ(s["id"], "c1");
  EXPECT_EQ(s["bundle"], bundle().string());
  int pid = s["pid"];
  EXPECT_GT(pid, 0);
  EXPECT_EQ(readFile(pidFile).value(), std::to_string(pid));
  EXPECT_TRUE(fs::exists(stateRoot() / "c1" / "exec.fifo"));
  // The init waits before exec: it is still the runtime, not sleep.
  EXPECT_EQ(readFile(fmt::format("/proc/{}/comm", pid)).value().rfind("sleep", 0),
            std::string::npos);
  for (const auto& d : cgroupDirs("ctr")) {
    EXPECT_TRUE(fs::exists(d)) << d;
    EXPECT_NE(readFile(d / "cgroup.procs").value_or("").find(std::to_string(pid)),
              std::string::npos)
        << d;
  }

  ASSERT_EQ(runtime({"start", "c1"}).code, 0);
  EXPECT_EQ(state("c1")["status"], "running");
  EXPECT_FALSE(fs::exists(stateRoot() / "c1" / "exec.fifo"));
  EXPECT_EQ(readFile(fmt::format("/proc/{}/comm", pid)).value(), "sleep\n");
  auto again = runtime({"start", "c1"});
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("cannot start an already running container"), std::string::npos);

  auto list = runtime({"list"});
  EXPECT_NE(list.out.find("c1"), std::string::npos);
  EXPECT_NE(list.out.find("running"), std::string::npos);
  auto listJson = json::parse(runtime({"list", "--format", "json"}).out);
  ASSERT_EQ(listJson.size(), 1u);
  EXPECT_EQ(listJson[0]["status"], "running");

  auto notStopped = runtime({"delete", "c1"});
  EXPECT_EQ(notStopped.code, 1);
  EXPECT_NE(notStopped.err.find("cannot delete container c1 that is not stopped: running"),
            std::string::npos);

  ASSERT_EQ(runtime({"kill", "c1", "KILL"}).code, 0);
  ASSERT_TRUE(waitForStatus("c1", "stopped"));
  EXPECT_EQ(state("c1")["pid"], 0);
  ASSERT_EQ(runtime({"delete", "c1"}).code, 0);
  EXPECT_FALSE(fs::exists(stateRoot() / "c1"));
  for (const auto& d : cgroupDirs("ctr"))
    EXPECT_FALSE(fs::exists(d)) << d;
  auto gone = runtime({"state", "c1"});
  EXPECT_EQ(gone.code, 1);
  EXPECT_NE(gone.err.find("container does not exist"), std::string::npos);
}

TEST_F(Lifecycle, DeleteOfCreatedContainerKillsIt) {
  writeConfig(defaultConfig({"true"}));
  ASSERT_EQ(runtimeDetached({"create", "c"}).code, 0);
  int pid = state("c")["pid"];
  ASSERT_EQ(runtime({"delete", "c"}).code, 0);
  EXPECT_FALSE(fs::exists(fmt::format("/proc/{}", pid)) &&
               readFile(fmt::format("/proc/{}/stat", pid)).value_or("").find(" Z ") ==
                   std::string::npos);
  EXPECT_FALSE(fs::exists(stateRoot() / "c"));
}

TEST_F(Lifecycle, CreatedInitHoldsNoSocketOfTheRuntime) {
  // Its sync socket is closed once it is ready, and it never holds the runtime's end (it would
  // not notice the runtime dying): without a terminal, a created init has no socket at all.
  writeConfig(defaultConfig({"true"}));
  ASSERT_EQ(runtimeDetached({"create", "c"}).code, 0);
  int pid = state("c")["pid"];
  for (const auto& fd : fs::directory_iterator(fmt::format("/proc/{}/fd", pid))) {
    std::error_code ec;
    std::string target = fs::read_symlink(fd.path(), ec).string();
    EXPECT_EQ(target.rfind("socket:", 0), std::string::npos) << fd.path() << " -> " << target;
  }
}

TEST_F(Lifecycle, ForceDeleteOfRunningAndMissingContainers) {
  writeConfig(defaultConfig({"sleep", "1000"}));
  ASSERT_EQ(runtimeDetached({"run", "-d", "c"}).code, 0);
  EXPECT_EQ(state("c")["status"], "running");
  ASSERT_EQ(runtime({"delete", "--force", "c"}).code, 0);
  EXPECT_FALSE(fs::exists(stateRoot() / "c"));
  EXPECT_EQ(runtime({"delete", "--force", "never-existed"}).code, 0);
  auto r = runtime({"delete", "never-existed"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("container does not exist"), std::string::npos);
}

TEST_F(Lifecycle, KillAllAndPauseResume) {
  writeConfig(defaultConfig({"sh", "-c", "sleep 1000 & sleep 1000 & wait"}));
  ASSERT_EQ(runtimeDetached({"run", "-d", "c"}).code, 0);
  auto pids = json::parse(runtime({"ps", "--format", "json", "c"}).out);
  for (int i = 0; i < 100 && pids.size() < 3; ++i) {
    ::usleep(10000);
    pids = json::parse(runtime({"ps", "--format", "json", "c"}).out);
  }
  EXPECT_EQ(pids.size(), 3u);
  ASSERT_EQ(runtime({"pause", "c"}).code, 0);
  EXPECT_EQ(state("c")["status"], "paused");
  ASSERT_EQ(runtime({"resume", "c"}).code, 0);
  EXPECT_EQ(state("c")["status"], "running");
  ASSERT_EQ(runtime({"kill", "--all", "c", "9"}).code, 0);
  ASSERT_TRUE(waitForStatus("c", "stopped"));
}

TEST_F(Lifecycle, HooksRunInOrderWithState) {
  fs::path log = dir() / "hooks.log";
  fs::path hook = dir() / "hook.sh";
  // Each hook records its name and the state's status; the container-namespace hooks write via
  // the bind-mounted log so their output is visible on the host.
  std::ofstream(hook) << "#!/bin/sh\nread -r state\nstatus=$(echo \"$state\" | sed "
                         "'s/.*\"status\":\"\\([a-z]*\\)\".*/\\1/')\n"
                         "echo \"$1 $status\" >> \"$2\"\n";
  fs::permissions(hook, fs::perms::owner_all);
  // The process waits for poststart, which start runs while the process already runs.
  auto c = defaultConfig({"sh", "-c",
                          "while ! grep -q poststart /hooklog/hooks.log; do :; done; "
                          "echo process >> /hooklog/hooks.log"});
  fs::create_directories(dir() / "hooklog");
  c["mounts"].push_back({{"destination", "/hooklog"},
                         {"type", "bind"},
                         {"source", dir().string()},
                         {"options", {"bind"}}});
  // Container hooks run with the container's root: give them the host's /bin/sh via the rootfs'
  // busybox, and the hook script through the bind mount.
  auto hostHook = [&](const char* name) {
    return json{{"path", hook.string()}, {"args", {"hook", name, log.string()}}};
  };
  auto ctrHook = [&](const char* name) {
    return json{{"path", "/bin/sh"},
                {"args", {"sh", "-c", fmt::format("echo {} >> /hooklog/hooks.log", name)}}};
  };
  c["hooks"] = {
      {"prestart", {hostHook("prestart")}},
      {"createRuntime", {hostHook("createRuntime")}},
      {"createContainer",
       {json{{"path", "/bin/sh"},
             {"args", {"sh", "-c", fmt::format("echo createContainer >> {}", log.string())}}}}},
      {"startContainer", {ctrHook("startContainer")}},
      {"poststart", {hostHook("poststart")}},
      {"poststop", {hostHook("poststop")}}};
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(readFile(log).value(),
            "prestart creating\ncreateRuntime creating\ncreateContainer\nstartContainer\n"
            "poststart running\nprocess\npoststop stopped\n");
}

TEST_F(Lifecycle, FailingHookFailsCreateAndLeavesNothing) {
  auto c = defaultConfig({"true"});
  c["hooks"] = {{"createRuntime", {{{"path", "/bin/false"}}}}};
  writeConfig(c);
  auto r = runtime({"create", "c"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("error running createRuntime hook #0"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(stateRoot() / "c"));
  for (const auto& d : cgroupDirs("ctr"))
    EXPECT_FALSE(fs::exists(d)) << d;
}

TEST_F(Lifecycle, HookTimeoutIsEnforced) {
  auto c = defaultConfig({"true"});
  c["hooks"] = {
      {"prestart", {{{"path", "/bin/sleep"}, {"args", {"sleep", "30"}}, {"timeout", 1}}}}};
  writeConfig(c);
  auto r = runtime({"run", "c"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("did not exit within 1000ms"), std::string::npos) << r.err;
}

TEST_F(Lifecycle, ExecJoinsEveryNamespaceAndTheCgroup) {
  auto c = defaultConfig({"sleep", "1000"});
  c["linux"]["namespaces"].push_back({{"type", "cgroup"}});
  writeConfig(c);
  ASSERT_EQ(runtimeDetached({"run", "-d", "c"}).code, 0);
  int pid = state("c")["pid"];
  auto r = runtime({"exec", "c", "sh", "-c",
                    "for n in pid net mnt ipc uts cgroup; do readlink /proc/self/ns/$n; done; "
                    "echo $$; hostname; exit 7"});
  ASSERT_EQ(r.code, 7) << r.err;
  std::string want;
  for (const char* n : {"pid", "net", "mnt", "ipc", "uts", "cgroup"}) {
    char buf[128] = {};
    ASSERT_GT(::readlink(fmt::format("/proc/{}/ns/{}", pid, n).c_str(), buf, sizeof buf - 1), 0);
    want += std::string(buf) + "\n";
  }
  EXPECT_EQ(r.out.substr(0, want.size()), want);
  EXPECT_NE(r.out.substr(want.size()), "1\n");  // not the init
  auto env = runtime({"exec", "--env", "X=1", "--cwd", "/tmp", "--user", "1000:1000", "c", "sh",
                      "-c", "echo $X $(pwd) $(id -u)"});
  EXPECT_EQ(env.out, "1 /tmp 1000\n") << env.err;
  // runc: a failed exec exits 255, apart from any status of the process.
  auto stopped = runtime({"exec", "nope", "true"});
  EXPECT_EQ(stopped.code, 255);
  EXPECT_NE(stopped.err.find("exec failed: container does not exist"), std::string::npos);
}

TEST_F(Lifecycle, ExecWithProcessFileAndDetach) {
  writeConfig(defaultConfig({"sleep", "1000"}));
  ASSERT_EQ(runtimeDetached({"run", "-d", "c"}).code, 0);
  json process = {{"args", {"sh", "-c", "echo from-process-file > /tmp/out"}},
                  {"env", {"PATH=/bin:/usr/bin"}},
                  {"cwd", "/"},
                  {"user", {{"uid", 0}, {"gid", 0}}}};
  std::ofstream(dir() / "process.json") << process.dump();
  fs::path pidFile = dir() / "exec.pid";
  auto r = runtimeDetached({"exec", "-d", "--pid-file", pidFile.string(), "--process",
                            (dir() / "process.json").string(), "c"});
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(pidFile));
  auto out =
      runtime({"exec", "c", "sh", "-c", "while [ ! -s /tmp/out ]; do :; done; cat /tmp/out"});
  EXPECT_EQ(out.out, "from-process-file\n");
}

// Listens on a unix socket like runc's recvtty and receives the pty master.
class ConsoleSocket {
 public:
  explicit ConsoleSocket(const fs::path& path) : path_(path) {
    auto fd = listenUnix(path.string(), SOCK_STREAM, 1);
    EXPECT_TRUE(fd) << fd.error().message();
    if (fd) fd_ = std::move(*fd);
  }
  UniqueFd receiveMaster() {
    UniqueFd conn(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    auto master = receiveFd(conn.get());
    return master ? std::move(*master) : UniqueFd();
  }

 private:
  fs::path path_;
  UniqueFd fd_;
};

TEST_F(Lifecycle, ConsoleSocketReceivesAWorkingPty) {
  auto c = defaultConfig({"sh", "-c", "tty; read line; echo got:$line"});
  c["process"]["terminal"] = true;
  writeConfig(c);
  ConsoleSocket sock(dir() / "console.sock");
  auto r = runtimeDetached({"create", "--console-socket", (dir() / "console.sock").string(), "c"});
  ASSERT_EQ(r.code, 0) << r.out;
  UniqueFd master = sock.receiveMaster();
  ASSERT_TRUE(master);
  ASSERT_EQ(runtime({"start", "c"}).code, 0);
  ASSERT_EQ(::write(master.get(), "ping\n", 5), 5);
  std::string seen;
  char buf[256];
  while (seen.find("got:ping") == std::string::npos) {
    ssize_t n = ::read(master.get(), buf, sizeof buf);
    if (n <= 0) break;
    seen.append(buf, static_cast<size_t>(n));
  }
  EXPECT_NE(seen.find("/dev/pts/0"), std::string::npos) << seen;
  EXPECT_NE(seen.find("got:ping"), std::string::npos) << seen;
  ASSERT_TRUE(waitForStatus("c", "stopped"));
}

TEST_F(Lifecycle, TerminalWithoutConsoleSocketIsRefusedForCreate) {
  auto c = defaultConfig({"sh"});
  c["process"]["terminal"] = true;
  writeConfig(c);
  auto r = runtime({"create", "c"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot allocate tty if runc will detach without setting console socket"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(stateRoot() / "c"));
}

TEST_F(Lifecycle, JsonLogFormatForContainerd) {
  fs::path log = dir() / "log.json";
  auto r = runtime({"--log", log.string(), "--log-format", "json", "state", "missing"});
  // runc writes the error to the log, and plainly to stderr when logging to a file.
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "container does not exist\n");
  auto line = json::parse(readFile(log).value());
  EXPECT_EQ(line["level"], "error");
  EXPECT_EQ(line["msg"], "container does not exist");
  EXPECT_TRUE(line["time"].is_string());
}

TEST_F(Lifecycle, StartOfAContainerThatExitsAtOnceUnderAReapingParent) {
  // containerd's shim is a subreaper that reaps at once: the init may exec, exit and be gone
  // before `start` returns. That is a successful start, not "already dead".
  writeConfig(defaultConfig({"true"}));
  for (int i = 0; i < 20; ++i) {
    std::string id = fmt::format("q{}", i);
    ASSERT_EQ(runtimeDetached({"create", id}).code, 0);
    auto r = runtime({"start", id});
    EXPECT_EQ(r.code, 0) << r.err;
    ASSERT_TRUE(waitForStatus(id, "stopped"));
    ASSERT_EQ(runtime({"delete", id}).code, 0);
  }
}

TEST_F(Lifecycle, StateRootIsCreatedWithItsParents) {
  writeConfig(defaultConfig({"true"}));
  fs::path deep = dir() / "a" / "b" / "root";
  SpawnOptions o;
  o.path = runtimePath();
  o.args = {o.path, "--root", deep.string(), "run", "c"};
  o.cwd = bundle().string();
  o.captureStderr = true;
  auto r = runProgram(o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status.code, 0) << r->stderrData;
  EXPECT_EQ(fs::status(deep).permissions() & fs::perms::all, fs::perms::owner_all);
}

}  // namespace
}  // namespace berth::testing
