#include "runtime/seccomp.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/unique_fd.h"

namespace berth::runtime {
namespace {

using ocispec::Seccomp;
using ocispec::SeccompArg;
using ocispec::SeccompSyscall;

Seccomp profile(const std::string& defaultAction, std::vector<SeccompSyscall> syscalls = {}) {
  Seccomp s;
  s.defaultAction = defaultAction;
  s.syscalls = std::move(syscalls);
  return s;
}

SeccompSyscall rule(std::vector<std::string> names, const std::string& action,
                    std::optional<uint32_t> errnoRet = std::nullopt,
                    std::vector<SeccompArg> args = {}) {
  return SeccompSyscall{std::move(names), action, errnoRet, std::move(args)};
}

SeccompArg arg(uint32_t index, uint64_t value, const std::string& op,
               std::optional<uint64_t> valueTwo = std::nullopt) {
  return SeccompArg{index, value, valueTwo, op};
}

// ---- every error a user can hit names its field ----

struct ErrorCase {
  const char* name;
  std::function<void(Seccomp&)> mutate;
  const char* field;
};

TEST(SeccompCompile, ErrorsNameTheField) {
  const ErrorCase cases[] = {
      {"unknown default action", [](Seccomp& s) { s.defaultAction = "SCMP_ACT_NOPE"; },
       "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_NOPE\""},
      {"notify as default", [](Seccomp& s) { s.defaultAction = "SCMP_ACT_NOTIFY"; },
       "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as default action"},
      {"default errno too large",
       [](Seccomp& s) {
         s.defaultAction = "SCMP_ACT_ERRNO";
         s.defaultErrnoRet = 70000;
       },
       "linux.seccomp.defaultErrnoRet:"},
      {"unknown rule action",
       [](Seccomp& s) { s.syscalls.push_back(rule({"mkdir"}, "SCMP_ACT_BLOCK")); },
       "linux.seccomp.syscalls[1].action: unknown seccomp action \"SCMP_ACT_BLOCK\""},
      {"rule errno too large",
       [](Seccomp& s) { s.syscalls.push_back(rule({"mkdir"}, "SCMP_ACT_ERRNO", 1 << 16)); },
       "linux.seccomp.syscalls[1].errnoRet:"},
      {"no names", [](Seccomp& s) { s.syscalls.push_back(rule({}, "SCMP_ACT_ERRNO")); },
       "linux.seccomp.syscalls[1].names: must be a non-empty array"},
      {"empty name",
       [](Seccomp& s) {
         s.syscalls.push_back(rule({"mkdir", ""}, "SCMP_ACT_ERRNO"));
       },
       "linux.seccomp.syscalls[1].names[1]: must not be empty"},
      {"notify on write",
       [](Seccomp& s) {
         s.listenerPath = "/run/agent.sock";
         s.syscalls.push_back(rule({"mkdir", "write"}, "SCMP_ACT_NOTIFY"));
       },
       "linux.seccomp.syscalls[1].names[1]: SCMP_ACT_NOTIFY cannot be used for the write "
       "syscall"},
      {"notify without listener",
       [](Seccomp& s) { s.syscalls.push_back(rule({"mkdir"}, "SCMP_ACT_NOTIFY")); },
       "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used"},
      {"notify with empty listener",
       [](Seccomp& s) {
         s.listenerPath = "";
         s.syscalls.push_back(rule({"mkdir"}, "SCMP_ACT_NOTIFY"));
       },
       "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used"},
      {"unknown operator",
       [](Seccomp& s) {
         s.syscalls.push_back(
             rule({"mkdir"}, "SCMP_ACT_ERRNO", {}, {arg(0, 1, "SCMP_CMP_EQ"), arg(1, 2, "EQ")}));
       },
       "linux.seccomp.syscalls[1].args[1].op: unknown seccomp operator \"EQ\""},
      {"argument index",
       [](Seccomp& s) {
         s.syscalls.push_back(rule({"mkdir"}, "SCMP_ACT_ERRNO", {}, {arg(6, 1, "SCMP_CMP_EQ")}));
       },
       "linux.seccomp.syscalls[1].args[0].index: 6 is not below 6"},
      {"unknown architecture",
       [](Seccomp& s) {
         s.architectures = {"SCMP_ARCH_X86", "SCMP_ARCH_VAX"};
       },
       "linux.seccomp.architectures[1]: unknown seccomp architecture \"SCMP_ARCH_VAX\""},
      {"unknown flag", [](Seccomp& s) { s.flags = {"SECCOMP_FILTER_FLAG_NOPE"}; },
       "linux.seccomp.flags[0]: seccomp flag \"SECCOMP_FILTER_FLAG_NOPE\" is not known"},
      {"wait-killable without notify",
       [](Seccomp& s) { s.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}; },
       "linux.seccomp.flags"},
  };
  for (const auto& c : cases) {
    Seccomp s = profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_ERRNO")});
    c.mutate(s);
    auto r = compileSeccomp(s);
    ASSERT_FALSE(r) << c.name;
    EXPECT_NE(r.error().message().find(c.field), std::string::npos)
        << c.name << ": " << r.error().message();
  }
}

// ---- valid profiles produce a program ----

TEST(SeccompCompile, ValidProfilesProduceAProgram) {
  const Seccomp cases[] = {
      profile("SCMP_ACT_ALLOW"),
      profile("SCMP_ACT_ERRNO"),
      profile("SCMP_ACT_KILL", {rule({"read", "write", "exit_group"}, "SCMP_ACT_ALLOW")}),
      profile("SCMP_ACT_LOG",
              {rule({"mkdir"}, "SCMP_ACT_KILL_PROCESS"), rule({"rmdir"}, "SCMP_ACT_KILL_THREAD"),
               rule({"chmod"}, "SCMP_ACT_TRAP"), rule({"chown"}, "SCMP_ACT_TRACE", 38),
               rule({"getppid"}, "SCMP_ACT_ALLOW")}),
      profile("SCMP_ACT_ALLOW", {rule({"mkdir"}, "SCMP_ACT_ALLOW")}),  // redundant: skipped
  };
  for (const auto& c : cases) {
    auto r = compileSeccomp(c);
    ASSERT_TRUE(r) << c.defaultAction << ": " << r.error().message();
    EXPECT_TRUE(r->enabled);
    EXPECT_FALSE(r->instructions.empty());
    EXPECT_FALSE(r->hasListener());
  }
}

TEST(SeccompCompile, ArchitecturesAndFlags) {
  Seccomp s = profile("SCMP_ACT_ALLOW", {rule({"mkdir"}, "SCMP_ACT_ERRNO")});
  s.architectures = {"SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86"};
  s.flags = {"SECCOMP_FILTER_FLAG_TSYNC"};  // accepted and ignored, as runc
  auto r = compileSeccomp(s);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->flags, 0u);
  s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  r = compileSeccomp(s);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
}

TEST(SeccompCompile, NotifyAsksForAListener) {
  Seccomp s = profile("SCMP_ACT_ALLOW", {rule({"mkdir"}, "SCMP_ACT_NOTIFY")});
  s.listenerPath = "/run/agent.sock";
  s.listenerMetadata = "bar";
  auto r = compileSeccomp(s);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->hasListener());
  EXPECT_EQ(r->listenerPath, "/run/agent.sock");
  EXPECT_EQ(r->listenerMetadata, "bar");
  // A listener path with no notifying rule is not an error, and asks for nothing.
  s.syscalls[0].action = "SCMP_ACT_ERRNO";
  r = compileSeccomp(s);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->hasListener());
}

// ---- the programs behave: loaded in a child (no_new_privs, so no privilege is needed) ----

// 0 when the raw system call succeeded, else its errno.
int err(long r) {
  return r < 0 ? errno : 0;
}

// Runs `body` in a forked child under the program; returns the wait status. The body returns the
// child's exit code (0: every check held, else the number of the failed check).
int runUnder(const SeccompProgram& p, const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    rlimit noCore{0, 0};
    ::setrlimit(RLIMIT_CORE, &noCore);  // SIGSYS dumps core by default
    sock_fprog f{static_cast<unsigned short>(p.instructions.size()),
                 const_cast<sock_filter*>(p.instructions.data())};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p.flags, &f) < 0)
      ::_exit(100);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

// Exit code of a child that exited normally, else -signal.
int outcome(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

Result<SeccompProgram> compile(const Seccomp& s) {
  return compileSeccomp(s);
}

TEST(SeccompFilter, ErrnoRuleReturnsItsErrno) {
  auto p = compile(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_ERRNO"),
                                              rule({"getpgrp"}, "SCMP_ACT_ERRNO", ENXIO)}));
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(outcome(runUnder(*p,
                             [] {
                               if (err(::syscall(SYS_getppid)) != EPERM)
                                 return 1;  // errnoRet defaults to EPERM
                               if (err(::syscall(SYS_getpgrp)) != ENXIO) return 2;
                               if (err(::syscall(SYS_getpid)) != 0) return 3;
                               return 0;
                             })),
            0);
}

TEST(SeccompFilter, DefaultErrnoRetAndEnosysForUnknownSyscalls) {
  Seccomp s =
      profile("SCMP_ACT_ERRNO",
              {rule({"exit_group", "exit", "getpid", "getppid", "faccessat2"}, "SCMP_ACT_ALLOW")});
  s.defaultErrnoRet = ENXIO;
  s.architectures = {"SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_X86_64"};
  auto p = compile(s);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(outcome(runUnder(*p,
                             [] {
                               if (err(::syscall(SYS_getppid)) != 0) return 1;
                               if (err(::syscall(SYS_getpgrp)) != ENXIO)
                                 return 2;  // known, not listed: default
                               // Above every syscall the profile names: "not implemented", not the
                               // default.
                               if (err(::syscall(1000, 0xdeadbeef)) != ENOSYS) return 3;
                               return 0;
                             })),
            0);
}

TEST(SeccompFilter, NoEnosysStubWhenTheDefaultAllows) {
  auto p = compile(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_ERRNO")}));
  ASSERT_TRUE(p) << p.error().message();
  auto q = compile(profile("SCMP_ACT_ERRNO", {rule({"getppid"}, "SCMP_ACT_ALLOW")}));
  ASSERT_TRUE(q) << q.error().message();
  // Same rule count; only the ERRNO default gets the prologue.
  EXPECT_GT(q->instructions.size(), p->instructions.size());
}

TEST(SeccompFilter, KillActionsKillWithSigsys) {
  for (const char* action :
       {"SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"}) {
    auto p = compile(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, action)}));
    ASSERT_TRUE(p) << action << ": " << p.error().message();
    int st = runUnder(*p, [] {
      ::syscall(SYS_getppid);
      return 0;
    });
    EXPECT_EQ(outcome(st), -SIGSYS) << action;
  }
}

TEST(SeccompFilter, UnknownSyscallNamesAreSkipped) {
  auto p = compile(
      profile("SCMP_ACT_ALLOW", {rule({"no_such_syscall", "getppid"}, "SCMP_ACT_ERRNO", ENXIO)}));
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(outcome(runUnder(*p, [] { return err(::syscall(SYS_getppid)) == ENXIO ? 0 : 1; })), 0);
}

TEST(SeccompFilter, ArgumentConditions) {
  auto p = compile(profile(
      "SCMP_ACT_ALLOW",
      {
          // Two conditions on one argument: separate rules, OR'ed (runc).
          rule({"getpriority"}, "SCMP_ACT_ERRNO", ENOANO,
               {arg(1, 1337, "SCMP_CMP_EQ"), arg(1, 2020, "SCMP_CMP_EQ")}),
          // Conditions on different arguments: one rule, AND'ed.
          rule({"kcmp"}, "SCMP_ACT_ERRNO", ENXIO,
               {arg(0, 0, "SCMP_CMP_EQ"), arg(1, 1337, "SCMP_CMP_EQ")}),
          // value is the mask, valueTwo the value compared.
          rule({"getpgid"}, "SCMP_ACT_ERRNO", EDOM, {arg(0, 0xF00, "SCMP_CMP_MASKED_EQ", 0x100)}),
          rule({"setpgid"}, "SCMP_ACT_ERRNO", ERANGE, {arg(1, 100, "SCMP_CMP_GT")}),
      }));
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(outcome(runUnder(*p,
                             [] {
                               if (err(::syscall(SYS_getpriority, PRIO_PROCESS, 1337)) != ENOANO)
                                 return 1;
                               if (err(::syscall(SYS_getpriority, PRIO_PROCESS, 2020)) != ENOANO)
                                 return 2;
                               if (err(::syscall(SYS_getpriority, PRIO_PROCESS, 0)) != 0) return 3;
                               if (err(::syscall(SYS_kcmp, 0, 1337, 0, 0, 0)) != ENXIO) return 4;
                               if (err(::syscall(SYS_kcmp, 0, 1, 0, 0, 0)) == ENXIO) return 5;
                               if (err(::syscall(SYS_kcmp, 5, 1337, 0, 0, 0)) == ENXIO) return 6;
                               if (err(::syscall(SYS_getpgid, 0x1ff)) != EDOM) return 7;
                               if (err(::syscall(SYS_getpgid, 0x200)) == EDOM) return 8;
                               if (err(::syscall(SYS_setpgid, 0, 101)) != ERANGE) return 9;
                               if (err(::syscall(SYS_setpgid, 0, 100)) == ERANGE) return 10;
                               return 0;
                             })),
            0);
}

// ---- the seccomp agent's side ----

TEST(SeccompAgent, ContainerProcessStateIsRuncs) {
  ocispec::State st;
  st.ociVersion = "1.2.0";
  st.id = "c1";
  st.status = "creating";
  st.pid = 42;
  st.bundle = "/b";
  auto j = nlohmann::json::parse(containerProcessState(st, 43, "bar"));
  EXPECT_EQ(j["fds"], nlohmann::json::array({"seccompFd"}));
  EXPECT_EQ(j["pid"], 43);
  EXPECT_EQ(j["metadata"], "bar");
  EXPECT_EQ(j["state"]["id"], "c1");
  EXPECT_EQ(j["state"]["pid"], 42);
  EXPECT_EQ(j["state"]["status"], "creating");
  EXPECT_FALSE(nlohmann::json::parse(containerProcessState(st, 43, "")).contains("metadata"));
}

TEST(SeccompAgent, SendsStateAndFdOrNamesThePath) {
  char tmpl[] = "/tmp/berth-seccomp-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::string path = dir + "/agent.sock";

  auto missing = sendSeccompListener(path, "{}", 0);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("failed to connect with seccomp agent"),
            std::string::npos);
  EXPECT_NE(missing.error().message().find(path), std::string::npos);

  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(sendSeccompListener(path, R"({"fds":["seccompFd"]})", devnull.get()));
  UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn);
  char data[256] = {};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{data, sizeof data - 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ASSERT_GT(::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC), 0);
  EXPECT_STREQ(data, R"({"fds":["seccompFd"]})");
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->cmsg_type, SCM_RIGHTS);
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  UniqueFd received(fd);
  EXPECT_TRUE(received);
  std::filesystem::remove_all(dir);
}

TEST(SeccompFeatures, ListsWhatIsAccepted) {
  SeccompFeatures f = seccompFeatures();
  EXPECT_EQ(f.actions.size(), 9u);
  EXPECT_TRUE(std::is_sorted(f.actions.begin(), f.actions.end()));
  EXPECT_EQ(f.operators.size(), 7u);
  EXPECT_NE(std::find(f.archs.begin(), f.archs.end(), "SCMP_ARCH_X86_64"), f.archs.end());
  EXPECT_EQ(f.knownFlags.size(), 4u);
  for (const auto& flag : f.supportedFlags)
    EXPECT_NE(std::find(f.knownFlags.begin(), f.knownFlags.end(), flag), f.knownFlags.end());
  // Every listed action and architecture compiles.
  for (const auto& a : f.actions) {
    Seccomp s = profile("SCMP_ACT_ALLOW", {rule({"getppid"}, a)});
    s.listenerPath = "/run/agent.sock";
    EXPECT_TRUE(compileSeccomp(s)) << a;
  }
  // Every architecture is known; libseccomp refuses to mix byte orders in one filter.
  for (const auto& a : f.archs) {
    Seccomp s = profile("SCMP_ACT_ERRNO", {rule({"getppid"}, "SCMP_ACT_ALLOW")});
    s.architectures = {a};
    auto r = compileSeccomp(s);
    if (!r) {
      EXPECT_NE(r.error().message().find("linux.seccomp.architectures[0]: add"), std::string::npos)
          << r.error().message();
    }
  }
}

}  // namespace
}  // namespace berth::runtime
