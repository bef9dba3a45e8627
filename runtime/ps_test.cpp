#include "runtime/ps.h"

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

const char* kOut =
    "UID          PID    PPID  C STIME TTY          TIME CMD\n"
    "root           1       0  0 10:00 ?        00:00:01 /sbin/init\n"
    "root        4242       1  0 10:01 ?        00:00:00 sh -c sleep 100\n"
    "root        4243    4242  0 10:01 ?        00:00:00 sleep 100\n";

TEST(Ps, KeepsHeaderAndOurPids) {
  auto r = filterPsOutput(kOut, {4242, 4243});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r,
            "UID          PID    PPID  C STIME TTY          TIME CMD\n"
            "root        4242       1  0 10:01 ?        00:00:00 sh -c sleep 100\n"
            "root        4243    4242  0 10:01 ?        00:00:00 sleep 100\n");
}

TEST(Ps, NoPidColumnIsAnError) {
  auto r = filterPsOutput("USER COMMAND\nroot init\n", {1});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("PID"), std::string::npos);
}

}  // namespace
}  // namespace berth::runtime
