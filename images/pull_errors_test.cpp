// Why a pull failed, as the Puller reports it: one row per cause a registry can give (a fake
// registry on 127.0.0.1 plays each), checked for the code that says which cause it was and a
// message naming the reference, the registry and the cause. berth-cri turns the code into the
// kubelet's (shim/grpc_status_test.cpp); tests/integration/cri_server_test does both end to end.

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/http_server_for_test.h"
#include "images/digest.h"
#include "images/platform.h"
#include "images/puller.h"
#include "images/test_util.h"

namespace berth::images {
namespace {

using berth::testing::response;
using berth::testing::TestServer;

// A one-layer image and a registry serving it as repository "busybox", tag "latest", with one
// fault injected.
struct FakeImage {
  std::string layer = "not a tar, never unpacked";
  // For this host's platform, so that it is the one chosen.
  std::string config = fmt::format(
      R"({{"architecture":"{}","os":"linux","rootfs":{{"type":"layers","diff_ids":["sha256:{}"]}}}})",
      hostPlatform().architecture, std::string(64, '0'));
  std::string manifest;

  FakeImage() {
    manifest = fmt::format(
        R"({{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
        R"("config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}",)"
        R"("size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar",)"
        R"("digest":"{}","size":{}}}]}})",
        sha256Of(config), config.size(), sha256Of(layer), layer.size());
  }
};

enum class Fault {
  kNone,
  kTlsOnly,  // nothing: the endpoint is configured for verified TLS, the server speaks HTTP
  kHangUp,
  kChallenge,
  kDenied,
  kNoTag,
  kNoRepository,
  kOverloaded,
  kTooManyRequests,
  kManifestDigest,
  kBlobDigest,
  kNoBlob,
};

std::string registryError(int status, const char* code, const char* message,
                          const std::string& headers = "") {
  return response(status,
                  fmt::format(R"({{"errors":[{{"code":"{}","message":"{}"}}]}})", code, message),
                  headers);
}

std::string serve(const FakeImage& image, Fault fault, const std::string& req) {
  if (req.front() == '\x16') return response(400, "Client sent an HTTP request to an HTTP server");
  if (fault == Fault::kHangUp) return "";
  bool manifest = req.starts_with("GET /v2/busybox/manifests/latest ");
  if (manifest) {
    switch (fault) {
      case Fault::kChallenge:
        return registryError(401, "UNAUTHORIZED", "authentication required",
                             "WWW-Authenticate: Basic realm=\"fake\"\r\n");
      case Fault::kDenied:
        return registryError(403, "DENIED", "requested access to the resource is denied");
      case Fault::kNoTag:
        return registryError(404, "MANIFEST_UNKNOWN", "manifest unknown");
      case Fault::kNoRepository:
        return registryError(404, "NAME_UNKNOWN", "repository name not known to registry");
      case Fault::kOverloaded:
        return response(503, "overloaded");
      case Fault::kTooManyRequests:
        return registryError(429, "TOOMANYREQUESTS", "slow down");
      case Fault::kManifestDigest:
        return response(200, image.manifest,
                        "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n"
                        "Docker-Content-Digest: " +
                            sha256Of("something else") + "\r\n");
      default:
        return response(200, image.manifest,
                        "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n");
    }
  }
  if (req.starts_with("GET /v2/busybox/blobs/" + sha256Of(image.config) + " ")) {
    return response(200, image.config);
  }
  if (req.starts_with("GET /v2/busybox/blobs/" + sha256Of(image.layer) + " ")) {
    if (fault == Fault::kNoBlob) return registryError(404, "BLOB_UNKNOWN", "blob unknown");
    std::string body = image.layer;
    if (fault == Fault::kBlobDigest) body.back() = '!';  // same size, other bytes
    return response(200, body);
  }
  if (req.starts_with("GET /v2/ ")) return response(200, "{}");
  return registryError(404, "NOT_FOUND", "no such path");
}

TEST(PullErrors, EachCauseHasItsCodeAndAMessageNamingReferenceRegistryAndCause) {
  struct Case {
    const char* name;
    Fault fault;
    Code code;
    std::vector<std::string> says;  // besides the reference and the registry
  };
  const std::vector<Case> cases = {
      {"connection refused", Fault::kNone, Code::kUnavailable, {"connect"}},
      {"TLS to a plain-HTTP server", Fault::kTlsOnly, Code::kFailedPrecondition, {": TLS: "}},
      {"closed unanswered", Fault::kHangUp, Code::kUnavailable, {"Empty reply"}},
      {"401 and no credentials", Fault::kChallenge, Code::kUnauthenticated, {"credentials"}},
      {"403", Fault::kDenied, Code::kPermissionDenied, {"access denied", "HTTP 403 (DENIED: "}},
      {"no such tag",
       Fault::kNoTag,
       Code::kNotFound,
       {"manifest latest not found", "HTTP 404 (MANIFEST_UNKNOWN: manifest unknown)"}},
      {"no such repository",
       Fault::kNoRepository,
       Code::kNotFound,
       {"repository busybox not found", "NAME_UNKNOWN"}},
      {"503", Fault::kOverloaded, Code::kUnavailable, {"HTTP 503"}},
      {"429", Fault::kTooManyRequests, Code::kUnavailable, {"HTTP 429 (TOOMANYREQUESTS: "}},
      {"manifest digest mismatch",
       Fault::kManifestDigest,
       Code::kDataLoss,
       {"Docker-Content-Digest"}},
      {"blob digest mismatch", Fault::kBlobDigest, Code::kDataLoss, {"content digest is"}},
      {"no such blob", Fault::kNoBlob, Code::kNotFound, {"not found", "BLOB_UNKNOWN"}},
  };
  FakeImage image;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    testing::TempDir dir;
    std::string host;
    std::optional<TestServer> server;
    if (std::string(c.name) == "connection refused") {
      // A port nothing listens on any more.
      host = TestServer([](const std::string&) { return std::string(); }).hostPort();
    } else {
      server.emplace(
          [&, fault = c.fault](const std::string& req) { return serve(image, fault, req); });
      host = server->hostPort();
    }
    std::string yaml;
    if (c.fault == Fault::kTlsOnly) {
      yaml = fmt::format("configs:\n  \"{}\":\n    tls: {{insecure_skip_verify: true}}\n", host);
    }
    auto config = RegistryConfig::parse(yaml, "registries.yaml");
    ASSERT_TRUE(config) << config.error().message();
    Puller puller(dir.path() / "store", std::move(*config));
    const std::string ref = host + "/busybox:latest";
    auto pulled = puller.pull(ref, {.parallelDownloads = 1, .unpack = false});
    ASSERT_FALSE(pulled);
    EXPECT_EQ(codeName(pulled.error().code()), codeName(c.code));
    const std::string& m = pulled.error().message();
    EXPECT_TRUE(m.starts_with("pull " + ref + ": ")) << m;
    EXPECT_NE(m.find("://" + host), std::string::npos) << m;
    for (const auto& s : c.says)
      EXPECT_NE(m.find(s), std::string::npos) << "no \"" << s << "\" in: " << m;
    // Where the server answered, it is named as it was reached: over HTTP after the fallback.
    if (server && c.fault != Fault::kTlsOnly) {
      EXPECT_EQ(m.find("https://"), std::string::npos) << m;
    }
  }
}

// The same server without a fault: the table's rows fail for their fault alone.
TEST(PullErrors, TheFakeRegistryServesTheImageWithoutAFault) {
  FakeImage image;
  TestServer server([&](const std::string& req) { return serve(image, Fault::kNone, req); });
  testing::TempDir dir;
  Puller puller(dir.path() / "store", RegistryConfig());
  auto pulled =
      puller.pull(server.hostPort() + "/busybox:latest", {.parallelDownloads = 1, .unpack = false});
  ASSERT_TRUE(pulled) << pulled.error().message();
  EXPECT_EQ(pulled->id, sha256Of(image.config));
}

}  // namespace
}  // namespace berth::images
