#include "kubelet/file_pod_source.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/temp_dir_for_test.h"
#include "kubeapi/object_meta.h"

namespace berth::kubelet {
namespace {

std::string manifest(const std::string& name, const std::string& arg = "3600") {
  return fmt::format(
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {}\nspec:\n  containers:\n  - name: c\n"
      "    image: busybox\n    args: [\"{}\"]\n",
      name, arg);
}

class FilePodSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }
  void write(const std::string& name, const std::string& data) {
    ASSERT_TRUE(writeFile(dir_.path() / name, data, 0644));
  }
  FilePodSource::Options options() {
    return {.path = dir_.path(),
            .nodeName = "n1",
            .onChange = [this](const auto& added, const auto& removed) {
              for (const auto& p : added)
                added_.push_back(kubeapi::objectKey(*p));
              for (const auto& p : removed)
                removed_.push_back(kubeapi::objectKey(*p));
            }};
  }
  std::vector<std::string> names(const FilePodSource& source) {
    std::vector<std::string> out;
    for (const auto& p : source.pods())
      out.emplace_back(kubeapi::nameOf(*p));
    return out;
  }

  testing::TempDir dir_;
  std::vector<std::string> added_, removed_;
};

TEST_F(FilePodSourceTest, ReadsEveryManifestButDotfilesAndSkipsBadOnes) {
  write("a.yaml", manifest("a"));
  write("b.json", R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"},
                      "spec":{"containers":[{"name":"c","image":"i"}]}})");
  write("c.manifest", manifest("c"));  // upstream reads any name
  write(".hidden.yaml", manifest("hidden"));
  write("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata: [\n");
  ASSERT_TRUE(std::filesystem::create_directory(dir_.path() / "sub"));
  write("sub/d.yaml", manifest("d"));  // no recursion
  FilePodSource source(options());
  source.rescan();
  EXPECT_EQ(names(source), (std::vector<std::string>{"a-n1", "b-n1", "c-n1"}));
  EXPECT_EQ(added_.size(), 3u);
  EXPECT_TRUE(removed_.empty());
}

TEST_F(FilePodSourceTest, AnEditIsANewPodAndRemovalRemovesIt) {
  write("a.yaml", manifest("a"));
  FilePodSource source(options());
  source.rescan();
  ASSERT_EQ(source.pods().size(), 1u);
  const std::string uid(kubeapi::uidOf(*source.pods()[0]));
  const std::string seen(*kubeapi::annotationOf(*source.pods()[0], "kubernetes.io/config.seen"));
  EXPECT_EQ(source.get(uid), source.pods()[0]);
  EXPECT_EQ(source.getByKey("default/a-n1"), source.pods()[0]);

  added_.clear();
  source.rescan();  // unchanged: the same pod, first seen when it was
  EXPECT_TRUE(added_.empty());
  EXPECT_EQ(*kubeapi::annotationOf(*source.pods()[0], "kubernetes.io/config.seen"), seen);

  write("a.yaml", manifest("a", "60"));
  source.rescan();
  ASSERT_EQ(source.pods().size(), 1u);
  EXPECT_NE(kubeapi::uidOf(*source.pods()[0]), uid);
  EXPECT_EQ(added_, std::vector<std::string>{"default/a-n1"});
  EXPECT_EQ(removed_, std::vector<std::string>{"default/a-n1"});
  EXPECT_EQ(source.get(uid), nullptr);

  removed_.clear();
  ASSERT_TRUE(removeAll(dir_.path() / "a.yaml"));
  source.rescan();
  EXPECT_TRUE(source.pods().empty());
  EXPECT_EQ(removed_, std::vector<std::string>{"default/a-n1"});
}

TEST_F(FilePodSourceTest, AFileThatStopsDecodingKeepsItsPod) {
  write("a.yaml", manifest("a"));
  FilePodSource source(options());
  source.rescan();
  const std::string uid(kubeapi::uidOf(*source.pods()[0]));
  write("a.yaml", "apiVersion: v1\nkind: Po");  // half written
  source.rescan();
  ASSERT_EQ(source.pods().size(), 1u);
  EXPECT_EQ(kubeapi::uidOf(*source.pods()[0]), uid);
}

TEST_F(FilePodSourceTest, AMissingPathHasNoPods) {
  auto o = options();
  o.path = dir_.path() / "absent";
  FilePodSource source(o);
  source.rescan();
  EXPECT_TRUE(source.pods().empty());
}

TEST_F(FilePodSourceTest, TheWatchSeesANewFile) {
  std::mutex mu;
  std::condition_variable cv;
  bool seen = false;
  auto o = options();
  o.onChange = [&](const auto& added, const auto&) {
    std::lock_guard lock(mu);
    seen = seen || !added.empty();
    cv.notify_all();
  };
  o.checkFrequency = std::chrono::hours(1);  // only inotify can see it in time
  FilePodSource source(o);
  source.start();
  write("a.yaml", manifest("a"));
  std::unique_lock lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return seen; }));
  lock.unlock();
  source.stop();
}

}  // namespace
}  // namespace berth::kubelet
