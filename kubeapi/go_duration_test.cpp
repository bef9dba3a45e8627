#include "kubeapi/go_duration.h"

#include <gtest/gtest.h>

#include <limits>

namespace berth::kubeapi {
namespace {

using namespace std::chrono;

TEST(GoDuration, FormatsAsTimeDurationString) {
  struct Case {
    nanoseconds d;
    const char* out;
  };
  for (const auto& c : std::initializer_list<Case>{
           {0ns, "0s"},
           {1ns, "1ns"},
           {1100ns, "1.1\u00b5s"},
           {2200us, "2.2ms"},
           {1h + 2min + 3500ms, "1h2m3.5s"},
           {1h, "1h0m0s"},
           {-1500ms, "-1.5s"},
           {90s, "1m30s"},
           {nanoseconds(std::numeric_limits<std::int64_t>::max()), "2562047h47m16.854775807s"},
           {nanoseconds(std::numeric_limits<std::int64_t>::min()), "-2562047h47m16.854775808s"},
       }) {
    EXPECT_EQ(formatGoDuration(c.d), c.out);
  }
}

TEST(GoDuration, Parses) {
  struct Case {
    const char* in;
    nanoseconds want;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"0", 0ns},
           {"1h2m3.5s", 1h + 2min + 3500ms},
           {"300ms", 300ms},
           {"-1.5h", -90min},
           {"+5s", 5s},
           {"1.5\u00b5s", 1500ns},
           {"1us", 1us},
           {"1\u03bcs", 1us},
           {".5s", 500ms},
           {"1.s", 1s},
           {"2h45m", 2h + 45min},
           {"9223372036854775807ns", nanoseconds(std::numeric_limits<std::int64_t>::max())},
           {"-9223372036854775808ns", nanoseconds(std::numeric_limits<std::int64_t>::min())},
       }) {
    auto d = parseGoDuration(c.in);
    ASSERT_TRUE(d) << c.in << ": " << d.error().message();
    EXPECT_EQ(*d, c.want) << c.in;
  }
}

TEST(GoDuration, ErrorsAreGos) {
  struct Case {
    const char* in;
    const char* error;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"", "time: invalid duration \"\""},
           {"-", "time: invalid duration \"-\""},
           {"1", "time: missing unit in duration \"1\""},
           {"1d", "time: unknown unit \"d\" in duration \"1d\""},
           {".s", "time: invalid duration \".s\""},
           {"s", "time: invalid duration \"s\""},
           {"9223372036854775808ns", "time: invalid duration \"9223372036854775808ns\""},
           {"3000000h", "time: invalid duration \"3000000h\""},
       }) {
    auto d = parseGoDuration(c.in);
    ASSERT_FALSE(d) << c.in;
    EXPECT_EQ(d.error().message(), c.error);
  }
}

}  // namespace
}  // namespace berth::kubeapi
