// The importer on archives built here (tar_builder_for_test.h): an OCI image layout and docker
// save output, named and normalised as a pull names them, the host's platform from an index, an
// import repeated, and every archive it must refuse (a digest that is not the content's, names
// that climb out, links, a missing blob, no name, another platform, a bad config, a layer that is
// not what its config says) with the file and the entry named and no image recorded. No
// privileges.

#include "images/importer.h"

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "images/content_store.h"
#include "images/digest.h"
#include "images/image_store.h"
#include "images/snapshotter.h"
#include "images/tar_builder_for_test.h"
#include "images/test_util.h"

namespace berth::images {
namespace {

using testing::Compression;
using testing::TarBuilder;

// One image's blobs, and the index.json entry naming it.
struct LayoutImage {
  std::map<std::string, std::string> blobs;  // digest -> content
  std::string layerTar;                      // uncompressed
  std::string layer;                         // the blob: layerTar gzipped
  std::string config;
  std::string manifest;
  std::string digest() const { return sha256Of(manifest); }
};

LayoutImage makeImage(const std::string& arch, const std::string& hello, std::string diffId = "") {
  LayoutImage im;
  im.layerTar = TarBuilder().dir("bin/").file("bin/hello", hello, 0755).finish();
  im.layer = TarBuilder::compress(im.layerTar, Compression::kGzip);
  if (diffId.empty()) diffId = sha256Of(im.layerTar);
  im.config = nlohmann::ordered_json{{"architecture", arch},
                                     {"os", "linux"},
                                     {"config", {{"Cmd", {"/bin/hello"}}}},
                                     {"rootfs", {{"type", "layers"}, {"diff_ids", {diffId}}}}}
                  .dump();
  im.manifest = nlohmann::ordered_json{{"schemaVersion", 2},
                                       {"mediaType", ocispec::kMediaTypeOciManifest},
                                       {"config",
                                        {{"mediaType", ocispec::kMediaTypeOciConfig},
                                         {"digest", sha256Of(im.config)},
                                         {"size", im.config.size()}}},
                                       {"layers",
                                        {{{"mediaType", ocispec::kMediaTypeOciLayerGzip},
                                          {"digest", sha256Of(im.layer)},
                                          {"size", im.layer.size()}}}}}
                    .dump();
  for (const auto* b : {&im.layer, &im.config, &im.manifest})
    im.blobs[sha256Of(*b)] = *b;
  return im;
}

nlohmann::ordered_json indexEntry(const std::string& mediaType, const std::string& body,
                                  const std::string& refName) {
  nlohmann::ordered_json e = {
      {"mediaType", mediaType}, {"digest", sha256Of(body)}, {"size", body.size()}};
  if (!refName.empty()) e["annotations"] = {{"org.opencontainers.image.ref.name", refName}};
  return e;
}

// An OCI image layout tar: oci-layout, index.json with `entries`, the blobs; `extra` adds
// entries (the malicious ones) before the blobs.
std::string layoutTar(const std::map<std::string, std::string>& blobs,
                      const nlohmann::ordered_json& entries,
                      const std::function<void(TarBuilder&)>& extra = {}) {
  TarBuilder t;
  t.file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  t.file("index.json", nlohmann::ordered_json{{"schemaVersion", 2},
                                              {"mediaType", ocispec::kMediaTypeOciIndex},
                                              {"manifests", entries}}
                           .dump());
  if (extra) extra(t);
  t.dir("blobs/").dir("blobs/sha256/");
  for (const auto& [digest, data] : blobs)
    t.file("blobs/sha256/" + digest.substr(7), data);
  return t.finish();
}

std::string layoutTar(const LayoutImage& im, const std::string& refName,
                      const std::function<void(TarBuilder&)>& extra = {}) {
  return layoutTar(im.blobs,
                   nlohmann::ordered_json::array({indexEntry(
                       std::string(ocispec::kMediaTypeOciManifest), im.manifest, refName)}),
                   extra);
}

class ImporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "store";
    options_.unpackOptions.privileged = false;
  }

  std::filesystem::path write(const std::string& name, const std::string& data) {
    auto p = dir_.path() / name;
    EXPECT_TRUE(makeDirs(p.parent_path()));
    EXPECT_TRUE(writeFile(p, data));
    return p;
  }

  Result<std::vector<ImageRecord>> import(const std::filesystem::path& file) {
    return Importer(root_).importArchive(file, options_);
  }

  std::string helloIn(const ImageRecord& r) {
    auto snapshots = Snapshotter::open(root_);
    auto fs = snapshots->fsPath(r.chainIds.back());
    return readFile(*fs / "bin/hello").value_or("<none>");
  }

  // Nothing recorded and nothing copied: the archive was refused in the first pass.
  void expectNothingStored() {
    auto images = ImageStore::open(root_);
    ASSERT_TRUE(images);
    EXPECT_TRUE(images->list()->empty());
    auto content = ContentStore::open(root_);
    ASSERT_TRUE(content);
    EXPECT_TRUE(content->list()->empty());
    auto snapshots = Snapshotter::open(root_);
    ASSERT_TRUE(snapshots);
    EXPECT_TRUE(snapshots->list()->empty());
  }

  testing::TempDir dir_;
  std::filesystem::path root_;
  ImportOptions options_;
  std::string arch_ = hostPlatform().architecture;
  std::string otherArch_ = hostPlatform().architecture == "arm64" ? "amd64" : "arm64";
};

TEST_F(ImporterTest, AnOciLayoutIsRecordedUnderItsNormalisedNameAndUnpacked) {
  auto im = makeImage(arch_, "hello\n");
  auto file = write("busybox.tar", layoutTar(im, "busybox:demo"));
  auto records = import(file);
  ASSERT_TRUE(records) << records.error().message();
  ASSERT_EQ(records->size(), 1u);
  const auto& r = (*records)[0];
  EXPECT_EQ(r.name, "docker.io/library/busybox:demo");
  EXPECT_EQ(r.id, sha256Of(im.config));
  EXPECT_EQ(r.manifestDigest, im.digest());
  EXPECT_FALSE(r.indexDigest);
  ASSERT_EQ(r.diffIds.size(), 1u);
  EXPECT_EQ(r.diffIds[0], sha256Of(im.layerTar));
  EXPECT_EQ(helloIn(r), "hello\n");
  auto stored = ImageStore::open(root_)->get("docker.io/library/busybox:demo");
  ASSERT_TRUE(stored) << stored.error().message();
  EXPECT_EQ(stored->id, r.id);

  // Again: the same record, nothing more stored.
  auto blobs = ContentStore::open(root_)->list();
  auto again = import(file);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ((*again)[0].id, r.id);
  EXPECT_EQ(ImageStore::open(root_)->list()->size(), 1u);
  EXPECT_EQ(ContentStore::open(root_)->list()->size(), blobs->size());
  EXPECT_EQ(Snapshotter::open(root_)->list()->size(), 1u);
}

TEST_F(ImporterTest, AFullReferenceAndAGzippedArchive) {
  auto im = makeImage(arch_, "hi\n");
  auto file = write("x.tar.gz", TarBuilder::compress(layoutTar(im, "localhost:5000/team/app:1.0"),
                                                     Compression::kGzip));
  auto records = import(file);
  ASSERT_TRUE(records) << records.error().message();
  EXPECT_EQ((*records)[0].name, "localhost:5000/team/app:1.0");
}

TEST_F(ImporterTest, ADigestThatIsNotTheContentsIsRefusedAndNothingIsStored) {
  auto im = makeImage(arch_, "hello\n");
  std::string layerHex = sha256Of(im.layer).substr(7);
  im.blobs[sha256Of(im.layer)] =
      TarBuilder::compress(TarBuilder().file("bin/hello", "evil\n").finish(), Compression::kGzip);
  auto file = write("bad.tar", layoutTar(im, "busybox:demo"));
  auto records = import(file);
  ASSERT_FALSE(records);
  EXPECT_EQ(records.error().code(), Code::kDataLoss);
  const auto& m = records.error().message();
  EXPECT_NE(m.find(file.string() + ": entry \"blobs/sha256/" + layerHex + "\""), std::string::npos)
      << m;
  EXPECT_NE(m.find("content digest is"), std::string::npos) << m;
  expectNothingStored();
}

TEST_F(ImporterTest, NamesOutsideTheArchiveLinksAndDevicesAreRefused) {
  auto im = makeImage(arch_, "hello\n");
  struct Case {
    const char* entry;
    std::function<void(TarBuilder&)> add;
    const char* why;
  };
  std::vector<Case> cases = {
      {"../escape", [](TarBuilder& t) { t.file("../escape", "x"); }, "\"..\" component"},
      {"blobs/../../escape", [](TarBuilder& t) { t.file("blobs/../../escape", "x"); },
       "\"..\" component"},
      {"/tmp/escape", [](TarBuilder& t) { t.file("/tmp/escape", "x"); }, "absolute path"},
      {"blobs/sha256/link", [](TarBuilder& t) { t.symlink("blobs/sha256/link", "/etc/passwd"); },
       "only files and directories"},
      {"hard", [](TarBuilder& t) { t.hardlink("hard", "/etc/passwd"); },
       "only files and directories"},
      {"dev", [](TarBuilder& t) { t.chardev("dev", 1, 3); }, "only files and directories"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.entry);
    auto file = write("evil.tar", layoutTar(im, "busybox:demo", c.add));
    auto records = import(file);
    ASSERT_FALSE(records);
    const auto& m = records.error().message();
    EXPECT_NE(m.find(file.string() + ": entry \"" + c.entry + "\""), std::string::npos) << m;
    EXPECT_NE(m.find(c.why), std::string::npos) << m;
    expectNothingStored();
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path().parent_path() / "escape"));
  EXPECT_FALSE(std::filesystem::exists("/tmp/escape"));
}

TEST_F(ImporterTest, AMissingBlobNoNameAndNotAnArchiveAreNamed) {
  auto im = makeImage(arch_, "hello\n");
  auto layer = sha256Of(im.layer);
  auto blobs = im.blobs;
  blobs.erase(layer);
  struct Case {
    std::string data;
    std::string want;
  };
  std::vector<Case> cases = {
      {layoutTar(blobs, nlohmann::ordered_json::array({indexEntry(
                            std::string(ocispec::kMediaTypeOciManifest), im.manifest, "a:1")})),
       "blob " + layer + " is not in the archive"},
      {layoutTar(im, ""), "no image has a name"},
      {layoutTar(im, "latest"), "no image has a name"},  // a tag alone names no image
      {TarBuilder().file("hello", "x").finish(), "neither index.json nor manifest.json"},
      {"just text, not a tar", "not a tar archive"},
      {layoutTar(im, "Busybox:demo"), "repository name must be lowercase"},
      // Checked as a pull checks it, before anything is copied.
      {layoutTar(makeImage(otherArch_, "x"), "a:1"),
       "image docker.io/library/a:1: image is for linux/" + otherArch_ + ", not linux/" + arch_},
      {layoutTar(makeImage(arch_, "x", "sha256:" + std::string(63, '0')), "a:1"),
       "config " + sha256Of(makeImage(arch_, "x", "sha256:" + std::string(63, '0')).config)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.want);
    auto file = write("bad.tar", c.data);
    auto records = import(file);
    ASSERT_FALSE(records);
    EXPECT_TRUE(records.error().message().starts_with(file.string() + ": "))
        << records.error().message();
    EXPECT_NE(records.error().message().find(c.want), std::string::npos)
        << records.error().message();
    expectNothingStored();
  }
}

TEST_F(ImporterTest, ALayerThatIsNotItsDiffIdLeavesNoRecord) {
  auto im = makeImage(arch_, "hello\n", sha256Of("something else"));
  auto records = import(write("diff.tar", layoutTar(im, "busybox:demo")));
  ASSERT_FALSE(records);
  EXPECT_EQ(records.error().code(), Code::kDataLoss);
  EXPECT_NE(records.error().message().find("layer " + sha256Of(im.layer)), std::string::npos)
      << records.error().message();
  EXPECT_TRUE(ImageStore::open(root_)->list()->empty());
  EXPECT_TRUE(Snapshotter::open(root_)->list()->empty());
}

TEST_F(ImporterTest, AnIndexInTheLayoutGivesThisHostsPlatformOrTheOneAsked) {
  auto mine = makeImage(arch_, "mine\n");
  auto other = makeImage(otherArch_, "other\n");
  auto entry = [](const LayoutImage& im, const std::string& arch) {
    auto e = indexEntry(std::string(ocispec::kMediaTypeOciManifest), im.manifest, "");
    e["platform"] = {{"architecture", arch}, {"os", "linux"}};
    return e;
  };
  std::string index =
      nlohmann::ordered_json{{"schemaVersion", 2},
                             {"mediaType", ocispec::kMediaTypeOciIndex},
                             {"manifests", {entry(other, otherArch_), entry(mine, arch_)}}}
          .dump();
  auto blobs = mine.blobs;
  blobs.insert(other.blobs.begin(), other.blobs.end());
  blobs[sha256Of(index)] = index;
  auto file = write("multi.tar", layoutTar(blobs, nlohmann::ordered_json::array({indexEntry(
                                                      std::string(ocispec::kMediaTypeOciIndex),
                                                      index, "docker.io/library/multi:1")})));
  auto records = import(file);
  ASSERT_TRUE(records) << records.error().message();
  EXPECT_EQ((*records)[0].manifestDigest, mine.digest());
  EXPECT_EQ((*records)[0].indexDigest, sha256Of(index));
  EXPECT_EQ(helloIn((*records)[0]), "mine\n");

  options_.platform = *parsePlatform("linux/" + otherArch_);
  records = import(file);
  ASSERT_TRUE(records) << records.error().message();
  EXPECT_EQ((*records)[0].manifestDigest, other.digest());
  EXPECT_EQ(helloIn((*records)[0]), "other\n");
  options_.platform = *parsePlatform("linux/s390x");
  records = import(file);
  ASSERT_FALSE(records);
  EXPECT_NE(records.error().message().find("no image for platform linux/s390x"), std::string::npos)
      << records.error().message();
}

TEST_F(ImporterTest, DockerSaveIsRecordedUnderEachRepoTag) {
  auto im = makeImage(arch_, "saved\n");
  std::string configName = sha256Of(im.config).substr(7) + ".json";
  TarBuilder t;
  t.dir("0123abcd/").file("0123abcd/layer.tar", im.layerTar).file("0123abcd/VERSION", "1.0");
  t.file(configName, im.config);
  t.file("manifest.json",
         nlohmann::json::array({{{"Config", configName},
                                 {"RepoTags", {"busybox:saved", "localhost:5000/app:2"}},
                                 {"Layers", {"0123abcd/layer.tar"}}}})
             .dump());
  t.file("repositories", "{}");
  auto records = import(write("saved.tar", t.finish()));
  ASSERT_TRUE(records) << records.error().message();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].name, "docker.io/library/busybox:saved");
  EXPECT_EQ((*records)[1].name, "localhost:5000/app:2");
  EXPECT_EQ((*records)[0].id, sha256Of(im.config));
  EXPECT_EQ((*records)[0].layers[0].digest, sha256Of(im.layerTar));
  EXPECT_EQ(helloIn((*records)[1]), "saved\n");

  TarBuilder missing;
  missing.file("manifest.json",
               R"([{"Config":"c.json","RepoTags":["a:1"],"Layers":["l/layer.tar"]}])");
  auto bad = import(write("missing.tar", missing.finish()));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("manifest.json[0].Config: \"c.json\" is not in the archive"),
            std::string::npos)
      << bad.error().message();
}

TEST_F(ImporterTest, ADirectoryImportsItsArchivesInNameOrder) {
  auto a = makeImage(arch_, "a\n");
  auto b = makeImage(arch_, "b\n");
  write("images/b.tar.gz",
        TarBuilder::compress(layoutTar(b, "registry.test/b:1"), Compression::kGzip));
  write("images/a.tar", layoutTar(a, "registry.test/a:1"));
  write("images/README", "not an archive");
  auto records = Importer(root_).importDirectory(dir_.path() / "images", options_);
  ASSERT_TRUE(records) << records.error().message();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].name, "registry.test/a:1");
  EXPECT_EQ((*records)[1].name, "registry.test/b:1");
  auto none = Importer(root_).importDirectory(dir_.path() / "absent", options_);
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace berth::images
