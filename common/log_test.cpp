#include "common/log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace berth {
namespace {

TEST(Log, LogrusJsonHasLevelMsgTimeInThatOrder) {
  auto when = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  std::string line = formatLogrus(LogFormat::kLogrusJson, spdlog::level::err, "bad \"id\"", when);
  EXPECT_EQ(line, R"({"level":"error","msg":"bad \"id\"","time":"2023-11-14T22:13:20Z"})");
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["msg"], "bad \"id\"");
}

TEST(Log, LogrusTextQuotesMessage) {
  auto when = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  EXPECT_EQ(formatLogrus(LogFormat::kLogrusText, spdlog::level::warn, "a b", when),
            R"(time="2023-11-14T22:13:20Z" level=warning msg="a b")");
}

}  // namespace
}  // namespace berth
