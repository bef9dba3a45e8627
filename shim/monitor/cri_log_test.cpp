#include "shim/monitor/cri_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/file_util.h"

namespace berth::shim {
namespace {

namespace fs = std::filesystem;

TEST(Rfc3339Nano, TrimsTrailingZerosAsGo) {
  struct Case {
    timespec ts;
    const char* want;
  } cases[] = {
      {{0, 0}, "1970-01-01T00:00:00Z"},
      {{1475712429, 669794202}, "2016-10-06T00:07:09.669794202Z"},
      {{1475712429, 500000000}, "2016-10-06T00:07:09.5Z"},
      {{1475712429, 120}, "2016-10-06T00:07:09.00000012Z"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(formatRfc3339Nano(c.ts), c.want);
}

class CriLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("berth-crilog-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  CriLogWriter open(std::size_t maxLine = CriLogWriter::kDefaultMaxLine) {
    auto w = CriLogWriter::open(
        dir_ / "0.log",
        [] {
          return timespec{1, 5};
        },
        maxLine);
    EXPECT_TRUE(w) << w.error().message();
    return std::move(*w);
  }
  std::string contents(const char* name = "0.log") {
    auto r = readFile(dir_ / name);
    return r ? *r : "<missing>";
  }
  fs::path dir_;
};

constexpr const char* kTs = "1970-01-01T00:00:01.000000005Z";

TEST_F(CriLogTest, CompleteLinesAreFullRecords) {
  auto w = open();
  ASSERT_TRUE(w.write(LogStream::kStdout, "hello\nworld\n"));
  ASSERT_TRUE(w.write(LogStream::kStderr, "oops\r\n\n"));
  EXPECT_EQ(contents(), fmt::format("{0} stdout F hello\n{0} stdout F world\n{0} stderr F oops\n"
                                    "{0} stderr F \n",
                                    kTs));
}

TEST_F(CriLogTest, LinesSplitAcrossReadsAreJoinedPerStream) {
  auto w = open();
  ASSERT_TRUE(w.write(LogStream::kStdout, "hel"));
  ASSERT_TRUE(w.write(LogStream::kStderr, "e1"));
  ASSERT_TRUE(w.write(LogStream::kStdout, "lo\nbye"));
  ASSERT_TRUE(w.write(LogStream::kStderr, "\n"));
  EXPECT_EQ(contents(), fmt::format("{0} stdout F hello\n{0} stderr F e1\n", kTs));
  // EOF: the unterminated rest is a full line, as containerd writes it.
  ASSERT_TRUE(w.finish(LogStream::kStdout));
  ASSERT_TRUE(w.finish(LogStream::kStderr));
  EXPECT_EQ(contents(),
            fmt::format("{0} stdout F hello\n{0} stderr F e1\n{0} stdout F bye\n", kTs));
}

TEST_F(CriLogTest, LongLinesBecomePartialChunks) {
  auto w = open(4);
  ASSERT_TRUE(w.write(LogStream::kStdout, "abcdefghij\n"));
  ASSERT_TRUE(w.write(LogStream::kStdout, "wxyz\n"));  // exactly the maximum: one full line
  ASSERT_TRUE(w.write(LogStream::kStdout, "12"));
  ASSERT_TRUE(w.write(LogStream::kStdout, "345"));
  EXPECT_EQ(contents(), fmt::format("{0} stdout P abcd\n{0} stdout P efgh\n{0} stdout F ij\n"
                                    "{0} stdout F wxyz\n{0} stdout P 1234\n",
                                    kTs));
}

TEST_F(CriLogTest, ReopenContinuesInANewFileAfterRotation) {
  auto w = open();
  ASSERT_TRUE(w.write(LogStream::kStdout, "one\n"));
  fs::rename(dir_ / "0.log", dir_ / "0.log.1");
  ASSERT_TRUE(w.write(LogStream::kStdout, "two\n"));  // still the rotated file
  ASSERT_TRUE(w.reopen());
  ASSERT_TRUE(w.write(LogStream::kStdout, "three\n"));
  EXPECT_EQ(contents("0.log.1"), fmt::format("{0} stdout F one\n{0} stdout F two\n", kTs));
  EXPECT_EQ(contents(), fmt::format("{0} stdout F three\n", kTs));
  EXPECT_EQ(fs::status(dir_ / "0.log").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
}

TEST_F(CriLogTest, UnopenableLogNamesTheFile) {
  auto w = CriLogWriter::open(dir_ / "missing-dir" / "0.log");
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message().find("missing-dir/0.log"), std::string::npos)
      << w.error().message();
}

}  // namespace
}  // namespace berth::shim
