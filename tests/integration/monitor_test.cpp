// berth-monitor with berth-runtime under it: a real container's output in the CRI log, its exit
// in the exit file, attach, the tty, log reopening, and failures that leave nothing behind.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>

#include "common/file_util.h"
#include "common/unix_socket.h"
#include "shim/monitor/exit_record.h"
#include "shim/monitor/monitor_protocol.h"
#include "tests/integration/runtime_fixture.h"

namespace berth::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct Started {
  json report;         // what came on the sync fd
  int firstExit = -1;  // the exit status of the process we started (it forks the monitor off)
};

class Monitor : public RuntimeTest {
 protected:
  fs::path socketDir() const { return dir() / "mon"; }
  fs::path logPath() const { return dir() / "0.log"; }
  fs::path exitFile() const { return dir() / "exit"; }

  // Starts berth-monitor as berth-cri does and reads its report until the sync pipe closes.
  Started startMonitor(const std::string& id, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {BERTH_MONITOR_PATH,
                                     "--id",
                                     id,
                                     "--bundle",
                                     bundle().string(),
                                     "--runtime",
                                     runtimePath(),
                                     "--runtime-arg=--root=" + stateRoot().string(),
                                     "--log-path",
                                     logPath().string(),
                                     "--exit-file",
                                     exitFile().string(),
                                     "--socket-dir",
                                     socketDir().string(),
                                     "--sync-fd",
                                     "3"};
    args.insert(args.end(), extra.begin(), extra.end());
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    std::string errPath = (dir() / "monitor.err").string();
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(fds[1], 3);
      int err = ::open(errPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(err, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
      out.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    Started s;
    s.firstExit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    s.report = json::parse(out, nullptr, false);
    return s;
  }

  // Waits (bounded) for the monitor to record the exit.
  std::optional<shim::ExitRecord> waitForExit() {
    for (int i = 0; i < 1000; ++i) {
      if (auto r = shim::readExitRecord(exitFile())) return *r;
      ::usleep(10000);
    }
    return std::nullopt;
  }

  // Waits (bounded) until the log holds `text`.
  bool waitForLog(const std::string& text, const fs::path& path) {
    for (int i = 0; i < 1000; ++i) {
      if (readFile(path).value_or("").find(text) != std::string::npos) return true;
      ::usleep(10000);
    }
    return false;
  }

  std::string logText() { return readFile(logPath()).value_or("<no log>"); }

  static std::string request(int sock, const std::string& message) {
    if (::send(sock, message.data(), message.size(), 0) < 0) return "send failed";
    char buf[512];
    ssize_t n = ::recv(sock, buf, sizeof buf, 0);
    return n < 0 ? "recv failed" : std::string(buf, static_cast<size_t>(n));
  }

  UniqueFd connect(std::string_view name) {
    auto fd = connectUnix((socketDir() / name).string(), SOCK_SEQPACKET);
    EXPECT_TRUE(fd) << fd.error().message();
    return fd ? std::move(*fd) : UniqueFd();
  }
};

TEST_F(Monitor, WritesTheCriLogAndRecordsTheExit) {
  writeConfig(defaultConfig({"sh", "-c", "echo out; echo err >&2; printf 'no newline'; exit 3"}));
  auto s = startMonitor("c");
  EXPECT_EQ(s.firstExit, 0);
  ASSERT_TRUE(s.report.contains("pid")) << s.report.dump();
  pid_t pid = s.report["pid"].get<pid_t>();
  EXPECT_EQ(state("c")["pid"], pid);
  EXPECT_EQ(state("c")["status"], "created");
  ASSERT_EQ(runtime({"start", "c"}).code, 0);
  auto exit = waitForExit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exitCode, 3);
  EXPECT_EQ(exit->signal, 0);
  std::string log = logText();
  const std::string ts = R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z)";
  EXPECT_TRUE(std::regex_search(log, std::regex("^" + ts + " stdout F out\n"))) << log;
  EXPECT_TRUE(std::regex_search(log, std::regex(ts + " stderr F err\n"))) << log;
  EXPECT_TRUE(std::regex_search(log, std::regex(ts + " stdout F no newline\n$"))) << log;
  // The monitor is gone and took its sockets and pid file with it.
  for (int i = 0; i < 500 && fs::exists(socketDir() / "attach"); ++i)
    ::usleep(10000);
  EXPECT_FALSE(fs::exists(socketDir() / "attach"));
  EXPECT_FALSE(fs::exists(socketDir() / "ctl"));
  EXPECT_FALSE(fs::exists(socketDir() / "pid"));
  EXPECT_EQ(runtime({"delete", "c"}).code, 0);
}

TEST_F(Monitor, IsADetachedSubreaperThatRecordsAKill) {
  writeConfig(defaultConfig({"sleep", "100"}));
  auto s = startMonitor("c");
  ASSERT_TRUE(s.report.contains("pid")) << s.report.dump();
  pid_t pid = s.report["pid"].get<pid_t>();
  // The init's parent is the monitor (its subreaper), which runs in its own session, detached
  // from the process that started it.
  auto stat = readFile(fmt::format("/proc/{}/stat", pid));
  ASSERT_TRUE(stat);
  std::istringstream fields(stat->substr(stat->rfind(')') + 2));
  std::string st;
  pid_t monitor = 0;
  fields >> st >> monitor;
  EXPECT_EQ(readFile(fmt::format("/proc/{}/comm", monitor)).value_or(""), "berth-monitor\n");
  EXPECT_EQ(::getsid(monitor), monitor);
  EXPECT_NE(::getpgid(monitor), ::getpgid(0));
  ASSERT_EQ(runtime({"start", "c"}).code, 0);
  ASSERT_EQ(runtime({"kill", "c", "KILL"}).code, 0);
  auto exit = waitForExit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->signal, 9);
  EXPECT_EQ(exit->exitCode, 137);
  EXPECT_GT(exit->exitedAtNs, 0);
  EXPECT_EQ(runtime({"delete", "c"}).code, 0);
}

TEST_F(Monitor, LongLinesArePartialRecords) {
  writeConfig(defaultConfig({"sh", "-c", "printf '%0250d\\n' 7"}));
  auto s = startMonitor("c", {"--max-log-line", "100"});
  ASSERT_TRUE(s.report.contains("pid")) << s.report.dump();
  ASSERT_EQ(runtime({"start", "c"}).code, 0);
  ASSERT_TRUE(waitForExit());
  std::string log = logText();
  std::regex re(R"(\S+ stdout ([PF]) (\d*)\n)");
  std::vector<std::pair<std::string, size_t>> records;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator();
       ++it)
    records.emplace_back((*it)[1], (*it)[2].length());
  ASSERT_EQ(records.size(), 3u) << log;
  EXPECT_EQ(records[0], std::make_pair(std::string("P"), size_t{100}));
  EXPECT_EQ(records[1], std::make_pair(std::string("P"), size_t{100}));
  EXPECT_EQ(records[2], std::make_pair(std::string("F"), size_t{50}));
  EXPECT_EQ(runtime({"delete", "c"}).code, 0);
}

TEST_F(Monitor, AttachRelaysStdinAndOutputAndStdinOnceClosesIt) {
  writeConfig(defaultConfig({"sh", "-c", "cat; echo stdin closed >&2"}));
  auto s = startMonitor("c", {"--stdin", "--stdin-once"});
  ASSERT_TRUE(s.report.contains("pid")) << s.report.dump();
  UniqueFd attach = connect(shim::kAttachSocketName);
  ASSERT_TRUE(attach);
  ASSERT_EQ(runtime({"start", "c"}).code, 0);
  ASSERT_EQ(::send(attach.get(), "ping\n", 5, 0), 5);
  char buf[64];
  ssize_t n = ::recv(attach.get(), buf, sizeof buf, 0);
  ASSERT_EQ(n, 6);
  EXPECT_EQ(buf[0], static_cast<char>(shim::kAttachStdout));
  EXPECT_EQ(std::string(buf + 1, 5), "ping\n");
  // The first attach session ends: stdin is closed and cat exits.
  attach.reset();
  auto exit = waitForExit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exitCode, 0);
  std::string log = logText();
  EXPECT_NE(log.find("stdout F ping\n"), std::string::npos) << log;
  EXPECT_NE(log.find("stderr F stdin closed\n"), std::string::npos) << log;
  EXPECT_EQ(runtime({"delete", "c"}).code, 0);
}

TEST_F(Monitor, ReopenAfterRotationAndCloseStdinOverCtl) {
  writeConfig(defaultConfig({"cat"}));
  auto s = startMonitor("c", {"--stdin"});
  ASSERT_TRUE(s.report.contains("pid")) << s.report.dump();
  ASSERT_EQ(runtime({"start", "c"}).code, 0);
  UniqueFd attach = connect(shim::kAttachSocketName);
  UniqueFd ctl = connect(shim::kCtlSocketName);
  ASSERT_TRUE(attach && ctl);
  ASSERT_EQ(::send(attach.get(), "one\n", 4, 0), 4);
  ASSERT_TRUE(waitForLog("stdout F one\n", logPath())) << logText();
  fs::rename(logPath(), dir() / "0.log.1");
  EXPECT_EQ(request(ctl.get(), "reopen"), "ok");
  ASSERT_EQ(::send(attach.get(), "two\n", 4, 0), 4);
  ASSERT_TRUE(waitForLog("stdout F two\n", logPath())) << logText();
  EXPECT_EQ(readFile(dir() / "0.log.1").value_or("").find("two"), std::string::npos);
  EXPECT_EQ(request(ctl.get(), "resize 10 20"), "error resize: container has no terminal");
  EXPECT_EQ(request(ctl.get(), "frobnicate"), "error unknown request \"frobnicate\"");
  // A detach without --stdin-once leaves stdin open; close-stdin ends cat.
  attach.reset();
  EXPECT_EQ(state("c")["status"], "running");
  EXPECT_EQ(request(ctl.get(), "close-stdin"), "ok");
  auto exit = waitForExit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exitCode, 0);
  EXPECT_EQ(runtime({"delete", "c"}).code, 0);
}

TEST_F(Monitor, TerminalOutputAndResize) {
  auto c = defaultConfig({"sh", "-c", "tty; stty size"});
  c["process"]["terminal"] = true;
  writeConfig(c);
  auto s = startMonitor("c", {"--terminal"});
  ASSERT_TRUE(s.report.contains("pid")) << s.report.dump();
  EXPECT_FALSE(fs::exists(socketDir() / "console.sock"));
  UniqueFd ctl = connect(shim::kCtlSocketName);
  ASSERT_TRUE(ctl);
  EXPECT_EQ(request(ctl.get(), "resize 31 97"), "ok");
  ASSERT_EQ(runtime({"start", "c"}).code, 0);
  auto exit = waitForExit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exitCode, 0);
  std::string log = logText();
  // A tty's "\r\n" line ends are dropped; everything is stdout.
  EXPECT_NE(log.find("stdout F /dev/pts/0\n"), std::string::npos) << log;
  EXPECT_NE(log.find("stdout F 31 97\n"), std::string::npos) << log;
  EXPECT_EQ(log.find('\r'), std::string::npos) << log;
  EXPECT_EQ(log.find("stderr"), std::string::npos) << log;
  EXPECT_EQ(runtime({"delete", "c"}).code, 0);
}

TEST_F(Monitor, FailedCreateReportsTheRuntimeErrorAndLeavesNothing) {
  auto c = defaultConfig({"true"});
  c["process"]["cwd"] = "relative/dir";
  writeConfig(c);
  auto s = startMonitor("c");
  ASSERT_TRUE(s.report.contains("error")) << s.report.dump();
  std::string err = s.report["error"];
  EXPECT_NE(err.find("create c"), std::string::npos) << err;
  EXPECT_NE(err.find("cwd"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(socketDir())) << "socket dir left behind";
  EXPECT_FALSE(fs::exists(exitFile()));
  EXPECT_EQ(runtime({"list", "-q"}).out, "");
}

TEST_F(Monitor, BadInvocationsNameTheProblem) {
  writeConfig(defaultConfig({"true"}));
  // A runtime that can't be run.
  SpawnOptions o;
  o.path = BERTH_MONITOR_PATH;
  o.args = {o.path,         "--foreground",      "--id",        "c",
            "--bundle",     bundle().string(),   "--runtime",   "/nonexistent/runc",
            "--log-path",   logPath().string(),  "--exit-file", exitFile().string(),
            "--socket-dir", socketDir().string()};
  o.captureStderr = true;
  auto r = runProgram(o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status.code, 1);
  EXPECT_NE(r->stderrData.find("cannot run the runtime /nonexistent/runc"), std::string::npos)
      << r->stderrData;
  EXPECT_FALSE(fs::exists(socketDir()));
  // A missing required flag.
  o.args = {o.path, "--id", "c"};
  r = runProgram(o);
  ASSERT_TRUE(r);
  EXPECT_NE(r->status.code, 0);
  EXPECT_NE(r->stderrData.find("--bundle"), std::string::npos) << r->stderrData;
  // A log file in a directory that does not exist.
  o.args = {o.path,         "--foreground",
            "--id",         "c",
            "--bundle",     bundle().string(),
            "--runtime",    runtimePath(),
            "--log-path",   (dir() / "nope" / "0.log").string(),
            "--exit-file",  exitFile().string(),
            "--socket-dir", socketDir().string()};
  r = runProgram(o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status.code, 1);
  EXPECT_NE(r->stderrData.find("nope/0.log"), std::string::npos) << r->stderrData;
  EXPECT_FALSE(fs::exists(socketDir()));
}

}  // namespace
}  // namespace berth::testing
