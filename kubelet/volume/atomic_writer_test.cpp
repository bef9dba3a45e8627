#include "kubelet/volume/atomic_writer.h"

#include <sys/stat.h>

#include <regex>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/temp_dir_for_test.h"

namespace berth::kubelet::volume {
namespace {
namespace fs = std::filesystem;

class AtomicWriterTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }

  bool write(const Payload& payload) {
    auto w = AtomicWriter::open(dir_.path());
    EXPECT_TRUE(w) << w.error().message();
    auto r = w->write(payload);
    EXPECT_TRUE(r) << r.error().message();
    return r && *r;
  }
  std::string read(const std::string& rel) {
    auto r = readFile(dir_.path() / rel);
    return r ? *r : "<" + r.error().message() + ">";
  }
  std::string link(const std::string& rel) {
    std::error_code ec;
    return fs::read_symlink(dir_.path() / rel, ec).string();
  }
  // The entries of the volume dir, by name.
  std::set<std::string> entries() {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_.path()))
      out.insert(e.path().filename());
    return out;
  }
  mode_t modeOf(const std::string& rel) {
    struct stat st {};
    EXPECT_EQ(::stat((dir_.path() / rel).c_str(), &st), 0) << rel;
    return st.st_mode & 07777;
  }

  berth::testing::TempDir dir_{"berth-atomic-writer"};
};

TEST_F(AtomicWriterTest, FirstWriteMakesTimestampedDirDataLinkAndTopLevelLinks) {
  EXPECT_TRUE(write({{"key", {"v1", 0644}}, {"sub/dir/file", {"nested", 0600}}}));
  std::string ts = link("..data");
  EXPECT_TRUE(std::regex_match(ts, std::regex(R"(\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+)"))) << ts;
  EXPECT_EQ(link("key"), "..data/key");
  EXPECT_EQ(link("sub"), "..data/sub");  // top-level entries only
  EXPECT_EQ(read("key"), "v1");
  EXPECT_EQ(read("sub/dir/file"), "nested");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(dir_.path() / ts / "key")));
  EXPECT_EQ(modeOf(ts), 0755u);
  EXPECT_EQ(entries(), (std::set<std::string>{ts, "..data", "key", "sub"}));
}

TEST_F(AtomicWriterTest, ModesAreExactWhateverTheUmask) {
  mode_t old = ::umask(0077);
  EXPECT_TRUE(write({{"ro", {"a", 0400}}, {"exec", {"b", 0755}}, {"all", {"c", 0666}}}));
  ::umask(old);
  EXPECT_EQ(modeOf("ro"), 0400u);
  EXPECT_EQ(modeOf("exec"), 0755u);
  EXPECT_EQ(modeOf("all"), 0666u);
}

TEST_F(AtomicWriterTest, SamePayloadWritesNothing) {
  Payload p{{"a", {"1", 0644}}, {"b/c", {"2", 0644}}};
  EXPECT_TRUE(write(p));
  std::string ts = link("..data");
  EXPECT_FALSE(write(p));
  EXPECT_EQ(link("..data"), ts);
  // Content decides, not mode (the fsGroup walk changes modes on disk).
  p["a"].mode = 0600;
  EXPECT_FALSE(write(p));
  EXPECT_EQ(link("..data"), ts);
}

TEST_F(AtomicWriterTest, ChangedContentGoesLiveAndOldVersionIsRemoved) {
  EXPECT_TRUE(write({{"a", {"1", 0644}}}));
  std::string first = link("..data");
  EXPECT_TRUE(write({{"a", {"2", 0644}}}));
  std::string second = link("..data");
  EXPECT_NE(first, second);
  EXPECT_EQ(read("a"), "2");
  EXPECT_FALSE(fs::exists(dir_.path() / first));
  EXPECT_EQ(entries(), (std::set<std::string>{second, "..data", "a"}));
}

TEST_F(AtomicWriterTest, RemovedKeysLoseTheirLinks) {
  EXPECT_TRUE(write({{"a", {"1", 0644}},
                     {"b", {"2", 0644}},
                     {"d/x", {"3", 0644}},
                     {"d/y", {"4", 0644}},
                     {"e/z", {"5", 0644}}}));
  // b and all of e go; d keeps y.
  EXPECT_TRUE(write({{"a", {"1", 0644}}, {"d/y", {"4", 0644}}}));
  EXPECT_EQ(entries(), (std::set<std::string>{link("..data"), "..data", "a", "d"}));
  EXPECT_FALSE(fs::exists(dir_.path() / "d/x"));
  EXPECT_EQ(read("d/y"), "4");
  // Removing every key is a change too.
  EXPECT_TRUE(write({}));
  EXPECT_EQ(entries(), (std::set<std::string>{link("..data"), "..data"}));
}

TEST_F(AtomicWriterTest, RejectsPathsOutsideItsTree) {
  struct Case {
    std::string path;
    std::string error;
  } cases[] = {
      {"/etc/passwd", "invalid path: must be relative path: /etc/passwd"},
      {"../escape", "invalid path: must not contain '..': ../escape"},
      {"a/../../b", "invalid path: must not contain '..': a/../../b"},
      {"..data", "invalid path: must not start with '..': ..data"},
      {"..2026_01_01/x", "invalid path: must not start with '..': ..2026_01_01/x"},
      {"", "invalid path: must not be empty: \"\""},
      {std::string(256, 'n'),
       "invalid path: filenames must be less than or equal to 255 characters"},
  };
  for (const auto& c : cases) {
    auto w = AtomicWriter::open(dir_.path());
    ASSERT_TRUE(w);
    auto r = w->write({{"ok", {"1", 0644}}, {c.path, {"x", 0644}}});
    ASSERT_FALSE(r) << c.path;
    EXPECT_EQ(r.error().message(), c.error);
    EXPECT_TRUE(entries().empty()) << "nothing written for " << c.path;
  }
  for (std::string ok : {"a..b", ".hidden", "a/..b", "x/y/z"})
    EXPECT_TRUE(validatePayloadPath(ok)) << ok;
}

TEST_F(AtomicWriterTest, RecoversFromAWriteThatStoppedHalfway) {
  EXPECT_TRUE(write({{"a", {"1", 0644}}}));
  std::string live = link("..data");
  // What a crash between the steps leaves: an orphan timestamped dir and a ..data_tmp link.
  ASSERT_TRUE(makeDirs(dir_.path() / "..2020_01_01_00_00_00.1"));
  fs::create_symlink("..2020_01_01_00_00_00.1", dir_.path() / "..data_tmp");
  EXPECT_TRUE(write({{"a", {"2", 0644}}}));
  EXPECT_EQ(read("a"), "2");
  EXPECT_EQ(entries(), (std::set<std::string>{link("..data"), "..data", "a"}));
  EXPECT_FALSE(fs::exists(dir_.path() / live));
}

TEST_F(AtomicWriterTest, UnchangedPayloadStillRestoresAMissingLink) {
  EXPECT_TRUE(write({{"a", {"1", 0644}}}));
  fs::remove(dir_.path() / "a");
  EXPECT_FALSE(write({{"a", {"1", 0644}}}));
  EXPECT_EQ(link("a"), "..data/a");
}

TEST_F(AtomicWriterTest, SetPermsSeesTheNewDirectoryBeforeItGoesLive) {
  auto w = AtomicWriter::open(dir_.path());
  ASSERT_TRUE(w);
  std::vector<fs::path> seen;
  auto perms = [&](const fs::path& ts) -> Status {
    seen.push_back(ts);
    EXPECT_NE(link("..data"), ts.filename().string());
    return {};
  };
  ASSERT_TRUE(w->write({{"a", {"1", 0644}}}, perms));
  ASSERT_TRUE(w->write({{"a", {"1", 0644}}}, perms));  // unchanged: not called
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].filename().string(), link("..data"));
  auto failing = w->write({{"a", {"2", 0644}}}, [](const fs::path&) -> Status {
    return fail(Code::kPermissionDenied, "no");
  });
  ASSERT_FALSE(failing);
  EXPECT_EQ(failing.error().message(), "set volume ownership: no");
  EXPECT_EQ(read("a"), "1");  // the old version stays live
}

TEST(AtomicWriterOpen, TargetMustExist) {
  auto w = AtomicWriter::open("/nonexistent/berth-volume");
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message().find("/nonexistent/berth-volume"), std::string::npos);
}

}  // namespace
}  // namespace berth::kubelet::volume
