#include "common/spawn.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(Spawn, FeedsStdinAndCapturesStdout) {
  SpawnOptions o;
  o.path = "cat";
  o.stdinData = "hello state";
  o.captureStdout = true;
  auto r = runProgram(o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->status.success());
  EXPECT_EQ(r->stdoutData, "hello state");
}

TEST(Spawn, ReportsExitCodeAndEnv) {
  SpawnOptions o;
  o.path = "/bin/sh";
  o.args = {"sh", "-c", "exit $CODE"};
  o.env = std::vector<std::string>{"CODE=7"};
  auto r = runProgram(o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status.code, 7);
}

TEST(Spawn, KillsOnTimeout) {
  SpawnOptions o;
  o.path = "/bin/sh";
  o.args = {"sh", "-c", "exec sleep 100"};
  o.timeout = std::chrono::milliseconds(100);
  auto r = runProgram(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kDeadlineExceeded);
}

TEST(Spawn, ProgramThatIgnoresStdinDoesNotBlock) {
  SpawnOptions o;
  o.path = "true";
  o.stdinData = std::string(1 << 20, 'x');  // more than a pipe buffer
  auto r = runProgram(o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->status.success());
}

TEST(Spawn, MissingProgramIsNotFound) {
  SpawnOptions o;
  o.path = "/nonexistent/hook";
  auto r = runProgram(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("/nonexistent/hook"), std::string::npos);
}

}  // namespace
}  // namespace berth

namespace berth {
namespace {

TEST(Spawn, PassesEveryArgumentIntact) {
  SpawnOptions o;
  o.path = "/bin/sh";
  o.args = {"sh", "-c", "printf '%s|' \"$@\"", "sh", std::string(100, 'a'), "b c", ""};
  o.captureStdout = true;
  auto r = runProgram(o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stdoutData, std::string(100, 'a') + "|b c||");
}

TEST(Spawn, OutputFileAndCwd) {
  char tmpl[] = "/tmp/berth-spawn-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  SpawnOptions o;
  o.path = "/bin/sh";
  o.args = {"sh", "-c", "pwd; echo err >&2"};
  o.cwd = tmpl;
  o.outputFile = std::string(tmpl) + "/out";
  auto r = runProgram(o);
  ASSERT_TRUE(r);
  std::FILE* f = std::fopen(o.outputFile->c_str(), "r");
  ASSERT_NE(f, nullptr);
  char buf[256] = {};
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  EXPECT_EQ(std::string(buf, n), std::string(tmpl) + "\nerr\n");
  std::filesystem::remove_all(tmpl);
}

TEST(Spawn, OnlyPassedDescriptorsReachTheProgram) {
  // Opened without O_CLOEXEC, as Asio opens its sockets: it must not leak into the child.
  int leaky = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaky, 0);
  ASSERT_EQ(::dup2(leaky, 100), 100);
  int passed = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  SpawnOptions o;
  o.path = "/bin/sh";
  o.args = {"sh", "-c", "test -e /proc/self/fd/5 && ! test -e /proc/self/fd/100"};
  o.extraFds = {{passed, 5}};
  auto r = runProgram(o);
  ::close(leaky);
  ::close(passed);
  ::close(100);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->status.success()) << "fd 100 leaked or fd 5 missing";
}

TEST(Spawn, StartProgramRunsInTheBackground) {
  SpawnOptions o;
  o.path = "/bin/sh";
  o.args = {"sh", "-c", "read x; exit 7"};  // stdin is /dev/null: read fails at once
  auto child = startProgram(o);
  ASSERT_TRUE(child) << child.error().message();
  auto status = child->wait();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->code, 7);

  o.captureStdout = true;
  auto refused = startProgram(o);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace berth
