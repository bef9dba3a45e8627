// `berth image` against Debian's docker-registry on 127.0.0.1 serving images the test built from
// busybox-static: every manifest type, platform selection from an index, a loopback registry over
// plain HTTP without configuration, what a missing image and a refused connection say, htpasswd
// basic auth over TLS with a test CA, a wrong password, a corrupted blob, a registry that dies
// mid-pull (and the resumed pull after), concurrent pulls sharing work.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/spawn.h"
#include "images/content_store.h"
#include "images/digest.h"
#include "images/paths.h"
#include "images/puller.h"
#include "images/registry_client.h"
#include "images/test_util.h"
#include "tests/integration/registry_fixture.h"

namespace berth::images {
namespace {

using testing::ManifestFlavour;
using testing::RegistryOptions;
using testing::RegistryServer;
using testing::TempDir;
using testing::TestImage;

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

class ImagesRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: unpacks with ownership, mounts overlays";
    if (!RegistryServer::available()) GTEST_SKIP() << "docker-registry is not installed";
    root_ = dir_.path() / "store";
    registriesYaml_ = dir_.path() / "registries.yaml";
  }

  void TearDown() override {
    if (!root_.empty()) (void)berth({"image", "umount", "c1"});
  }

  void startRegistry(RegistryOptions options = {}) {
    auto r = RegistryServer::start(dir_.path() / "registry", std::move(options));
    ASSERT_TRUE(r) << r.error().message();
    registry_ = std::move(*r);
  }

  // A registries.yaml marking the plain-HTTP registry insecure.
  void configureInsecure() {
    ASSERT_TRUE(writeFile(registriesYaml_, fmt::format("mirrors:\n  \"{}\":\n    endpoint:\n"
                                                       "      - \"http://{}\"\n",
                                                       registry_->host(), registry_->host())));
  }

  CliResult berth(std::vector<std::string> args) {
    std::vector<std::string> argv = {BERTH_BINARY, "--root", root_.string(), "--registry-config",
                                     registriesYaml_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    SpawnOptions o{.path = BERTH_BINARY, .args = argv};
    o.captureStdout = true;
    o.captureStderr = true;
    o.timeout = std::chrono::seconds(120);
    auto r = runProgram(o);
    if (!r) return {.code = -1, .err = r.error().message()};
    return {.code = r->status.code, .out = r->stdoutData, .err = r->stderrData};
  }

  std::string ref(const std::string& repoTag) const { return registry_->host() + "/" + repoTag; }

  // The busybox image's view after its whiteout layer: checked through a mount.
  void expectBusyboxView(const std::string& image, const std::string& arch = "amd64") {
    auto m = berth({"image", "mount", image, "c1"});
    ASSERT_EQ(m.code, 0) << m.err;
    std::filesystem::path merged = m.out.substr(0, m.out.find('\n'));
    EXPECT_EQ(*readFile(merged / "etc/arch"), arch + "\n");
    EXPECT_FALSE(std::filesystem::exists(merged / "etc/hostname"));   // whiteout
    EXPECT_FALSE(std::filesystem::exists(merged / "var/cache/old"));  // opaque dir
    EXPECT_TRUE(std::filesystem::exists(merged / "var/cache/new"));
    struct stat sh {
    }, bb{};
    ASSERT_EQ(::stat((merged / "bin/sh").c_str(), &sh), 0);
    ASSERT_EQ(::stat((merged / "bin/busybox").c_str(), &bb), 0);
    EXPECT_EQ(sh.st_ino, bb.st_ino);  // applets are hard links
    EXPECT_EQ(bb.st_mode & 0777, 0755u);
    auto u = berth({"image", "umount", "c1"});
    ASSERT_EQ(u.code, 0) << u.err;
    EXPECT_FALSE(std::filesystem::exists(merged));
  }

  TempDir dir_;
  std::filesystem::path root_;
  std::filesystem::path registriesYaml_;
  std::unique_ptr<RegistryServer> registry_;
};

TEST_F(ImagesRegistryTest, EveryManifestTypeOverInsecureHttp) {
  startRegistry();
  configureInsecure();
  auto oci = testing::makeBusyboxImage(ManifestFlavour::kOci);
  auto docker = testing::makeBusyboxImage(ManifestFlavour::kDocker);
  auto ociArm = testing::makeBusyboxImage(ManifestFlavour::kOci, "arm64");
  auto dockerArm = testing::makeBusyboxImage(ManifestFlavour::kDocker, "arm64");
  ASSERT_TRUE(testing::push(*registry_, "bb", "oci", oci));
  ASSERT_TRUE(testing::push(*registry_, "bb", "docker", docker));
  ASSERT_TRUE(testing::push(*registry_, "bb", "oci-arm", ociArm));
  ASSERT_TRUE(testing::push(*registry_, "bb", "docker-arm", dockerArm));
  auto ociIndex = testing::pushIndex(*registry_, "bb", "oci-index", {&ociArm, &oci},
                                     {"arm64", "amd64"}, ManifestFlavour::kOci);
  ASSERT_TRUE(ociIndex) << ociIndex.error().message();
  auto list = testing::pushIndex(*registry_, "bb", "docker-list", {&dockerArm, &docker},
                                 {"arm64", "amd64"}, ManifestFlavour::kDocker);
  ASSERT_TRUE(list) << list.error().message();

  for (const char* tag : {"oci", "docker", "oci-index", "docker-list"}) {
    SCOPED_TRACE(tag);
    auto p = berth({"image", "pull", ref(std::string("bb:") + tag)});
    ASSERT_EQ(p.code, 0) << p.err;
    expectBusyboxView(ref(std::string("bb:") + tag));
  }
  // By digest, and another platform from the index.
  auto byDigest = berth({"image", "pull", ref("bb@" + oci.digest())});
  ASSERT_EQ(byDigest.code, 0) << byDigest.err;
  auto arm = berth({"image", "pull", "--platform", "linux/arm64", ref("bb:docker-list")});
  ASSERT_EQ(arm.code, 0) << arm.err;
  expectBusyboxView(ref("bb:docker-list"), "arm64");
  auto none = berth({"image", "pull", "--platform", "linux/s390x", ref("bb:oci-index")});
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find("no image for platform linux/s390x"), std::string::npos) << none.err;

  auto ls = berth({"image", "ls"});
  ASSERT_EQ(ls.code, 0) << ls.err;
  EXPECT_NE(ls.out.find(ref("bb:oci-index")), std::string::npos) << ls.out;
  auto inspect = berth({"image", "inspect", ref("bb:oci-index")});
  ASSERT_EQ(inspect.code, 0) << inspect.err;
  auto j = nlohmann::json::parse(inspect.out);
  EXPECT_EQ(j[0]["indexDigest"], *ociIndex);
  EXPECT_EQ(j[0]["manifestDigest"], oci.digest());
  EXPECT_EQ(j[0]["imageConfig"]["config"]["Cmd"][0], "/bin/sh");

  // Removing every name leaves no blob and no snapshot behind.
  auto ids = berth({"image", "ls", "-q"});
  std::vector<std::string> rm = {"image", "rm"};
  for (const char* tag : {"oci", "docker", "oci-index", "docker-list"})
    rm.push_back(ref(std::string("bb:") + tag));
  rm.push_back(ref("bb@" + oci.digest()));
  auto removed = berth(rm);
  ASSERT_EQ(removed.code, 0) << removed.err;
  EXPECT_TRUE(std::filesystem::is_empty(paths::blobsDir(root_)));
  EXPECT_TRUE(std::filesystem::is_empty(paths::snapshotsDir(root_)));
  auto gone = berth({"image", "inspect", ref("bb:oci")});
  EXPECT_EQ(gone.code, 1);
  EXPECT_NE(gone.err.find("not found"), std::string::npos);
}

TEST_F(ImagesRegistryTest, AMirrorWithRewritesStandsInForAnotherRegistry) {
  startRegistry();
  ASSERT_TRUE(testing::push(*registry_, "mirrored/e2e/bb", "1.29",
                            testing::makeBusyboxImage(ManifestFlavour::kOci)));
  // As critest needs: registry.berth.test/e2e-test-images/... served by the local registry
  // under another path. Only the mirror is asked (it answers), never the registry itself.
  ASSERT_TRUE(
      writeFile(registriesYaml_,
                fmt::format("mirrors:\n  registry.berth.test:\n    endpoint: [\"http://{}\"]\n"
                            "    rewrite:\n      \"^e2e-test-images/(.*)\": \"mirrored/e2e/$1\"\n",
                            registry_->host())));
  auto p = berth({"image", "pull", "registry.berth.test/e2e-test-images/bb:1.29"});
  ASSERT_EQ(p.code, 0) << p.err;
  auto ls = berth({"image", "ls"});
  EXPECT_NE(ls.out.find("registry.berth.test/e2e-test-images/bb:1.29"), std::string::npos)
      << ls.out;
  expectBusyboxView("registry.berth.test/e2e-test-images/bb:1.29");
}

TEST_F(ImagesRegistryTest, BadInputIsAClearErrorAndLeavesNoImage) {
  auto upper = berth({"image", "pull", "Busybox"});
  EXPECT_EQ(upper.code, 1);
  EXPECT_EQ(upper.err, "berth: invalid reference \"Busybox\": repository name must be lowercase\n");
  auto platform = berth({"image", "pull", "--platform", "linux", "busybox"});
  EXPECT_EQ(platform.code, 1);
  EXPECT_NE(platform.err.find("invalid platform \"linux\""), std::string::npos) << platform.err;
  ASSERT_TRUE(writeFile(registriesYaml_, "mirrors: [oops]\n"));
  auto yaml = berth({"image", "pull", "busybox"});
  EXPECT_EQ(yaml.code, 1);
  EXPECT_EQ(yaml.err, "berth: " + registriesYaml_.string() + ": mirrors: must be a map\n");
  auto mount = berth({"image", "mount", "nope", "c1"});
  EXPECT_EQ(mount.code, 1);
  EXPECT_NE(mount.err.find("image nope not found"), std::string::npos) << mount.err;
  EXPECT_EQ(berth({"image", "umount", "never-mounted"}).code, 0);  // idempotent, as CRI removals
  auto usage = berth({"image", "pull"});
  EXPECT_NE(usage.code, 0);
  EXPECT_TRUE(!std::filesystem::exists(paths::imagesDir(root_)) ||
              std::filesystem::is_empty(paths::imagesDir(root_)));
}

// A registry on 127.0.0.1 is insecure without a registries.yaml, as containerd and docker treat
// one: the TLS handshake it answers in plain HTTP, then plain HTTP. TLS settings of its own in
// registries.yaml are what the file says: HTTPS, and no fallback.
TEST_F(ImagesRegistryTest, ALoopbackRegistryIsPlainHttpUnlessRegistriesYamlSaysOtherwise) {
  startRegistry();
  ASSERT_TRUE(
      testing::push(*registry_, "bb", "oci", testing::makeBusyboxImage(ManifestFlavour::kOci)));
  ASSERT_FALSE(std::filesystem::exists(registriesYaml_));
  auto p = berth({"image", "pull", ref("bb:oci")});
  ASSERT_EQ(p.code, 0) << p.err;
  expectBusyboxView(ref("bb:oci"));
  ASSERT_EQ(berth({"image", "rm", ref("bb:oci")}).code, 0);

  ASSERT_TRUE(writeFile(registriesYaml_, fmt::format("configs:\n  \"{}\":\n    tls:\n"
                                                     "      insecure_skip_verify: true\n",
                                                     registry_->host())));
  auto tls = berth({"image", "pull", ref("bb:oci")});
  EXPECT_EQ(tls.code, 1);
  EXPECT_NE(tls.err.find("https://" + registry_->host() + "/v2/bb/manifests/oci: TLS: "),
            std::string::npos)
      << tls.err;
  EXPECT_TRUE(std::filesystem::is_empty(paths::imagesDir(root_)));
}

// What `berth image pull` says when the image is missing and when nothing listens: the
// reference, the registry and the cause.
TEST_F(ImagesRegistryTest, NotFoundAndConnectionRefusedNameReferenceRegistryAndCause) {
  startRegistry();
  ASSERT_TRUE(
      testing::push(*registry_, "bb", "oci", testing::makeBusyboxImage(ManifestFlavour::kOci)));
  auto tag = berth({"image", "pull", ref("bb:nope")});
  EXPECT_EQ(tag.code, 1);
  EXPECT_NE(tag.err.find("pull " + ref("bb:nope") + ": http://" + registry_->host() +
                         ": manifest nope not found: GET http://" + registry_->host() +
                         "/v2/bb/manifests/nope: HTTP 404 (MANIFEST_UNKNOWN: "),
            std::string::npos)
      << tag.err;
  // Debian's docker-registry answers MANIFEST_UNKNOWN for a repository it lacks as well.
  auto repo = berth({"image", "pull", ref("nope/bb:oci")});
  EXPECT_EQ(repo.code, 1);
  EXPECT_NE(repo.err.find("pull " + ref("nope/bb:oci") + ": "), std::string::npos) << repo.err;
  EXPECT_NE(repo.err.find(" not found: GET http://" + registry_->host() + "/v2/nope/bb/"),
            std::string::npos)
      << repo.err;

  const std::string host = registry_->host();
  registry_.reset();  // stopped: nothing listens on its port
  auto refused = berth({"image", "pull", host + "/bb:oci"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("pull " + host + "/bb:oci: https://" + host), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("Couldn't connect to server"), std::string::npos) << refused.err;
  EXPECT_TRUE(std::filesystem::is_empty(paths::imagesDir(root_)));
}

TEST_F(ImagesRegistryTest, BasicAuthOverTlsWithATestCa) {
  startRegistry({.tls = true, .htpasswdUser = std::make_pair("berth", "s3cret")});
  ASSERT_TRUE(testing::push(*registry_, "secure/bb", "v1",
                            testing::makeBusyboxImage(ManifestFlavour::kDocker)));
  auto yaml = [&](const std::string& password, const std::string& tls) {
    return fmt::format(
        "configs:\n  \"{}\":\n    auth:\n      username: berth\n"
        "      password: \"{}\"\n    tls:\n{}",
        registry_->host(), password, tls);
  };
  std::string withCa = fmt::format("      ca_file: {}\n", registry_->caFile().string());

  ASSERT_TRUE(writeFile(registriesYaml_, yaml("wrong", withCa)));
  auto wrong = berth({"image", "pull", ref("secure/bb:v1")});
  EXPECT_EQ(wrong.code, 1);
  EXPECT_NE(wrong.err.find("wrong username or password"), std::string::npos) << wrong.err;

  ASSERT_TRUE(writeFile(registriesYaml_, yaml("s3cret", "      insecure_skip_verify: false\n")));
  auto untrusted = berth({"image", "pull", ref("secure/bb:v1")});
  EXPECT_EQ(untrusted.code, 1);
  EXPECT_NE(untrusted.err.find("certificate"), std::string::npos) << untrusted.err;

  ASSERT_TRUE(writeFile(registriesYaml_, yaml("s3cret", "      insecure_skip_verify: true\n")));
  auto skip = berth({"image", "pull", ref("secure/bb:v1")});
  EXPECT_EQ(skip.code, 0) << skip.err;

  ASSERT_TRUE(writeFile(registriesYaml_, yaml("s3cret", withCa)));
  auto ok = berth({"image", "pull", ref("secure/bb:v1")});
  ASSERT_EQ(ok.code, 0) << ok.err;
  expectBusyboxView(ref("secure/bb:v1"));

  // The /v2/ ping answers the challenge with the configured credentials.
  auto config = RegistryConfig::load(registriesYaml_);
  ASSERT_TRUE(config);
  auto endpoints = config->endpoints(registry_->host());
  ASSERT_FALSE(endpoints.empty());
  auto ping = RegistryClient(endpoints.back(), "secure/bb").ping();
  EXPECT_TRUE(ping) << ping.error().message();
  endpoints.back().auth.reset();
  auto anonymousPing = RegistryClient(endpoints.back(), "secure/bb").ping();
  ASSERT_FALSE(anonymousPing);
  EXPECT_EQ(anonymousPing.error().code(), Code::kUnauthenticated);

  // Credentials of the pull itself (CRI AuthConfig, ctr --user) instead of registries.yaml's.
  ASSERT_TRUE(writeFile(registriesYaml_, fmt::format("configs:\n  \"{}\":\n    tls:\n{}",
                                                     registry_->host(), withCa)));
  ASSERT_EQ(berth({"image", "rm", ref("secure/bb:v1")}).code, 0);
  auto noCreds = berth({"image", "pull", ref("secure/bb:v1")});
  EXPECT_EQ(noCreds.code, 1);
  EXPECT_NE(noCreds.err.find("wants credentials"), std::string::npos) << noCreds.err;
  auto badUser = berth({"image", "pull", "--user", "berth:nope", ref("secure/bb:v1")});
  EXPECT_EQ(badUser.code, 1);
  EXPECT_NE(badUser.err.find("wrong username or password"), std::string::npos) << badUser.err;
  auto withUser = berth({"image", "pull", "--user", "berth:s3cret", ref("secure/bb:v1")});
  EXPECT_EQ(withUser.code, 0) << withUser.err;
}

TEST_F(ImagesRegistryTest, BearerTokensFromTheChallengeRealm) {
  startRegistry();
  ASSERT_TRUE(testing::push(*registry_, "private/bb", "v1",
                            testing::makeBusyboxImage(ManifestFlavour::kOci)));
  // Token auth: the registry answers 401 Bearer realm=<token server>,service,scope.
  ASSERT_TRUE(registry_->reconfigure(
      {.tokenAuth = true, .tokenUser = std::make_pair("berth", "t0ken-pass")}));
  auto yaml = [&](const std::string& auth) {
    return fmt::format("mirrors:\n  \"{0}\":\n    endpoint: [\"http://{0}\"]\n{1}",
                       registry_->host(), auth);
  };
  std::string creds = fmt::format("configs:\n  \"{}\":\n    auth: {{username: berth, password: ",
                                  registry_->host());
  ASSERT_TRUE(writeFile(registriesYaml_, yaml("")));
  auto anonymous = berth({"image", "pull", ref("private/bb:v1")});
  EXPECT_EQ(anonymous.code, 1);
  EXPECT_NE(anonymous.err.find("credentials needed"), std::string::npos) << anonymous.err;

  ASSERT_TRUE(writeFile(registriesYaml_, yaml(creds + "nope}\n")));
  auto wrong = berth({"image", "pull", ref("private/bb:v1")});
  EXPECT_EQ(wrong.code, 1);
  EXPECT_NE(wrong.err.find("wrong username or password"), std::string::npos) << wrong.err;

  ASSERT_TRUE(writeFile(registriesYaml_, yaml(creds + "t0ken-pass}\n")));
  auto ok = berth({"image", "pull", ref("private/bb:v1")});
  ASSERT_EQ(ok.code, 0) << ok.err;
  expectBusyboxView(ref("private/bb:v1"));

  // An identity token (OAuth2 refresh token) is exchanged at the realm.
  ASSERT_TRUE(writeFile(registriesYaml_, yaml(fmt::format("configs:\n  \"{}\":\n    auth: "
                                                          "{{identitytoken: t0ken-pass}}\n",
                                                          registry_->host()))));
  ASSERT_EQ(berth({"image", "rm", ref("private/bb:v1")}).code, 0);
  auto identity = berth({"image", "pull", ref("private/bb:v1")});
  ASSERT_EQ(identity.code, 0) << identity.err;

  // A token the caller already has (CRI AuthConfig.registry_token) is sent as it is.
  ASSERT_TRUE(writeFile(registriesYaml_, yaml("")));
  ASSERT_EQ(berth({"image", "rm", ref("private/bb:v1")}).code, 0);
  {
    auto port = readFile(dir_.path() / "registry/token.port");
    ASSERT_TRUE(port);
    HttpRequest tokenReq{.url = fmt::format("http://127.0.0.1:{}/token?service=berth-test-registry"
                                            "&scope=repository:private/bb:pull",
                                            *port)};
    tokenReq.basicAuth = std::make_pair("berth", "t0ken-pass");
    HttpClient http;
    auto tokenRes = http.send(tokenReq);
    ASSERT_TRUE(tokenRes && tokenRes->status == 200);
    auto token = nlohmann::json::parse(tokenRes->body)["token"].get<std::string>();
    auto config = RegistryConfig::load(registriesYaml_);
    PullOptions o;
    o.auth = RegistryAuth{.registryToken = token};
    auto pulled = Puller(root_, *config).pull(ref("private/bb:v1"), o);
    ASSERT_TRUE(pulled) << pulled.error().message();
  }

  // A token server that gives anyone a pull token (as Docker Hub for public images).
  ASSERT_TRUE(registry_->reconfigure({.tokenAuth = true}));
  ASSERT_TRUE(writeFile(registriesYaml_, yaml("")));
  ASSERT_EQ(berth({"image", "rm", ref("private/bb:v1")}).code, 0);
  auto anon = berth({"image", "pull", ref("private/bb:v1")});
  ASSERT_EQ(anon.code, 0) << anon.err;
}

TEST_F(ImagesRegistryTest, UnsupportedManifestsAndLayersAreRefusedClearly) {
  // Schema 1 and unknown documents from a canned server (docker-registry won't store them).
  auto canned = dir_.path() / "canned";
  ASSERT_TRUE(makeDirs(canned));
  ASSERT_TRUE(writeFile(canned / "old", R"({"schemaVersion":1,"name":"bb","tag":"old",
    "architecture":"amd64","fsLayers":[],"history":[],"signatures":[]})"));
  ASSERT_TRUE(
      writeFile(canned / "old.type", "application/vnd.docker.distribution.manifest.v1+prettyjws"));
  ASSERT_TRUE(writeFile(canned / "html", "<html>hello</html>"));
  ASSERT_TRUE(writeFile(canned / "html.type", "text/html"));
  auto server = testing::startHelperServer(BERTH_STATIC_REGISTRY, dir_.path() / "canned.port",
                                           {canned.string()});
  ASSERT_TRUE(server) << server.error().message();
  std::string host = fmt::format("127.0.0.1:{}", server->second);
  ASSERT_TRUE(
      writeFile(registriesYaml_,
                fmt::format("mirrors:\n  \"{0}\":\n    endpoint: [\"http://{0}\"]\n", host)));
  auto schema1 = berth({"image", "pull", host + "/bb:old"});
  EXPECT_EQ(schema1.code, 1);
  EXPECT_NE(schema1.err.find("Docker image manifest schema 1 is not supported"), std::string::npos)
      << schema1.err;
  auto html = berth({"image", "pull", host + "/bb:html"});
  EXPECT_EQ(html.code, 1);
  EXPECT_NE(html.err.find("unsupported manifest media type \"text/html\""), std::string::npos)
      << html.err;
  auto missing = berth({"image", "pull", host + "/bb:nope"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("HTTP 404 (MANIFEST_UNKNOWN: unknown)"), std::string::npos)
      << missing.err;

  // A layer type this unpacker does not know, from the real registry.
  startRegistry();
  configureInsecure();
  auto image = testing::makeBusyboxImage(ManifestFlavour::kOci);
  image.layers[1].mediaType = "application/vnd.oci.image.layer.v1.tar+bzip2";
  auto m = ocispec::parseManifest(image.manifest);
  m->layers[1].mediaType = image.layers[1].mediaType;
  image.manifest = ocispec::toJson(*m).dump();
  ASSERT_TRUE(testing::push(*registry_, "bb", "bzip2", image));
  auto bzip2 = berth({"image", "pull", ref("bb:bzip2")});
  EXPECT_EQ(bzip2.code, 1);
  EXPECT_NE(bzip2.err.find("layers[1]: unsupported media type "
                           "\"application/vnd.oci.image.layer.v1.tar+bzip2\""),
            std::string::npos)
      << bzip2.err;
  EXPECT_TRUE(std::filesystem::is_empty(paths::imagesDir(root_)));
}

TEST_F(ImagesRegistryTest, ACorruptedBlobIsRefusedAndNotKept) {
  startRegistry();
  configureInsecure();
  auto image = testing::makeBusyboxImage(ManifestFlavour::kOci);
  ASSERT_TRUE(testing::push(*registry_, "bb", "v1", image));
  // Flip bytes of the top layer in the registry's storage, keeping its size.
  std::string hex = sha256Of(image.layers[1].blob).substr(7);
  auto data =
      registry_->storage() / "docker/registry/v2/blobs/sha256" / hex.substr(0, 2) / hex / "data";
  std::string bad = image.layers[1].blob;
  bad[bad.size() / 2] ^= 0x55;
  ASSERT_TRUE(writeFile(data, bad));
  auto p = berth({"image", "pull", ref("bb:v1")});
  EXPECT_EQ(p.code, 1);
  EXPECT_NE(p.err.find("blob sha256:" + hex + ": content digest is"), std::string::npos) << p.err;
  EXPECT_FALSE(std::filesystem::exists(paths::blob(root_, hex)));
  EXPECT_TRUE(std::filesystem::is_empty(paths::ingestDir(root_)));
  EXPECT_TRUE(std::filesystem::is_empty(paths::imagesDir(root_)));
}

TEST_F(ImagesRegistryTest, ARegistryDyingMidPullIsResumedAfter) {
  startRegistry();
  configureInsecure();
  auto image = testing::makeBigImage(48 << 20);
  ASSERT_TRUE(testing::push(*registry_, "big", "v1", image));
  std::string hex = sha256Of(image.layers[0].blob).substr(7);
  auto ingest = paths::ingest(root_, hex);

  // Stop the registry once part of the layer has arrived, then kill it.
  std::atomic<bool> stopped{false};
  std::thread killer([&] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      std::error_code ec;
      auto size = std::filesystem::file_size(ingest, ec);
      if (!ec && size > (1 << 20)) {
        ::kill(registry_->pid(), SIGSTOP);
        stopped = true;
        registry_->kill();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  auto p = berth({"image", "pull", ref("big:v1")});
  killer.join();
  ASSERT_TRUE(stopped) << "the pull finished before the registry could be stopped";
  EXPECT_EQ(p.code, 1);
  std::error_code ec;
  auto partial = std::filesystem::file_size(ingest, ec);
  ASSERT_FALSE(ec) << "the partial blob was not kept";
  EXPECT_GT(partial, 0u);
  EXPECT_LT(partial, image.layers[0].blob.size());
  EXPECT_TRUE(std::filesystem::is_empty(paths::imagesDir(root_)));

  ASSERT_TRUE(registry_->restart());
  auto again = berth({"--debug", "image", "pull", ref("big:v1")});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.err.find("resuming sha256:" + hex), std::string::npos) << again.err;
  EXPECT_TRUE(std::filesystem::exists(paths::blob(root_, hex)));
  EXPECT_FALSE(std::filesystem::exists(ingest));
}

TEST_F(ImagesRegistryTest, ConcurrentPullsOfOneImageShareTheWork) {
  startRegistry();
  configureInsecure();
  auto image = testing::makeBusyboxImage(ManifestFlavour::kOci, "amd64",
                                         {{"payload", std::string(8 << 20, 'p')}});
  ASSERT_TRUE(testing::push(*registry_, "bb", "v1", image));
  auto config = RegistryConfig::load(registriesYaml_);
  ASSERT_TRUE(config);
  std::mutex mu;
  std::vector<std::string> fetched;
  std::vector<Status> results(3);
  std::vector<std::thread> pulls;
  for (size_t i = 0; i < results.size(); ++i) {
    pulls.emplace_back([&, i] {
      PullOptions o;
      o.progress = [&](std::string_view line) {
        std::lock_guard lock(mu);
        if (line.starts_with("fetched")) fetched.emplace_back(line);
      };
      auto r = Puller(root_, *config).pull(ref("bb:v1"), o);
      results[i] = r ? Status() : Status(std::unexpected(r.error()));
    });
  }
  for (auto& t : pulls)
    t.join();
  for (const auto& r : results)
    EXPECT_TRUE(r) << r.error().message();
  // Two layers and a config, each fetched by exactly one of the pulls.
  EXPECT_EQ(fetched.size(), 3u) << fmt::format("{}", fmt::join(fetched, "\n"));
  expectBusyboxView(ref("bb:v1"));
}

}  // namespace
}  // namespace berth::images
