#include "runtime/systemd_bus.h"

#include <cstring>

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

uint32_t u32(const std::string& s, size_t at) {
  uint32_t v;
  std::memcpy(&v, s.data() + at, 4);
  return v;
}

TEST(SystemdBus, StartTransientUnitBodyLayout) {
  std::string body = SystemdBus::encodeStartTransientUnitBody(
      "berth-c.scope", {{"Delegate", true}, {"PIDs", std::vector<uint32_t>{42}}});
  // s name: length 13, text, NUL.
  EXPECT_EQ(u32(body, 0), 13u);
  EXPECT_EQ(body.substr(4, 13), "berth-c.scope");
  // s mode at 20 (4-aligned after 4+13+1 = 18).
  EXPECT_EQ(u32(body, 20), 4u);
  EXPECT_EQ(body.substr(24, 4), "fail");
  // a(sv): length at 32 (4-aligned after 29), elements from 40 (8-aligned).
  uint32_t arrayLen = u32(body, 32);
  // ("Delegate", b true): 4+8+1 = 13 → sig "b" at 53 (3 bytes) → value at 56 (4-aligned) = 60.
  EXPECT_EQ(u32(body, 40), 8u);
  EXPECT_EQ(body.substr(44, 8), "Delegate");
  EXPECT_EQ(body.substr(53, 3), std::string("\x01"
                                            "b\0",
                                            3));
  EXPECT_EQ(u32(body, 56), 1u);
  // ("PIDs", au [42]) starts at 64 (8-aligned).
  EXPECT_EQ(u32(body, 64), 4u);
  EXPECT_EQ(body.substr(68, 4), "PIDs");
  EXPECT_EQ(body.substr(73, 4), std::string("\x02"
                                            "au\0",
                                            4));
  EXPECT_EQ(u32(body, 80), 4u);  // array of one u32
  EXPECT_EQ(u32(body, 84), 42u);
  EXPECT_EQ(arrayLen, 88u - 40u);
  // The empty a(sa(sv)) at the end: length 0, padded to 8.
  EXPECT_EQ(u32(body, 88), 0u);
  EXPECT_EQ(body.size(), 96u);
}

TEST(SystemdBus, CallHeader) {
  std::string msg = SystemdBus::encodeCall(7, "StopUnit", "ss", std::string(16, 'x'));
  EXPECT_EQ(msg[0], 'l');
  EXPECT_EQ(msg[1], 1);  // METHOD_CALL
  EXPECT_EQ(u32(msg, 4), 16u);
  EXPECT_EQ(u32(msg, 8), 7u);
  uint32_t fields = u32(msg, 12);
  size_t bodyAt = (16 + fields + 7) & ~size_t{7};
  EXPECT_EQ(msg.size(), bodyAt + 16);
  EXPECT_NE(msg.find("org.freedesktop.systemd1.Manager"), std::string::npos);
  EXPECT_NE(msg.find("StopUnit"), std::string::npos);
}

TEST(SystemdBus, ConnectFailureNamesTheSocket) {
  auto bus = SystemdBus::connect("/nonexistent/systemd/private");
  ASSERT_FALSE(bus);
  EXPECT_NE(bus.error().message().find("/nonexistent/systemd/private"), std::string::npos);
}

}  // namespace
}  // namespace berth::runtime
