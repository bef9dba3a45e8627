#include "controlplane/auth/rfc3339.h"

#include <gtest/gtest.h>

namespace berth::controlplane::auth {
namespace {

using std::chrono::system_clock;

TEST(Rfc3339, ParsesOffsetsAndFractions) {
  const auto base = system_clock::from_time_t(1704067200);  // 2024-01-01T00:00:00Z
  struct Case {
    const char* text;
    system_clock::time_point want;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"2024-01-01T00:00:00Z", base},
           {"2024-01-01T01:30:00+01:30", base},
           {"2023-12-31T19:00:00-05:00", base},
           {"2024-01-01T00:00:00.5Z", base + std::chrono::milliseconds(500)},
           {"2024-01-01t00:00:00z", base},
       }) {
    auto parsed = parseRfc3339(c.text);
    ASSERT_TRUE(parsed) << c.text;
    EXPECT_EQ(*parsed, c.want) << c.text;
  }
  for (const char* bad : {"", "2024-01-01", "2024-01-01T00:00:00", "2024-13-01T00:00:00Z",
                          "2024-01-01T00:00:00+0100", "2024-01-01T00:00:00Zjunk"}) {
    EXPECT_FALSE(parseRfc3339(bad)) << bad;
  }
  EXPECT_EQ(formatRfc3339(base + std::chrono::milliseconds(999)), "2024-01-01T00:00:00Z");
}

}  // namespace
}  // namespace berth::controlplane::auth
