#include "kubelet/cri_log.h"

#include <fcntl.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/temp_dir_for_test.h"

namespace berth::kubelet {
namespace cri_log_test {

TEST(CriLog, ParsesLines) {
  auto l = parseCriLogLine("2016-10-06T00:17:09.669794202Z stdout F hello world");
  ASSERT_TRUE(l) << l.error().message();
  EXPECT_EQ(l->stream, "stdout");
  EXPECT_FALSE(l->partial);
  EXPECT_EQ(l->text, "hello world");
  EXPECT_EQ(l->time.unixNanos, 1475713029669794202);

  auto p = parseCriLogLine("2016-10-06T00:17:09.669794202Z stderr P part:");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->partial);
  EXPECT_EQ(p->stream, "stderr");

  auto empty = parseCriLogLine("2016-10-06T00:17:09Z stdout F ");  // an empty output line
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->text, "");
  auto tagged = parseCriLogLine("2016-10-06T00:17:09Z stdout F:x y");  // more tags after ':'
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->text, "y");

  struct Bad {
    const char* line;
    const char* names;
  };
  for (auto [line, names] :
       {Bad{"garbage", "timestamp"}, Bad{"2016-10-06T00:17:09Z", "timestamp"},
        Bad{"2016-10-06T00:17:09Z stdout", "stream"}, Bad{"2016-10-06T00:17:09Z stdout F", "tag"},
        Bad{"2016-10-06T00:17:09Z stdin F x", "stream"},
        Bad{"2016-10-06T00:17:09Z stdout X x", "tag"}, Bad{"2016-10-06 stdout F x", "RFC 3339"}}) {
    auto r = parseCriLogLine(line);
    ASSERT_FALSE(r) << line;
    EXPECT_NE(r.error().message().find(names), std::string::npos) << r.error().message();
  }
}

TEST(CriLog, TimestampsRoundTripWithFixedNanos) {
  auto t = parseRfc3339("2024-05-01T10:20:30.5+02:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->offsetSeconds, 7200);
  EXPECT_EQ(formatRfc3339NanoFixed(*t), "2024-05-01T10:20:30.500000000+02:00");
  EXPECT_EQ(formatRfc3339NanoFixed(*parseRfc3339("2024-05-01T08:20:30Z")),
            "2024-05-01T08:20:30.000000000Z");
  EXPECT_EQ(parseRfc3339("2024-05-01T08:20:30.5Z")->unixNanos, t->unixNanos);
}

constexpr const char* kT1 = "2024-01-01T00:00:01.000000001Z";
constexpr const char* kT2 = "2024-01-01T00:00:02Z";
constexpr const char* kT3 = "2024-01-01T00:00:03Z";

std::string decodeAll(const LogOptions& o, const std::vector<std::string>& lines) {
  LogDecoder d(o);
  std::string out;
  for (const auto& l : lines)
    if (!d.decode(l, out)) break;
  return out;
}

TEST(CriLog, DecoderJoinsPartialsAndPrefixesTimestampsOncePerLine) {
  std::vector<std::string> lines = {fmt::format("{} stdout P hel", kT1),
                                    fmt::format("{} stdout F lo", kT2),
                                    "not a cri line",  // skipped, as the kubelet does
                                    fmt::format("{} stderr F second", kT3)};
  EXPECT_EQ(decodeAll({}, lines), "hello\nsecond\n");
  EXPECT_EQ(decodeAll({.timestamps = true}, lines),
            "2024-01-01T00:00:01.000000001Z hello\n2024-01-01T00:00:03.000000000Z second\n");
  // since drops older lines by their own time.
  LogOptions since{.sinceNanos = parseRfc3339(kT2)->unixNanos};
  EXPECT_EQ(decodeAll(since, lines), "lo\nsecond\n");
  // limitBytes cuts inside a line and stops.
  EXPECT_EQ(decodeAll({.limitBytes = 8}, lines), "hello\nse");
  EXPECT_EQ(decodeAll({.limitBytes = 6}, lines), "hello\n");
}

class LogFile : public ::testing::Test {
 protected:
  void SetUp() override { path_ = dir_.path() / "0.log"; }
  void append(const std::string& data) {
    auto fd = openFd(path_, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_TRUE(fd);
    ASSERT_TRUE(writeAll(fd->get(), data));
  }
  std::string read(const LogOptions& o, const FollowHooks& hooks = {}) {
    std::string out;
    auto st = readContainerLog(
        path_, o,
        [&](std::string s) {
          out += s;
          return true;
        },
        hooks);
    EXPECT_TRUE(st) << st.error().message();
    return out;
  }
  berth::testing::TempDir dir_;
  std::filesystem::path path_;
};

TEST_F(LogFile, TailCountsFileLinesFromTheEnd) {
  std::string data;
  for (int i = 1; i <= 5; ++i)
    data += fmt::format("{} stdout F line{}\n", kT1, i);
  append(data);
  EXPECT_EQ(read({.tailLines = 2}), "line4\nline5\n");
  EXPECT_EQ(read({.tailLines = 0}), "");
  EXPECT_EQ(read({.tailLines = 50}), "line1\nline2\nline3\nline4\nline5\n");
  EXPECT_EQ(read({}), "line1\nline2\nline3\nline4\nline5\n");
  EXPECT_EQ(read({.tailLines = 1, .timestamps = true}), "2024-01-01T00:00:01.000000001Z line5\n");
}

TEST_F(LogFile, TailWorksAcrossReadBlocks) {
  std::string data;
  std::string big(3000, 'x');
  for (int i = 0; i < 10; ++i)
    data += fmt::format("{} stdout F {}{}\n", kT1, big, i);
  append(data);
  EXPECT_EQ(read({.tailLines = 3}), fmt::format("{}7\n{}8\n{}9\n", big, big, big));
}

TEST_F(LogFile, MissingFileIsAnErrorNamingIt) {
  auto st = readContainerLog(dir_.path() / "nope.log", {}, [](std::string) { return true; });
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("nope.log"), std::string::npos);
}

TEST_F(LogFile, FollowStreamsNewLinesUntilTheContainerExits) {
  append(fmt::format("{} stdout F before\n", kT1));
  std::atomic<bool> running{true};
  std::atomic<int> seen{0};
  std::string out;
  std::thread writer([&] {
    // Wait until the reader has the first line, then write more in pieces.
    while (seen.load() == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    append(fmt::format("{} stdout P after-\n", kT2));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    append(fmt::format("{} stdout F part\n{} stdout F ", kT2, kT3));  // a half-written line
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    append("last\n");
    running = false;
  });
  auto st = readContainerLog(path_, {.follow = true},
                             [&](std::string s) {
                               out += s;
                               seen++;
                               return true;
                             },
                             {.containerRunning = [&] { return running.load(); },
                              .recheck = std::chrono::milliseconds(50)});
  writer.join();
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(out, "before\nafter-part\nlast\n");
}

TEST_F(LogFile, FollowStopsWhenCancelled) {
  append(fmt::format("{} stdout F only\n", kT1));
  std::atomic<bool> cancelled{false};
  std::string out;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancelled = true;
  });
  auto st = readContainerLog(path_, {.follow = true},
                             [&](std::string s) {
                               out += s;
                               return true;
                             },
                             {.containerRunning = [] { return true; },
                              .cancelled = [&] { return cancelled.load(); },
                              .recheck = std::chrono::milliseconds(20)});
  canceller.join();
  ASSERT_TRUE(st);
  EXPECT_EQ(out, "only\n");
}

}  // namespace cri_log_test
}  // namespace berth::kubelet
