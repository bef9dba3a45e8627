#include "ocispec/image_spec.h"

#include <gtest/gtest.h>

namespace berth::ocispec {
namespace {

const std::string kDigestA = "sha256:" + std::string(64, 'a');
const std::string kDigestB = "sha256:" + std::string(64, 'b');

std::string manifestJson(std::string_view layersJson) {
  return fmt::format(R"({{"schemaVersion":2,"mediaType":"{}",
    "config":{{"mediaType":"{}","digest":"{}","size":10}},"layers":{}}})",
                     kMediaTypeOciManifest, kMediaTypeOciConfig, kDigestA, layersJson);
}

TEST(ImageSpec, ParsesOciManifest) {
  auto m = parseManifest(manifestJson(
      fmt::format(R"([{{"mediaType":"{}","digest":"{}","size":5,"annotations":{{"a":"b"}}}}])",
                  kMediaTypeOciLayerGzip, kDigestB)));
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->config.digest, kDigestA);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].size, 5);
  EXPECT_EQ(m->layers[0].annotations.at("a"), "b");
  // Round trip.
  auto again = parseManifest(toJson(*m).dump());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->layers[0].digest, kDigestB);
}

TEST(ImageSpec, ParsesDockerManifestListWithPlatforms) {
  auto idx = parseIndex(fmt::format(R"({{"schemaVersion":2,"mediaType":"{}","manifests":[
    {{"mediaType":"{}","digest":"{}","size":1,"platform":{{"architecture":"arm","os":"linux","variant":"v7"}}}},
    {{"mediaType":"{}","digest":"{}","size":2,"platform":{{"architecture":"amd64","os":"linux"}}}}]}})",
                                    kMediaTypeDockerManifestList, kMediaTypeDockerManifest,
                                    kDigestA, kMediaTypeDockerManifest, kDigestB));
  ASSERT_TRUE(idx) << idx.error().message();
  ASSERT_EQ(idx->manifests.size(), 2u);
  EXPECT_EQ(idx->manifests[0].platform->variant, "v7");
  EXPECT_EQ(idx->manifests[1].platform->architecture, "amd64");
}

TEST(ImageSpec, ParsesImageConfigDefaults) {
  auto c = parseImageConfig(fmt::format(R"({{"architecture":"amd64","os":"linux",
    "config":{{"User":"1000:1000","Env":["PATH=/bin"],"Entrypoint":["/bin/sh"],"Cmd":["-c","true"],
      "WorkingDir":"/w","ExposedPorts":{{"80/tcp":{{}}}},"Volumes":{{"/data":{{}}}},"Labels":{{"k":"v"}}}},
    "rootfs":{{"type":"layers","diff_ids":["{}"]}},
    "history":[{{"created_by":"x","empty_layer":true}}]}})",
                                        kDigestA));
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_TRUE(c->config);
  EXPECT_EQ(c->config->User, "1000:1000");
  EXPECT_EQ(c->config->Entrypoint, std::vector<std::string>{"/bin/sh"});
  EXPECT_TRUE(c->config->ExposedPorts.contains("80/tcp"));
  EXPECT_TRUE(c->config->Volumes.contains("/data"));
  EXPECT_EQ(c->rootfs.diff_ids.size(), 1u);
  EXPECT_TRUE(c->history[0].empty_layer);
  auto again = parseImageConfig(toJson(*c).dump());
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->config->WorkingDir, "/w");
}

struct BadCase {
  const char* name;
  std::string json;
  std::string wantPrefix;
};

TEST(ImageSpec, ManifestErrorsNameTheJsonPath) {
  std::string layerOk =
      fmt::format(R"({{"mediaType":"{}","digest":"{}","size":5}})", kMediaTypeOciLayer, kDigestB);
  std::vector<BadCase> cases = {
      {"not json", "{", "invalid JSON"},
      {"schema 1", R"({"schemaVersion":1})", "schemaVersion: must be 2"},
      {"no config", R"({"schemaVersion":2,"layers":[]})", "config: required"},
      {"no layers", fmt::format(R"({{"schemaVersion":2,"config":{}}})", layerOk),
       "layers: required"},
      {"bad digest", manifestJson(R"([{"mediaType":"x","digest":"sha256:abc","size":1}])"),
       "layers[0].digest: "},
      {"upper hex",
       manifestJson(fmt::format(R"([{},{{"mediaType":"x","digest":"sha256:{}","size":1}}])",
                                layerOk, std::string(64, 'A'))),
       "layers[1].digest: "},
      {"negative size",
       manifestJson(fmt::format(R"([{{"mediaType":"x","digest":"{}","size":-1}}])", kDigestA)),
       "layers[0].size: must not be negative"},
      {"size type",
       manifestJson(fmt::format(R"([{{"mediaType":"x","digest":"{}","size":"1"}}])", kDigestA)),
       "layers[0].size: must be a signed 64-bit integer"},
      {"missing media type", manifestJson(fmt::format(R"([{{"digest":"{}","size":1}}])", kDigestA)),
       "layers[0].mediaType: required"},
      {"index media type",
       fmt::format(R"({{"schemaVersion":2,"mediaType":"{}","config":{},"layers":[]}})",
                   kMediaTypeOciIndex, layerOk),
       "mediaType: \"application/vnd.oci.image.index.v1+json\" is not an image manifest"},
  };
  for (const auto& c : cases) {
    auto m = parseManifest(c.json);
    ASSERT_FALSE(m) << c.name;
    EXPECT_EQ(m.error().code(), Code::kInvalidArgument) << c.name;
    EXPECT_TRUE(m.error().message().starts_with(c.wantPrefix))
        << c.name << ": " << m.error().message();
  }
}

TEST(ImageSpec, IndexAndConfigErrorsNameTheJsonPath) {
  auto idx = parseIndex(R"({"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:)" +
                        std::string(64, '1') + R"(","size":1,"platform":{"os":"linux"}}]})");
  ASSERT_FALSE(idx);
  EXPECT_EQ(idx.error().message(), "manifests[0].platform.architecture: required");

  auto c = parseImageConfig(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers",
    "diff_ids":["nope"]}})");
  ASSERT_FALSE(c);
  EXPECT_TRUE(c.error().message().starts_with("rootfs.diff_ids[0]: ")) << c.error().message();

  auto ports = parseImageConfig(R"({"architecture":"amd64","os":"linux","config":{
    "ExposedPorts":{"80/tcp":1}},"rootfs":{"type":"layers","diff_ids":[]}})");
  ASSERT_FALSE(ports);
  EXPECT_EQ(ports.error().message(), "config.ExposedPorts.80/tcp: must be an object");

  auto noRootfs = parseImageConfig(R"({"architecture":"amd64","os":"linux"})");
  ASSERT_FALSE(noRootfs);
  EXPECT_EQ(noRootfs.error().message(), "rootfs: required");
}

TEST(ImageSpec, DetectsManifestKinds) {
  EXPECT_EQ(detectManifestKind("application/vnd.oci.image.index.v1+json", "{}"),
            ManifestKind::kIndex);
  EXPECT_EQ(
      detectManifestKind("application/json",
                         R"({"mediaType":"application/vnd.docker.distribution.manifest.v2+json"})"),
      ManifestKind::kManifest);
  EXPECT_EQ(detectManifestKind("application/vnd.docker.distribution.manifest.v1+prettyjws",
                               R"({"schemaVersion":1})"),
            ManifestKind::kSchema1);
  EXPECT_EQ(detectManifestKind("application/json", R"({"schemaVersion":1,"fsLayers":[]})"),
            ManifestKind::kSchema1);
  EXPECT_EQ(detectManifestKind("", R"({"schemaVersion":2,"manifests":[]})"), ManifestKind::kIndex);
  EXPECT_EQ(detectManifestKind("text/html", "<html>"), ManifestKind::kUnknown);
}

TEST(ImageSpec, ValidatesDigests) {
  EXPECT_TRUE(validateDigest(kDigestA));
  EXPECT_TRUE(validateDigest("sha512:" + std::string(128, '0')));
  EXPECT_TRUE(validateDigest("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"));
  EXPECT_FALSE(validateDigest("sha256"));
  EXPECT_FALSE(validateDigest(":abc"));
  EXPECT_FALSE(validateDigest("sha256:" + std::string(63, 'a')));
  EXPECT_FALSE(validateDigest("SHA256:" + std::string(64, 'a')));
  EXPECT_FALSE(validateDigest("sha256+:" + std::string(64, 'a')));
  EXPECT_FALSE(validateDigest("foo:"));
}

}  // namespace
}  // namespace berth::ocispec
