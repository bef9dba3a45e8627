#include "kubelet/volume/payload.h"

#include <gtest/gtest.h>

#include "kubelet/volume/object_source_for_test.h"

namespace berth::kubelet::volume {
namespace {
using nlohmann::json;

const json kConfigMap = json::parse(R"({
  "metadata": {"name": "cm", "namespace": "default"},
  "data": {"app.conf": "port=80\n", "mode": "fast"},
  "binaryData": {"blob": "AAEC"}
})");

const json kSecret = json::parse(R"({
  "metadata": {"name": "s", "namespace": "default"},
  "data": {"password": "aHVudGVyMg==", "tls.key": "a2V5"}
})");

TEST(ConfigMapPayload, Table) {
  struct Case {
    const char* name;
    json items;
    mode_t defaultMode;
    bool optional;
    Payload want;
  } cases[] = {
      {"every key with defaultMode, binaryData decoded",
       nullptr,
       0644,
       false,
       {{"app.conf", {"port=80\n", 0644}},
        {"mode", {"fast", 0644}},
        {"blob", {std::string("\0\1\2", 3), 0644}}}},
      {"items pick keys, rename them, and set modes",
       json::parse(R"([{"key": "mode", "path": "conf/mode", "mode": 256},
                       {"key": "app.conf", "path": "app.conf"}])"),
       0440,
       false,
       {{"conf/mode", {"fast", 0400}}, {"app.conf", {"port=80\n", 0440}}}},
      {"an optional source skips a missing key",
       json::parse(R"([{"key": "nope", "path": "x"}, {"key": "mode", "path": "m"}])"),
       0644,
       true,
       {{"m", {"fast", 0644}}}},
  };
  for (const auto& c : cases) {
    auto got = makeConfigMapPayload(c.items, kConfigMap, c.defaultMode, c.optional);
    ASSERT_TRUE(got) << c.name << ": " << got.error().message();
    EXPECT_EQ(*got, c.want) << c.name;
  }
}

TEST(ConfigMapPayload, ErrorsNameTheKeyOrField) {
  auto missing = makeConfigMapPayload(json::parse(R"([{"key": "nope", "path": "x"}])"), kConfigMap,
                                      0644, false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "configmap references non-existent config key: nope");
  auto badMode = makeConfigMapPayload(json::parse(R"([{"key": "mode", "path": "x", "mode": 512}])"),
                                      kConfigMap, 0644, false);
  ASSERT_FALSE(badMode);
  EXPECT_EQ(badMode.error().message(),
            "items[0].mode: Invalid value: 512: must be a number between 0 and 0777 (octal), both "
            "inclusive");
  auto noPath = makeConfigMapPayload(json::parse(R"([{"key": "mode"}])"), kConfigMap, 0644, false);
  ASSERT_FALSE(noPath);
  EXPECT_EQ(noPath.error().message(), "items[0].path: Required value");
}

TEST(SecretPayload, DataIsBase64) {
  auto all = makeSecretPayload(nullptr, kSecret, 0400, false);
  ASSERT_TRUE(all) << all.error().message();
  EXPECT_EQ(*all, (Payload{{"password", {"hunter2", 0400}}, {"tls.key", {"key", 0400}}}));
  auto missing =
      makeSecretPayload(json::parse(R"([{"key": "user", "path": "u"}])"), kSecret, 0644, false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "references non-existent secret key: user");
  auto bad =
      makeSecretPayload(nullptr, json::parse(R"({"data": {"k": "not base64!"}})"), 0644, false);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("data[k]"), std::string::npos) << bad.error().message();
}

class VolumePayloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    objects_.putConfigMap("default", "cm", kConfigMap);
    objects_.putSecret("default", "s", kSecret);
  }
  ProjectionContext ctx(std::optional<gid_t> fsGroup = std::nullopt) {
    return ProjectionContext{pod_, objects_, allocatable_, std::nullopt, fsGroup};
  }

  MapObjectSource objects_;
  json pod_ = json::parse(R"({
    "metadata": {"name": "web", "namespace": "default", "uid": "uid-1",
                 "labels": {"app": "web"}},
    "spec": {"serviceAccountName": "builder",
             "containers": [{"name": "c", "resources": {"limits": {"memory": "64Mi"}}}]}
  })");
  json allocatable_ = json::parse(R"({"cpu": "2", "memory": "1Gi"})");
};

TEST_F(VolumePayloadTest, MissingObjectIsEmptyWhenOptionalElseAnErrorNamingIt) {
  auto optional =
      configMapVolumePayload(json::parse(R"({"name": "gone", "optional": true})"), ctx());
  ASSERT_TRUE(optional) << optional.error().message();
  EXPECT_TRUE(optional->empty());
  auto required = secretVolumePayload(json::parse(R"({"secretName": "gone"})"), ctx());
  ASSERT_FALSE(required);
  EXPECT_EQ(required.error().code(), Code::kNotFound);
  EXPECT_EQ(required.error().message(), "get secret default/gone: secrets \"gone\" not found");
}

TEST_F(VolumePayloadTest, DefaultModeAppliesToEveryFile) {
  auto p = configMapVolumePayload(json::parse(R"({"name": "cm", "defaultMode": 288})"), ctx());
  ASSERT_TRUE(p) << p.error().message();
  for (const auto& [path, file] : *p)
    EXPECT_EQ(file.mode, 0440u) << path;
  auto d = configMapVolumePayload(json::parse(R"({"name": "cm"})"), ctx());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->at("mode").mode, 0644u);
}

TEST_F(VolumePayloadTest, ProjectedMergesItsSourcesAndRequestsABoundToken) {
  json source = json::parse(R"({
    "defaultMode": 420,
    "sources": [
      {"configMap": {"name": "cm", "items": [{"key": "mode", "path": "mode"}]}},
      {"secret": {"name": "s", "items": [{"key": "password", "path": "creds/pw", "mode": 256}]}},
      {"downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
      {"serviceAccountToken": {"path": "token", "audience": "vault"}},
      {"configMap": {"name": "absent", "optional": true}}
    ]})");
  auto p = projectedVolumePayload(source, ctx());
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(*p, (Payload{{"mode", {"fast", 0644}},
                         {"creds/pw", {"hunter2", 0400}},
                         {"labels", {"app=\"web\"", 0644}},
                         {"token", {"token-1", 0644}}}));
  ASSERT_EQ(objects_.tokenRequests.size(), 1u);
  EXPECT_EQ(objects_.tokenRequests[0],
            (TokenRequest{"default", "builder", {"vault"}, 3600, "web", "uid-1"}));
}

TEST_F(VolumePayloadTest, TokenIs0600WithAnFsGroupAndKeepsItsExpiration) {
  json source = json::parse(R"({"defaultMode": 420, "sources": [
      {"serviceAccountToken": {"path": "t", "expirationSeconds": 7200}}]})");
  auto p = projectedVolumePayload(source, ctx(/*fsGroup=*/2000));
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->at("t").mode, 0600u);
  ASSERT_EQ(objects_.tokenRequests.size(), 1u);
  EXPECT_EQ(objects_.tokenRequests[0].expirationSeconds, 7200);
  EXPECT_TRUE(objects_.tokenRequests[0].audiences.empty());
}

TEST_F(VolumePayloadTest, ProjectedErrorsNameTheSource) {
  struct Case {
    const char* source;
    std::string error;
  } cases[] = {
      {R"({"sources": [{"configMap": {"name": "cm"}}, {"clusterTrustBundle": {"path": "b"}}]})",
       "sources[1].clusterTrustBundle: not supported by this kubelet"},
      {R"({"sources": [{"secret": {"name": "nope"}}]})",
       "sources[0].secret: get secret default/nope: secrets \"nope\" not found"},
      {R"({"sources": [{"serviceAccountToken": {}}]})",
       "sources[0].serviceAccountToken.path: Required value"},
      {R"({"sources": [{"downwardAPI": {"items": [{"path": "x", "fieldRef": {"fieldPath": "spec.nodeName"}}]}}]})",
       "sources[0].downwardAPI: items[0].fieldRef: unsupported fieldPath: spec.nodeName"},
  };
  for (const auto& c : cases) {
    auto p = projectedVolumePayload(json::parse(c.source), ctx());
    ASSERT_FALSE(p) << c.source;
    EXPECT_EQ(p.error().message(), c.error);
  }
}

}  // namespace
}  // namespace berth::kubelet::volume
