#include "kubeapi/quantity.h"

#include <gtest/gtest.h>

#include <limits>

namespace berth::kubeapi {
namespace {

Quantity q(const char* s) {
  auto r = Quantity::parse(s);
  EXPECT_TRUE(r) << s << ": " << (r ? "" : r.error().message());
  return r ? *r : Quantity();
}

TEST(Quantity, PrintsAsUpstream) {
  struct Case {
    const char* in;
    const char* out;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"0", "0"},
           {"100m", "100m"},
           {"1", "1"},
           {"1.5", "1500m"},
           {"0.5", "500m"},
           {"1000m", "1"},
           {"1000", "1k"},
           {"1536", "1536"},
           {"1Gi", "1Gi"},
           {"1024Mi", "1Gi"},
           {"1000Ki", "1000Ki"},
           {"8Ki", "8Ki"},
           {"1.5Gi", "1536Mi"},
           {"0.5Gi", "512Mi"},
           {"1.5Ki", "1536"},
           {"0.5Ki", "512"},
           {"1e3", "1e3"},
           {"1E3", "1E3"},
           {"12e6", "12e6"},
           {"1e100", "10e99"},
           {"1.5e3", "1500"},
           {"0.1n", "1n"},
           {"-0.1n", "-1n"},
           {"1n", "1n"},
           {"1u", "1u"},
           {"-100m", "-100m"},
           {"+1", "+1"},
           {"-0", "0"},
           {"01", "01"},
           {"1000000k", "1G"},
           {"5M", "5M"},
           {"1000E", "1"},  // upstream prints 1e21 in DecimalSI with no suffix
           {"123456789012345678901234567890", "123456789012345678901234567890"},
           {"9223372036854775807", "9223372036854775807"},
           {"99999999999999999999Ki", "9223372036854775807"},
           {".5", "500m"},
           {"1.", "1."},  // kept as written, as upstream keeps it
       }) {
    EXPECT_EQ(q(c.in).str(), c.out) << c.in;
  }
}

TEST(Quantity, RejectsWhatUpstreamRejects) {
  const std::string formatWrong =
      "quantities must match the regular expression "
      "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
  struct Case {
    const char* in;
    std::string error;
  };
  for (const auto& c : std::vector<Case>{
           {"", formatWrong},
           {"abc", formatWrong},
           {"1.2.3", formatWrong},
           {"1 Gi", formatWrong},
           {"1Gi ", formatWrong},
           {"1ki", "unable to parse quantity's suffix"},
           {"5e", "unable to parse quantity's suffix"},
           {"1Mb", formatWrong},
       }) {
    auto r = Quantity::parse(c.in);
    ASSERT_FALSE(r) << c.in << " parsed as " << r->str();
    EXPECT_EQ(r.error().message(), c.error) << c.in;
  }
}

TEST(Quantity, Values) {
  struct Case {
    const char* in;
    std::int64_t value;
    std::int64_t milli;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"1m", 1, 1},
           {"1.5", 2, 1500},
           {"-1.5", -2, -1500},
           {"1Gi", 1073741824, 1073741824000},
           {"100Mi", 104857600, 104857600000},
           {"0.1n", 1, 1},
           {"250m", 1, 250},
           {"1e30", std::numeric_limits<std::int64_t>::max(),
            std::numeric_limits<std::int64_t>::max()},
       }) {
    EXPECT_EQ(q(c.in).value(), c.value) << c.in;
    EXPECT_EQ(q(c.in).milliValue(), c.milli) << c.in;
  }
  EXPECT_EQ(Quantity::fromMilli(1500).str(), "1500m");
  EXPECT_EQ(Quantity::fromInt64(1 << 20, Quantity::Format::kBinarySI).str(), "1Mi");
  EXPECT_EQ(Quantity::fromInt64(3000).str(), "3k");
  EXPECT_EQ(Quantity::fromScaled(5, 6).str(), "5M");
}

TEST(Quantity, CompareAddSub) {
  EXPECT_GT(q("1Gi").cmp(q("1G")), 0);
  EXPECT_EQ(q("1000m").cmp(q("1")), 0);
  EXPECT_LT(q("-1").cmp(q("1m")), 0);
  EXPECT_LT(q("1e2").cmp(q("1e100")), 0);
  EXPECT_GT(q("123456789012345678901234567890").cmp(q("9223372036854775807")), 0);

  Quantity a = q("100m");
  a.add(q("900m"));
  EXPECT_EQ(a.str(), "1");
  Quantity b = q("1");
  b.sub(q("1500m"));
  EXPECT_EQ(b.str(), "-500m");
  Quantity zero;
  zero.add(q("1Gi"));
  EXPECT_EQ(zero.str(), "1Gi");  // a zero quantity takes the addend's format
  Quantity c = q("1Gi");
  c.add(q("512Mi"));
  EXPECT_EQ(c.str(), "1536Mi");
  Quantity d = q("1Gi");
  d.sub(q("1Gi"));
  EXPECT_TRUE(d.isZero());
  EXPECT_EQ(d.str(), "0");
  EXPECT_EQ(q("2").neg().str(), "-2");
}

TEST(Quantity, Json) {
  auto fromNumber = Quantity::fromJson(2);
  ASSERT_TRUE(fromNumber);
  EXPECT_EQ(fromNumber->str(), "2");
  auto fromFloat = Quantity::fromJson(0.5);
  ASSERT_TRUE(fromFloat);
  EXPECT_EQ(fromFloat->str(), "500m");
  auto spaced = Quantity::fromJson(" 1Gi ");
  ASSERT_TRUE(spaced);
  EXPECT_EQ(spaced->toJson(), "1Gi");
  EXPECT_FALSE(Quantity::fromJson(nlohmann::json::array()));
}

}  // namespace
}  // namespace berth::kubeapi
