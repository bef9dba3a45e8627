#include "runtime/signals.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

TEST(Signals, NamesAndNumbers) {
  const std::pair<const char*, int> ok[] = {
      {"KILL", SIGKILL},
      {"SIGKILL", SIGKILL},
      {"9", 9},
      {"0", 0},
      {"TERM", SIGTERM},
      {"SIGUSR1", SIGUSR1},
      {"RTMIN", SIGRTMIN},
      {"RTMIN+3", SIGRTMIN + 3},
      {"SIGRTMAX-1", SIGRTMAX - 1},
      {"WINCH", SIGWINCH},
  };
  for (auto [text, want] : ok) {
    auto r = parseSignal(text);
    ASSERT_TRUE(r) << text << ": " << r.error().message();
    EXPECT_EQ(*r, want) << text;
  }
}

TEST(Signals, UnknownIsAnErrorNamingIt) {
  for (const char* bad : {"FOO", "", "-1", "999", "SIG", "RTMIN+99", "RTMAX+1", "kill"}) {
    auto r = parseSignal(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message(), fmt::format("unknown signal \"{}\"", bad));
  }
}

}  // namespace
}  // namespace berth::runtime
