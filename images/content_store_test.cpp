#include "images/content_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "images/paths.h"
#include "images/test_util.h"

namespace berth::images {
namespace {

using testing::TempDir;

TEST(ContentStore, PutVerifiesTheDigest) {
  TempDir dir;
  auto store = ContentStore::open(dir.path());
  ASSERT_TRUE(store);
  std::string data = "hello";
  ASSERT_TRUE(store->put(sha256Of(data), data));
  EXPECT_TRUE(store->has(sha256Of(data)));
  EXPECT_EQ(*store->read(sha256Of(data)), data);

  auto wrong = store->put(sha256Of("other"), data);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), Code::kDataLoss);
  EXPECT_FALSE(store->has(sha256Of("other")));
  // Nothing half-written stays behind.
  EXPECT_TRUE(std::filesystem::is_empty(paths::ingestDir(dir.path())));
  EXPECT_EQ(store->read(sha256Of("other")).error().code(), Code::kNotFound);
}

TEST(ContentStore, RefusesOtherAlgorithmsAndBadDigests) {
  TempDir dir;
  auto store = ContentStore::open(dir.path());
  auto r = store->put("sha512:" + std::string(128, 'a'), "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnimplemented);
  EXPECT_FALSE(store->put("sha256:../../etc", "x"));
}

TEST(ContentStore, WrongSizeLeavesNoPartialBlob) {
  TempDir dir;
  auto store = ContentStore::open(dir.path());
  std::string data = "0123456789";
  auto w = store->ingest(sha256Of(data), 5);
  ASSERT_TRUE(w && *w);
  auto st = (*w)->write(data.data(), data.size());
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("more than the expected 5 bytes"), std::string::npos);
  ASSERT_TRUE((*w)->write(data.data(), 5));
  auto c = (*w)->commit();
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("content digest is"), std::string::npos);
  EXPECT_FALSE(store->has(sha256Of(data)));
  EXPECT_TRUE(std::filesystem::is_empty(paths::ingestDir(dir.path())));
}

TEST(ContentStore, AnInterruptedWriteResumesWhereItStopped) {
  TempDir dir;
  auto store = ContentStore::open(dir.path());
  std::string data(100000, 'x');
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>(i * 7);
  std::string digest = sha256Of(data);
  {
    auto w = store->ingest(digest, static_cast<int64_t>(data.size()));
    ASSERT_TRUE(w && *w);
    ASSERT_TRUE((*w)->write(data.data(), 40000));
    // Dropped without commit: an interrupted pull.
  }
  EXPECT_EQ(store->staleIngests()->size(), 1u);
  auto w = store->ingest(digest, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(w && *w);
  EXPECT_EQ((*w)->offset(), 40000);
  ASSERT_TRUE((*w)->write(data.data() + 40000, data.size() - 40000));
  ASSERT_TRUE((*w)->commit());
  EXPECT_EQ(*store->read(digest), data);
  EXPECT_FALSE(*store->ingest(digest, static_cast<int64_t>(data.size())));
}

TEST(ContentStore, ConcurrentWritersOfOneBlobWriteItOnce) {
  TempDir dir;
  auto store = ContentStore::open(dir.path());
  std::string data(1 << 20, 'z');
  std::string digest = sha256Of(data);
  std::atomic<int> wrote{0};
  auto pull = [&] {
    auto s = ContentStore::open(dir.path());
    auto w = s->ingest(digest, static_cast<int64_t>(data.size()));
    ASSERT_TRUE(w) << w.error().message();
    if (!*w) return;  // the other one committed it while we waited
    ASSERT_EQ((*w)->offset(), 0);
    ++wrote;
    ASSERT_TRUE((*w)->write(data.data(), data.size()));
    ASSERT_TRUE((*w)->commit());
  };
  std::thread a(pull), b(pull), c(pull);
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(wrote.load(), 1);
  EXPECT_TRUE(store->has(digest));
  EXPECT_TRUE(std::filesystem::is_empty(paths::ingestDir(dir.path())));
}

}  // namespace
}  // namespace berth::images
