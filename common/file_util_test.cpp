#include "common/file_util.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

namespace berth {
namespace {

class FileUtil : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-fileutil-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(FileUtil, AtomicWriteReplacesAndSetsMode) {
  auto p = dir_ / "state.json";
  ASSERT_TRUE(writeFileAtomic(p, "one", 0600));
  ASSERT_TRUE(writeFileAtomic(p, "two", 0600));
  EXPECT_EQ(readFile(p).value(), "two");
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  // No temp file is left behind.
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir_))
    ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(FileUtil, AtomicWriteIntoMissingDirNamesThePath) {
  auto r = writeFileAtomic(dir_ / "missing" / "f", "x");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("missing/f"), std::string::npos);
}

TEST_F(FileUtil, ReadMissingFileIsNotFound) {
  auto r = readFile(dir_ / "nope");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kNotFound);
  EXPECT_NE(r.error().message().find("nope"), std::string::npos);
}

TEST_F(FileUtil, MakeDirsAndRemoveAll) {
  auto deep = dir_ / "a" / "b" / "c";
  ASSERT_TRUE(makeDirs(deep));
  EXPECT_TRUE(std::filesystem::is_directory(deep));
  ASSERT_TRUE(makeDirs(deep));  // idempotent
  ASSERT_TRUE(removeAll(dir_ / "a"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "a"));
  EXPECT_TRUE(removeAll(dir_ / "a"));  // already gone is fine
}

}  // namespace
}  // namespace berth
