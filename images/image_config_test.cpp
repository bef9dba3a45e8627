#include "images/image_config.h"

#include <gtest/gtest.h>

#include "images/digest.h"
#include "images/test_util.h"

namespace berth::images {
namespace {

TEST(ImageConfig, UserAsCriReportsIt) {
  struct Case {
    std::string user;
    std::optional<int64_t> uid;
    std::string username;
  };
  std::vector<Case> cases = {{"", std::nullopt, ""},
                             {"1000", 1000, ""},
                             {"1000:1000", 1000, ""},
                             {"0", 0, ""},
                             {"nobody", std::nullopt, "nobody"},
                             {"nobody:nogroup", std::nullopt, "nobody"},
                             {"-1", std::nullopt, "-1"},
                             {"12a", std::nullopt, "12a"},
                             {":1000", std::nullopt, ""}};
  for (const auto& c : cases) {
    auto u = imageUser(c.user);
    EXPECT_EQ(u.uid, c.uid) << c.user;
    EXPECT_EQ(u.username, c.username) << c.user;
  }
}

TEST(ImageConfig, LoadsTheRecordsConfig) {
  testing::TempDir dir;
  auto content = ContentStore::open(dir.path());
  ASSERT_TRUE(content);
  std::string config = R"({"architecture":"amd64","os":"linux","config":{"User":"1000",
    "Entrypoint":["/bin/sh"],"Cmd":["-c","true"],"Env":["A=1"],"WorkingDir":"/w",
    "ExposedPorts":{"80/tcp":{}},"Volumes":{"/data":{}}},"rootfs":{"type":"layers","diff_ids":[]}})";
  ImageRecord r{.name = "docker.io/library/x:latest"};
  r.config = {.mediaType = std::string(ocispec::kMediaTypeOciConfig),
              .digest = sha256Of(config),
              .size = static_cast<int64_t>(config.size())};
  auto missing = loadImageConfig(*content, r);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  EXPECT_TRUE(missing.error().message().starts_with("image docker.io/library/x:latest: "));
  ASSERT_TRUE(content->put(r.config.digest, config));
  auto c = loadImageConfig(*content, r);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->config->Entrypoint, std::vector<std::string>{"/bin/sh"});
  EXPECT_EQ(c->config->Cmd, (std::vector<std::string>{"-c", "true"}));
  EXPECT_EQ(c->config->WorkingDir, "/w");
  EXPECT_TRUE(c->config->Volumes.contains("/data"));
  EXPECT_EQ(imageUser(c->config->User.value_or("")).uid, 1000);
}

}  // namespace
}  // namespace berth::images
