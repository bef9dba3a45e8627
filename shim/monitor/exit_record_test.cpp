#include "shim/monitor/exit_record.h"

#include <gtest/gtest.h>

namespace berth::shim {
namespace {

TEST(ExitRecord, RoundTrips) {
  ExitRecord r{137, 9, 1475712429669794202};
  std::string json = exitRecordToJson(r);
  EXPECT_EQ(json, R"({"exitCode":137,"signal":9,"exitedAt":"2016-10-06T00:07:09.669794202Z",)"
                  R"("exitedAtNs":1475712429669794202})");
  auto back = parseExitRecord(json);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->exitCode, 137);
  EXPECT_EQ(back->signal, 9);
  EXPECT_EQ(back->exitedAtNs, r.exitedAtNs);
}

TEST(ExitRecord, BadRecordsNameTheField) {
  struct Case {
    const char* json;
    const char* want;
  } cases[] = {
      {"", "not a JSON object"},
      {"[]", "not a JSON object"},
      {R"({"signal":0,"exitedAtNs":1})", "exitCode"},
      {R"({"exitCode":"1","signal":0,"exitedAtNs":1})", "exitCode"},
      {R"({"exitCode":1,"exitedAtNs":1})", "signal"},
      {R"({"exitCode":1,"signal":0})", "exitedAtNs"},
  };
  for (const auto& c : cases) {
    auto r = parseExitRecord(c.json);
    ASSERT_FALSE(r) << c.json;
    EXPECT_NE(r.error().message().find(c.want), std::string::npos)
        << c.json << ": " << r.error().message();
  }
}

}  // namespace
}  // namespace berth::shim
