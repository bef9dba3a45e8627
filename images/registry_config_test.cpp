#include "images/registry_config.h"

#include <gtest/gtest.h>

#include "images/platform.h"
#include "images/registry_client.h"

namespace berth::images {
namespace {

TEST(RegistryConfig, MirrorsThenTheRegistryItself) {
  auto cfg = RegistryConfig::parse(R"(
mirrors:
  docker.io:
    endpoint:
      - "https://mirror.example.com:5000/"
      - "http://127.0.0.1:5001"
  "127.0.0.1:5002":
    endpoint: ["http://127.0.0.1:5002"]
configs:
  "mirror.example.com:5000":
    auth: {username: u, password: p}
    tls: {ca_file: /ca.pem, insecure_skip_verify: true}
  "127.0.0.1:5001":
    auth:
      auth: dXNlcjpwYXNzOndvcmQ=
)",
                                   "registries.yaml");
  ASSERT_TRUE(cfg) << cfg.error().message();
  auto eps = cfg->endpoints("docker.io");
  ASSERT_EQ(eps.size(), 3u);
  EXPECT_EQ(eps[0].url, "https://mirror.example.com:5000");
  EXPECT_EQ(eps[0].host, "mirror.example.com:5000");
  EXPECT_FALSE(eps[0].plainHttp);
  EXPECT_EQ(eps[0].auth->username, "u");
  EXPECT_EQ(eps[0].tls.caFile, "/ca.pem");
  EXPECT_TRUE(eps[0].tls.insecureSkipVerify);
  EXPECT_TRUE(eps[1].plainHttp);
  EXPECT_EQ(eps[1].auth->username, "user");
  EXPECT_EQ(eps[1].auth->password, "pass:word");
  EXPECT_EQ(eps[2].url, "https://registry-1.docker.io");
  EXPECT_TRUE(eps[2].isDefault);
  EXPECT_FALSE(eps[2].auth);

  auto local = cfg->endpoints("127.0.0.1:5002");
  ASSERT_EQ(local.size(), 2u);
  EXPECT_TRUE(local[0].plainHttp);
  EXPECT_EQ(local[1].url, "https://127.0.0.1:5002");
  EXPECT_TRUE(local[1].httpFallback);

  // Not configured: HTTPS, verified, no credentials.
  auto other = cfg->endpoints("quay.io");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].url, "https://quay.io");
  EXPECT_FALSE(other[0].tls.insecureSkipVerify);
}

TEST(RegistryConfig, RewritesApplyToMirrorsOnly) {
  auto cfg = RegistryConfig::parse(R"y(
mirrors:
  docker.io:
    endpoint: ["https://m.example.com"]
    rewrite:
      "^rancher/(.*)": "mirrorproject/rancher-images/$1"
      "^library/(busy.*)": "lib/$1"
)y",
                                   "r.yaml");
  ASSERT_TRUE(cfg) << cfg.error().message();
  auto eps = cfg->endpoints("docker.io");
  ASSERT_EQ(eps.size(), 2u);
  EXPECT_EQ(eps[0].repository("rancher/coredns-coredns"),
            "mirrorproject/rancher-images/coredns-coredns");
  EXPECT_EQ(eps[0].repository("library/busybox"), "lib/busybox");
  EXPECT_EQ(eps[0].repository("library/alpine"), "library/alpine");
  EXPECT_EQ(eps[1].repository("rancher/coredns-coredns"), "rancher/coredns-coredns");
  auto bad = RegistryConfig::parse("mirrors: {docker.io: {rewrite: {\"(\": x}}}", "r.yaml");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().message().starts_with(
      "r.yaml: mirrors.docker.io.rewrite.\"(\": invalid regular expression"))
      << bad.error().message();
}

TEST(RegistryConfig, LoopbackHosts) {
  for (const char* host : {"localhost", "localhost:5000", "127.0.0.1", "127.0.0.1:5000",
                           "127.9.8.7:1", "[::1]:5000", "[::1]", "[::ffff:127.0.0.1]:5000"}) {
    EXPECT_TRUE(isLoopbackRegistry(host)) << host;
  }
  for (const char* host : {"docker.io", "localhost.example.com:5000", "128.0.0.1:5000", "10.0.0.1",
                           "[::2]:5000", "[fe80::1]", "mylocalhost:5000", "[::1"}) {
    EXPECT_FALSE(isLoopbackRegistry(host)) << host;
  }
}

// A loopback registry registries.yaml says nothing about is insecure, as containerd 2 treats
// it: HTTPS unverified with a fallback to plain HTTP, plain HTTP on port 80, HTTPS alone on 443.
TEST(RegistryConfig, LoopbackRegistriesAreInsecureUnlessConfigured) {
  struct Case {
    std::string registry;
    std::string url;
    bool plainHttp, skipVerify, httpFallback;
  };
  std::vector<Case> cases = {
      {"127.0.0.1:5000", "https://127.0.0.1:5000", false, true, true},
      {"localhost:5000", "https://localhost:5000", false, true, true},
      {"[::1]:5000", "https://[::1]:5000", false, true, true},
      {"localhost", "https://localhost", false, true, false},
      {"127.0.0.1:443", "https://127.0.0.1:443", false, true, false},
      {"127.0.0.1:80", "http://127.0.0.1:80", true, false, false},
      {"10.0.0.1:5000", "https://10.0.0.1:5000", false, false, false},
      {"registry.example.com", "https://registry.example.com", false, false, false},
  };
  RegistryConfig none;
  for (const auto& c : cases) {
    auto eps = none.endpoints(c.registry);
    ASSERT_EQ(eps.size(), 1u) << c.registry;
    EXPECT_EQ(eps[0].url, c.url) << c.registry;
    EXPECT_EQ(eps[0].plainHttp, c.plainHttp) << c.registry;
    EXPECT_EQ(eps[0].tls.insecureSkipVerify, c.skipVerify) << c.registry;
    EXPECT_EQ(eps[0].httpFallback, c.httpFallback) << c.registry;
    EXPECT_TRUE(eps[0].isDefault) << c.registry;
  }

  // registries.yaml says otherwise: TLS settings of its own are used as written; credentials
  // alone change nothing; an https:// endpoint of the registry itself is HTTPS alone.
  auto cfg = RegistryConfig::parse(R"(
mirrors:
  "127.0.0.1:5003":
    endpoint: ["https://127.0.0.1:5003"]
configs:
  "127.0.0.1:5001":
    tls: {ca_file: /ca.pem}
  "127.0.0.1:5002":
    auth: {username: u, password: p}
)",
                                   "registries.yaml");
  ASSERT_TRUE(cfg) << cfg.error().message();
  auto withTls = cfg->endpoints("127.0.0.1:5001");
  ASSERT_EQ(withTls.size(), 1u);
  EXPECT_EQ(withTls[0].url, "https://127.0.0.1:5001");
  EXPECT_FALSE(withTls[0].tls.insecureSkipVerify);
  EXPECT_FALSE(withTls[0].httpFallback);
  EXPECT_EQ(withTls[0].tls.caFile, "/ca.pem");
  auto withAuth = cfg->endpoints("127.0.0.1:5002");
  ASSERT_EQ(withAuth.size(), 1u);
  EXPECT_TRUE(withAuth[0].httpFallback);
  EXPECT_EQ(withAuth[0].auth->username, "u");
  auto https = cfg->endpoints("127.0.0.1:5003");
  ASSERT_EQ(https.size(), 1u);
  EXPECT_FALSE(https[0].httpFallback);
  EXPECT_FALSE(https[0].tls.insecureSkipVerify);
}

TEST(RegistryConfig, WildcardMirrorAndMissingFile) {
  auto cfg = RegistryConfig::parse("mirrors:\n  \"*\":\n    endpoint: [\"http://m:1\"]\n", "f");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->endpoints("registry.k8s.io")[0].url, "http://m:1");
  EXPECT_EQ(cfg->endpoints("registry.k8s.io")[1].url, "https://registry.k8s.io");
  auto none = RegistryConfig::load("/nonexistent/registries.yaml");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->endpoints("docker.io").size(), 1u);
  EXPECT_TRUE(RegistryConfig::parse("", "f"));
}

TEST(RegistryConfig, ErrorsNameTheFileAndPath) {
  struct Case {
    std::string yaml;
    std::string want;
  };
  std::vector<Case> cases = {
      {"mirrors: [1]", "r.yaml: mirrors: must be a map"},
      {"mirror: {}", "r.yaml: mirror: unknown key (want mirrors or configs)"},
      {"mirrors: {docker.io: {endpoint: [\"ftp://x\"]}}",
       "r.yaml: mirrors.docker.io.endpoint[0]: \"ftp://x\": scheme must be http or https"},
      {"mirrors: {docker.io: {endpoint: [\"x:5000\"]}}",
       "r.yaml: mirrors.docker.io.endpoint[0]: \"x:5000\" needs a scheme (https:// or http://)"},
      {"mirrors: {docker.io: {endpoint: \"https://x\"}}",
       "r.yaml: mirrors.docker.io.endpoint: must be a list"},
      {"configs: {h: {tls: {insecure_skip_verify: maybe}}}",
       "r.yaml: configs.h.tls.insecure_skip_verify: must be a boolean"},
      {"configs: {h: {auth: {auth: \"!!\"}}}",
       "r.yaml: configs.h.auth.auth: must be base64 of user:password"},
      {"configs: {h: {tls: {cert_file: c.pem}}}",
       "r.yaml: configs.h.tls: cert_file and key_file go together"},
      {"mirrors: {a: [}", "r.yaml: "},
  };
  for (const auto& c : cases) {
    auto cfg = RegistryConfig::parse(c.yaml, "r.yaml");
    ASSERT_FALSE(cfg) << c.yaml;
    EXPECT_TRUE(cfg.error().message().starts_with(c.want)) << cfg.error().message();
  }
}

TEST(AuthChallenge, ParsesBearerAndBasic) {
  auto c = parseAuthChallenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scheme, "bearer");
  EXPECT_EQ(c->params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(c->params["service"], "registry.docker.io");
  EXPECT_EQ(c->params["scope"], "repository:library/busybox:pull");
  auto b = parseAuthChallenge(R"(Basic realm="Registry Realm")");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->scheme, "basic");
  EXPECT_EQ(b->params["realm"], "Registry Realm");
  EXPECT_FALSE(parseAuthChallenge(R"(Bearer realm="unterminated)"));
}

ocispec::Descriptor entry(std::string arch, std::optional<std::string> variant,
                          std::string mediaType = std::string(ocispec::kMediaTypeOciManifest)) {
  static int n = 0;
  return {.mediaType = std::move(mediaType),
          .digest = fmt::format("sha256:{:064x}", ++n),
          .size = 1,
          .platform = ocispec::Platform{
              .architecture = std::move(arch), .os = "linux", .variant = std::move(variant)}};
}

TEST(Platform, SelectsLikeContainerd) {
  ocispec::Index index;
  index.manifests = {entry("arm", "v6"), entry("arm", "v7"), entry("arm64", std::nullopt),
                     entry("amd64", std::nullopt, "application/vnd.in-toto+json"),
                     entry("amd64", std::nullopt)};
  EXPECT_EQ(selectManifest(index, {"linux", "arm", "v7"})->digest, index.manifests[1].digest);
  EXPECT_EQ(selectManifest(index, {"linux", "arm64", "v8"})->digest, index.manifests[2].digest);
  EXPECT_EQ(selectManifest(index, {"linux", "amd64", ""})->digest, index.manifests[4].digest);
  auto none = selectManifest(index, {"linux", "s390x", ""});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), Code::kNotFound);
  EXPECT_NE(none.error().message().find("no image for platform linux/s390x (the index has: "
                                        "linux/arm/v6, linux/arm/v7, linux/arm64"),
            std::string::npos)
      << none.error().message();
  EXPECT_EQ(parsePlatform("linux/arm64/v8")->variant, "v8");
  EXPECT_FALSE(parsePlatform("linux"));
  EXPECT_FALSE(hostPlatform().architecture.empty());
}

}  // namespace
}  // namespace berth::images
