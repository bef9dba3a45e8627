#include "common/spawn.h"

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
