#include "images/image_store.h"

#include <gtest/gtest.h>

#include "images/content_store.h"
#include "images/digest.h"
#include "images/gc.h"
#include "images/paths.h"
#include "images/test_util.h"

namespace berth::images {
namespace {

using testing::TempDir;

ImageRecord record(std::string name, std::string configData) {
  ImageRecord r;
  r.name = std::move(name);
  r.id = sha256Of(configData);
  r.manifestDigest = sha256Of("manifest " + configData);
  r.manifestMediaType = std::string(ocispec::kMediaTypeOciManifest);
  r.config = {.mediaType = std::string(ocispec::kMediaTypeOciConfig), .digest = r.id, .size = 3};
  r.layers.push_back({.mediaType = std::string(ocispec::kMediaTypeOciLayer),
                      .digest = sha256Of("layer " + configData),
                      .size = 9});
  r.diffIds = {r.layers[0].digest};
  r.chainIds = {r.layers[0].digest};
  r.size = 12;
  r.created = "2026-01-01T00:00:00Z";
  return r;
}

TEST(ImageStore, PutGetListRemoveByNameAndId) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  ASSERT_TRUE(store);
  auto a = record("docker.io/library/busybox:latest", "A");
  auto a2 = record("docker.io/library/busybox:1.36", "A");
  auto b = record("localhost:5000/other:v1", "B");
  for (const auto& r : {a, a2, b})
    ASSERT_TRUE(store->put(r));
  auto got = store->get(a.name);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->id, a.id);
  EXPECT_EQ(got->layers[0].digest, a.layers[0].digest);
  EXPECT_EQ(store->list()->size(), 3u);

  // By familiar name.
  auto byName = store->resolve("busybox");
  ASSERT_TRUE(byName);
  ASSERT_EQ(byName->size(), 1u);
  EXPECT_EQ((*byName)[0].name, a.name);
  // By id prefix: every name of the image.
  EXPECT_EQ(store->resolve(a.id.substr(7, 12))->size(), 2u);
  EXPECT_EQ(store->resolve("localhost:5000/other@" + b.manifestDigest)->size(), 1u);

  auto removed = store->remove(a.id);
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->size(), 2u);
  EXPECT_EQ(store->list()->size(), 1u);
  auto missing = store->remove("busybox");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  EXPECT_EQ(missing.error().message(), "image busybox not found");
  ASSERT_TRUE(store->remove("localhost:5000/other:v1"));
  EXPECT_TRUE(store->list()->empty());
}

TEST(ImageStore, BadRecordNamesTheFileAndField) {
  TempDir dir;
  auto store = ImageStore::open(dir.path());
  auto r = record("docker.io/library/busybox:latest", "A");
  ASSERT_TRUE(store->put(r));
  auto path = paths::imagesDir(dir.path()) / (sha256Of(r.name).substr(7) + ".json");
  ASSERT_TRUE(writeFile(path, R"({"name":"x","id":1})"));
  auto got = store->get(r.name);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message(), path.string() + ": id: must be a string");
  ASSERT_TRUE(writeFile(path, R"({"name":"x","id":"abc","manifestDigest":"x",
    "manifestMediaType":"m"})"));
  got = store->get(r.name);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message(),
            path.string() + ": id: \"abc\" is not a digest (want algorithm:encoded)");
}

TEST(Gc, RemovesWhatNoRecordOrContainerHolds) {
  TempDir dir;
  ASSERT_TRUE(ContentStore::open(dir.path()));
  auto images = ImageStore::open(dir.path());
  auto r = record("docker.io/library/busybox:latest", "A");
  ASSERT_TRUE(images->put(r));
  auto blobs = paths::blobsDir(dir.path());
  for (const auto& d : {r.manifestDigest, r.config.digest, r.layers[0].digest, sha256Of("orphan1"),
                        sha256Of("orphan2")}) {
    ASSERT_TRUE(writeFile(blobs / d.substr(7), std::string(5000, 'x')));
  }
  auto live = paths::snapshot(dir.path(), r.chainIds[0].substr(7));
  auto dead = paths::snapshot(dir.path(), sha256Of("dead").substr(7));
  auto held = paths::snapshot(dir.path(), sha256Of("held").substr(7));
  for (const auto& s : {live, dead, held})
    ASSERT_TRUE(makeDirs(s / "fs" / "etc"));
  ASSERT_TRUE(makeDirs(paths::container(dir.path(), "c1")));
  ASSERT_TRUE(writeFile(paths::container(dir.path(), "c1") / "mount.json",
                        R"({"chainIds":[")" + sha256Of("held") + R"("]})"));
  ASSERT_TRUE(makeDirs(paths::snapshotTmpDir(dir.path()) / "half"));
  auto oldIngest = paths::ingest(dir.path(), sha256Of("old partial").substr(7));
  auto newIngest = paths::ingest(dir.path(), sha256Of("new partial").substr(7));
  ASSERT_TRUE(writeFile(oldIngest, "part"));
  ASSERT_TRUE(writeFile(newIngest, "part"));
  std::filesystem::last_write_time(oldIngest, std::filesystem::file_time_type::clock::now() -
                                                  kIngestExpiry - std::chrono::hours(1));

  auto before = diskUsage(dir.path());
  ASSERT_TRUE(before);
  auto gc = collectGarbage(dir.path());
  ASSERT_TRUE(gc) << gc.error().message();
  EXPECT_EQ(gc->blobsRemoved.size(), 2u);
  EXPECT_EQ(gc->snapshotsRemoved, std::vector<std::string>{sha256Of("dead")});
  EXPECT_GT(gc->bytesFreed, 0u);
  EXPECT_TRUE(std::filesystem::exists(blobs / r.layers[0].digest.substr(7)));
  EXPECT_FALSE(std::filesystem::exists(blobs / sha256Of("orphan1").substr(7)));
  EXPECT_TRUE(std::filesystem::exists(live));
  EXPECT_TRUE(std::filesystem::exists(held));
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_FALSE(std::filesystem::exists(paths::snapshotTmpDir(dir.path())));
  EXPECT_EQ(gc->ingestsRemoved, std::vector<std::string>{sha256Of("old partial").substr(7)});
  EXPECT_FALSE(std::filesystem::exists(oldIngest));
  EXPECT_TRUE(std::filesystem::exists(newIngest));  // a retried pull may still resume it
  auto after = diskUsage(dir.path());
  EXPECT_LT(after->bytes, before->bytes);
  EXPECT_LT(after->inodes, before->inodes);

  // Removing the record frees the rest.
  ASSERT_TRUE(images->remove(r.name));
  auto gc2 = collectGarbage(dir.path());
  ASSERT_TRUE(gc2);
  EXPECT_EQ(gc2->blobsRemoved.size(), 3u);
  EXPECT_EQ(gc2->snapshotsRemoved.size(), 1u);
}

}  // namespace
}  // namespace berth::images
