#include "common/base64.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(Base64, RoundTripsRfc4648Vectors) {
  // RFC 4648 section 10.
  const std::pair<std::string_view, std::string_view> kVectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (auto [plain, encoded] : kVectors) {
    EXPECT_EQ(base64Encode(plain), encoded);
    auto decoded = base64Decode(encoded);
    ASSERT_TRUE(decoded) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
  EXPECT_EQ(base64Encode(std::string("\xff\x00\xfe", 3)), "/wD+");
  EXPECT_EQ(*base64Decode("Zm8"), "fo");  // padding is optional
}

TEST(Base64, RefusesWhatIsNotBase64) {
  for (std::string_view bad : {"Zm9v!", "Zg==Zg", "Z", "Zm 9v"}) {
    auto r = base64Decode(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message().find("invalid base64"), std::string::npos);
  }
}

}  // namespace
}  // namespace berth
