// linux.seccomp in berth-runtime (config-linux.md "Seccomp"), as runc's seccomp.bats and
// seccomp-notify.bats exercise it: errno and kill actions, defaultErrnoRet, argument conditions,
// -ENOSYS for syscalls the profile doesn't know, exec'd processes, and a seccomp agent written here
// that receives the listener and answers the container's syscall.
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "common/spawn.h"
#include "common/unique_fd.h"
#include "tests/integration/runtime_fixture.h"

namespace berth::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

class Seccomp : public RuntimeTest {
 protected:
  // runc's bats profiles: allow by default, the listed syscalls get `action`.
  json withRule(json config, std::vector<std::string> names, const std::string& action,
                json extra = json::object()) const {
    json rule = {{"names", names}, {"action", action}};
    rule.update(extra);
    config["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"architectures", {"SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_X86_64"}},
        {"syscalls", json::array({rule})}};
    return config;
  }
};

// Every syscall name libseccomp knows on this architecture, but `except`.
std::vector<std::string> allSyscallsBut(const std::set<std::string>& except) {
  std::vector<std::string> out;
  for (int nr = 0; nr < 1024; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    if (!name) continue;
    if (!except.count(name)) out.emplace_back(name);
    std::free(name);
  }
  return out;
}

TEST_F(Seccomp, DeniedSyscallReturnsTheConfiguredErrno) {
  for (bool nnp : {true, false}) {
    SCOPED_TRACE(nnp ? "noNewPrivileges" : "no noNewPrivileges");
    auto c = defaultConfig({"sh", "-c", "mkdir /tmp/a"});
    c["process"]["noNewPrivileges"] = nnp;
    auto r = runContainer(withRule(c, {"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO"), "eperm");
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.err;
    // errnoRet 100 (ENETDOWN), runc's bats.
    r = runContainer(withRule(c, {"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", {{"errnoRet", 100}}),
                     "enetdown");
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("Network is down"), std::string::npos) << r.err;
  }
}

TEST_F(Seccomp, KillActionKillsWithSigsys) {
  for (const char* action : {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS"}) {
    auto r = runContainer(
        withRule(defaultConfig({"mkdir", "/tmp/a"}), {"mkdir", "mkdirat"}, action), "kill");
    EXPECT_EQ(r.code, 128 + SIGSYS) << action << ": " << r.err;
  }
}

TEST_F(Seccomp, DefaultErrnoRet) {
  // runc's seccomp_syscall_test2: everything allowed by name but chdir, default ERRNO(ENXIO).
  auto c = defaultConfig({"sh", "-c", "cd /tmp"});
  c["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"defaultErrnoRet", ENXIO},
      {"syscalls", {{{"names", allSyscallsBut({"chdir"})}, {"action", "SCMP_ACT_ALLOW"}}}}};
  auto r = runContainer(c);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("No such device or address"), std::string::npos) << r.err;
}

TEST_F(Seccomp, ArgumentConditions) {
  // kill(pid, sig) from a shell that is pid 1 of its namespace (so signals it doesn't handle are
  // ignored): each denied call prints a letter.
  auto c = defaultConfig(
      {"sh", "-c",
       "kill -0 1 || echo a; kill -HUP 1 || echo b; kill -USR2 1 && echo c; "
       "kill -CONT 1 || echo d; kill -USR1 1 || echo e; sleep 100 & kill -USR1 $! && echo f"});
  json enxio = {{"errnoRet", ENXIO}};
  c["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls",
       {// Two conditions on one argument: OR'ed (runc adds them as separate rules).
        {{"names", {"kill"}},
         {"action", "SCMP_ACT_ERRNO"},
         {"errnoRet", ENXIO},
         {"args",
          {{{"index", 1}, {"value", 0}, {"op", "SCMP_CMP_EQ"}},
           {{"index", 1}, {"value", SIGHUP}, {"op", "SCMP_CMP_EQ"}}}}},
        // Conditions on different arguments: AND'ed.
        {{"names", {"kill"}},
         {"action", "SCMP_ACT_ERRNO"},
         {"errnoRet", ENXIO},
         {"args",
          {{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_EQ"}},
           {{"index", 1}, {"value", SIGUSR1}, {"op", "SCMP_CMP_EQ"}}}}},
        // value is the mask, valueTwo what the masked argument must equal: signals 16..31.
        {{"names", {"kill"}},
         {"action", "SCMP_ACT_ERRNO"},
         {"errnoRet", ENXIO},
         {"args",
          {{{"index", 1}, {"value", 0xF0}, {"valueTwo", 0x10}, {"op", "SCMP_CMP_MASKED_EQ"}}}}}}}};
  auto r = runContainer(c);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "a\nb\nc\nd\ne\nf\n") << r.err;
  EXPECT_NE(r.err.find("No such device or address"), std::string::npos) << r.err;
}

TEST_F(Seccomp, UnknownSyscallNameIsSkipped) {
  auto r = runContainer(withRule(defaultConfig({"sh", "-c", "mkdir /tmp/a"}),
                                 {"berth_no_such_syscall", "mkdir", "mkdirat"}, "SCMP_ACT_ERRNO",
                                 {{"errnoRet", ENXIO}}));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("No such device or address"), std::string::npos) << r.err;
}

// runc's seccomp_syscall_test1 in small: a static program (built here, when a C compiler is
// installed) sees ENOSYS for a syscall number beyond the profile and the default errno for a known
// syscall the profile leaves out.
TEST_F(Seccomp, EnosysForSyscallsTheProfileDoesNotKnow) {
  if (::access("/usr/bin/cc", X_OK) != 0) GTEST_SKIP() << "no C compiler (/usr/bin/cc)";
  fs::create_directories(dir() / "bin");
  std::ofstream(dir() / "enosys.c") << R"(#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  long a = syscall(1000, 0xdeadbeef);
  int ea = a < 0 ? errno : 0;
  long b = syscall(SYS_getpgrp);
  int eb = b < 0 ? errno : 0;
  printf("%d %d\n", ea, eb);
  return 0;
}
)";
  SpawnOptions o;
  o.path = "/usr/bin/cc";
  o.args = {o.path, "-static", "-o", (dir() / "bin" / "enosys").string(),
            (dir() / "enosys.c").string()};
  o.captureStderr = true;
  auto built = runProgram(o);
  if (!built || !built->status.success())
    GTEST_SKIP() << "cannot build a static program: " << (built ? built->stderrData : "");
  auto c = defaultConfig({"/t/enosys"});
  c["mounts"].push_back({{"destination", "/t"},
                         {"type", "bind"},
                         {"source", (dir() / "bin").string()},
                         {"options", {"bind", "ro"}}});
  c["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"defaultErrnoRet", ENXIO},
      {"architectures", {"SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_X86_64"}},
      {"syscalls", {{{"names", allSyscallsBut({"getpgrp"})}, {"action", "SCMP_ACT_ALLOW"}}}}};
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("{} {}\n", ENOSYS, ENXIO));
}

TEST_F(Seccomp, ExecdProcessesGetTheFilter) {
  for (bool nnp : {true, false}) {
    SCOPED_TRACE(nnp ? "noNewPrivileges" : "no noNewPrivileges");
    std::string id = nnp ? "nnp" : "privs";
    auto c = defaultConfig({"sleep", "1000"});
    c["process"]["noNewPrivileges"] = nnp;
    c = withRule(c, {"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO");
    c["linux"]["cgroupsPath"] = c["linux"]["cgroupsPath"].get<std::string>() + id;
    writeConfig(c);
    ASSERT_EQ(runtimeDetached({"run", "-d", id}).code, 0);
    auto r = runtime({"exec", id, "sh", "-c", "mkdir /tmp/a"});
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.err;
    EXPECT_EQ(runtime({"exec", id, "true"}).code, 0);
  }
}

TEST_F(Seccomp, StartContainerHookRunsUnderTheFilter) {
  auto c = withRule(defaultConfig({"true"}), {"mkdir", "mkdirat"}, "SCMP_ACT_KILL");
  c["hooks"] = {{"startContainer", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "mkdir /a"}}}}}};
  auto r = runContainer(c);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("error running hook"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad system call"), std::string::npos) << r.err;
}

TEST_F(Seccomp, InvalidProfilesAreRefusedNamingTheField) {
  auto c = withRule(defaultConfig({"true"}), {"write"}, "SCMP_ACT_NOTIFY");
  c["linux"]["seccomp"]["listenerPath"] = (dir() / "agent.sock").string();
  auto r = runContainer(c);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("linux.seccomp.syscalls[0].names[0]: SCMP_ACT_NOTIFY cannot be used for "
                       "the write syscall"),
            std::string::npos)
      << r.err;
  c = withRule(defaultConfig({"true"}), {"mkdir"}, "SCMP_ACT_ERRNO",
               {{"args", {{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_EQ"}}}}});
  c["linux"]["seccomp"]["architectures"] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_PDP11"};
  r = runContainer(c);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("linux.seccomp.architectures[1]"), std::string::npos) << r.err;
}

// ---- SCMP_ACT_NOTIFY ----

// A seccomp agent, as runc's contrib/cmd/seccompagent: accepts connections on a unix socket,
// receives the ContainerProcessState with the listener fd (SCM_RIGHTS), and answers every
// notification with `answer` as the syscall's errno.
class Agent {
 public:
  Agent(const fs::path& path, int answer) : answer_(answer) {
    listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    EXPECT_EQ(::bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_.get(), 4), 0);
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    stopRead_.reset(p[0]);
    stopWrite_.reset(p[1]);
    thread_ = std::thread([this] { run(); });
  }
  ~Agent() { stop(); }

  void stop() {
    if (!thread_.joinable()) return;
    [[maybe_unused]] ssize_t n = ::write(stopWrite_.get(), "x", 1);
    thread_.join();
  }
  // Valid once stopped.
  std::vector<json> states;
  std::vector<int> syscalls;  // numbers of the notified syscalls

 private:
  void receiveListener() {
    UniqueFd conn(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) return;
    char data[8192] = {};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    iovec iov{data, sizeof data - 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC) <= 0) return;
    states.push_back(json::parse(data, nullptr, false));
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS) return;
    int fd;
    std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    listeners_.emplace_back(fd);
  }

  void answer(int fd) {
    seccomp_notif req{};
    if (::ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) return;
    syscalls.push_back(req.data.nr);
    seccomp_notif_resp resp{};
    resp.id = req.id;
    resp.error = -answer_;
    ::ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
  }

  void run() {
    for (;;) {
      std::vector<pollfd> fds = {{stopRead_.get(), POLLIN, 0}, {listen_.get(), POLLIN, 0}};
      for (const auto& l : listeners_)
        fds.push_back({l.get(), POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 60000) <= 0 || fds[0].revents) return;
      if (fds[1].revents & POLLIN) receiveListener();
      for (size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents & POLLIN) answer(fds[i].fd);
        // Every process using the filter is gone.
        if (fds[i].revents & POLLHUP) listeners_[i - 2].reset();
      }
      std::erase_if(listeners_, [](const UniqueFd& f) { return !f; });
    }
  }

  int answer_;
  UniqueFd listen_, stopRead_, stopWrite_;
  std::vector<UniqueFd> listeners_;
  std::thread thread_;
};

bool isMkdir(int nr) {
  return nr == SYS_mkdir || nr == SYS_mkdirat;
}

TEST_F(Seccomp, NotifyAgentAnswersTheContainersSyscall) {
  for (bool nnp : {true, false}) {
    SCOPED_TRACE(nnp ? "noNewPrivileges" : "no noNewPrivileges");
    fs::path sock = dir() / (nnp ? "agent-nnp.sock" : "agent.sock");
    Agent agent(sock, EXDEV);
    auto c = withRule(defaultConfig({"sh", "-c", "mkdir /tmp/a"}), {"mkdir", "mkdirat"},
                      "SCMP_ACT_NOTIFY");
    c["process"]["noNewPrivileges"] = nnp;
    c["linux"]["seccomp"]["listenerPath"] = sock.string();
    c["linux"]["seccomp"]["listenerMetadata"] = "meta";
    auto r = runContainer(c, nnp ? "nnp" : "privs");
    agent.stop();
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("Invalid cross-device link"), std::string::npos) << r.err;
    ASSERT_EQ(agent.states.size(), 1u);
    const json& s = agent.states[0];
    EXPECT_EQ(s["fds"], json::array({"seccompFd"}));
    EXPECT_EQ(s["metadata"], "meta");
    EXPECT_EQ(s["state"]["id"], nnp ? "nnp" : "privs");
    EXPECT_EQ(s["state"]["status"], "creating");
    EXPECT_EQ(s["pid"], s["state"]["pid"]);  // the init loaded the filter
    ASSERT_EQ(agent.syscalls.size(), 1u);
    EXPECT_TRUE(isMkdir(agent.syscalls[0])) << agent.syscalls[0];
  }
}

TEST_F(Seccomp, NotifyListenerOfAnExecdProcess) {
  fs::path sock = dir() / "agent.sock";
  Agent agent(sock, ENOMEDIUM);
  auto c = withRule(defaultConfig({"sleep", "1000"}), {"mkdir", "mkdirat"}, "SCMP_ACT_NOTIFY");
  c["linux"]["seccomp"]["listenerPath"] = sock.string();
  writeConfig(c);
  ASSERT_EQ(runtimeDetached({"run", "-d", "c"}).code, 0);
  auto r = runtime({"exec", "c", "sh", "-c", "mkdir /tmp/a"});
  agent.stop();
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("No medium found"), std::string::npos) << r.err;
  ASSERT_EQ(agent.states.size(), 2u);  // the init's listener, then the exec'd process'
  EXPECT_EQ(agent.states[1]["state"]["status"], "running");
  EXPECT_NE(agent.states[1]["pid"], agent.states[1]["state"]["pid"]);
  EXPECT_FALSE(agent.states[1].contains("metadata"));
  ASSERT_EQ(agent.syscalls.size(), 1u);
  EXPECT_TRUE(isMkdir(agent.syscalls[0]));
}

TEST_F(Seccomp, NotifyWithoutAnAgentFailsNamingThePath) {
  fs::path sock = dir() / "nobody-listens.sock";
  auto c = withRule(defaultConfig({"true"}), {"mkdir"}, "SCMP_ACT_NOTIFY");
  c["linux"]["seccomp"]["listenerPath"] = sock.string();
  auto r = runContainer(c);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("failed to connect with seccomp agent"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(sock.string()), std::string::npos) << r.err;
}

}  // namespace
}  // namespace berth::testing
