#include "kubeapi/meta_time.h"

#include <gtest/gtest.h>

namespace berth::kubeapi {
namespace {

using namespace std::chrono;

Time at(int y, unsigned mo, unsigned d, int h, int mi, int s, nanoseconds frac = {}) {
  return sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi) + seconds(s) + frac;
}

TEST(MetaTime, FormatsInUtc) {
  Time t = at(2024, 5, 1, 10, 20, 30, nanoseconds(123456789));
  EXPECT_EQ(formatTime(t), "2024-05-01T10:20:30Z");
  EXPECT_EQ(formatMicroTime(t), "2024-05-01T10:20:30.123456Z");
  EXPECT_EQ(formatMicroTime(at(1999, 12, 31, 23, 59, 59)), "1999-12-31T23:59:59.000000Z");
  EXPECT_EQ(timeToJson(std::nullopt), nullptr);
  EXPECT_EQ(timeToJson(t), "2024-05-01T10:20:30Z");
}

TEST(MetaTime, ParsesRfc3339) {
  struct Case {
    const char* in;
    Time want;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"2024-05-01T10:20:30Z", at(2024, 5, 1, 10, 20, 30)},
           {"2024-05-01T12:20:30+02:00", at(2024, 5, 1, 10, 20, 30)},
           {"2024-05-01T05:50:30-04:30", at(2024, 5, 1, 10, 20, 30)},
           {"2024-05-01T10:20:30.5Z", at(2024, 5, 1, 10, 20, 30, milliseconds(500))},
           {"2024-05-01T10:20:30.123456789123Z",
            at(2024, 5, 1, 10, 20, 30, nanoseconds(123456789))},
           {"2024-02-29T00:00:00Z", at(2024, 2, 29, 0, 0, 0)},
       }) {
    auto t = parseTime(c.in);
    ASSERT_TRUE(t) << c.in << ": " << t.error().message();
    EXPECT_EQ(*t, c.want) << c.in;
  }
}

TEST(MetaTime, RejectsWhatGoRejects) {
  struct Case {
    const char* in;
    const char* why;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"2024-13-01T00:00:00Z", "month out of range"},
           {"2023-02-29T00:00:00Z", "day out of range"},
           {"2024-05-01T24:00:00Z", "hour out of range"},
           {"2024-05-01T10:20:60Z", "second out of range"},
           {"2024-05-01 10:20:30Z", "not an RFC 3339 time"},
           {"2024-05-01t10:20:30Z", "not an RFC 3339 time"},
           {"2024-05-01T10:20:30", "missing time zone"},
           {"2024-05-01T10:20:30.Z", "missing fraction digits"},
           {"2024-05-01T10:20:30Zjunk", "extra text: \"junk\""},
       }) {
    auto t = parseTime(c.in);
    ASSERT_FALSE(t) << c.in;
    EXPECT_EQ(t.error().message(), std::string("parsing time \"") + c.in +
                                       "\" as \"2006-01-02T15:04:05Z07:00\": " + c.why);
  }
}

TEST(MetaTime, Json) {
  auto unset = timeFromJson(nullptr);
  ASSERT_TRUE(unset);
  EXPECT_FALSE(*unset);
  auto empty = timeFromJson("");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(*empty);
  auto set = timeFromJson("2024-05-01T10:20:30Z");
  ASSERT_TRUE(set);
  EXPECT_EQ(**set, at(2024, 5, 1, 10, 20, 30));
  EXPECT_FALSE(timeFromJson(5));
}

}  // namespace
}  // namespace berth::kubeapi
