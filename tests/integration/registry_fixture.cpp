#include "tests/integration/registry_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "common/file_util.h"
#include "common/free_port_for_test.h"
#include "common/spawn.h"
#include "images/digest.h"
#include "images/tar_builder_for_test.h"

namespace berth::images::testing {
namespace {

constexpr const char* kRegistryBinary = "/usr/bin/docker-registry";

Status run(std::vector<std::string> args, const std::string& stdinData = {},
           std::string* out = nullptr) {
  SpawnOptions o{.path = args[0], .args = args, .stdinData = stdinData};
  o.captureStdout = true;
  o.captureStderr = true;
  o.timeout = std::chrono::seconds(60);
  auto r = BERTH_TRY(runProgram(o));
  if (!r.status.success()) {
    return fail(Code::kInternal, "{}: exit {}: {}", args[0], r.status.code, r.stderrData);
  }
  if (out) *out = r.stdoutData;
  return {};
}

// A CA and a server certificate for 127.0.0.1 (P-256 keys: fast to make).
Status makeCertificates(const std::filesystem::path& dir) {
  auto p = [&](const char* name) { return (dir / name).string(); };
  BERTH_TRY(run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", p("ca.key"), "-out",
                 p("ca.pem"), "-days", "2", "-subj", "/CN=berth test CA"}));
  BERTH_TRY(
      run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=127.0.0.1"}));
  BERTH_TRY(writeFile(dir / "ext.cnf", "subjectAltName=IP:127.0.0.1\n"));
  return run({"openssl", "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey",
              p("ca.key"), "-CAcreateserial", "-out", p("server.pem"), "-days", "2", "-extfile",
              p("ext.cnf")});
}

std::string configJson(const std::string& architecture, const std::vector<std::string>& diffIds) {
  nlohmann::ordered_json j;
  j["architecture"] = architecture;
  j["os"] = "linux";
  j["config"] = {{"Env", {"PATH=/bin"}}, {"Cmd", {"/bin/sh"}}, {"WorkingDir", "/"}};
  j["rootfs"] = {{"type", "layers"}, {"diff_ids", diffIds}};
  return j.dump();
}

void finishImage(TestImage& image, const std::string& architecture, ManifestFlavour flavour) {
  std::vector<std::string> diffIds;
  for (const auto& l : image.layers)
    diffIds.push_back(l.diffId);
  image.config = configJson(architecture, diffIds);
  writeManifest(image, flavour);
}

Status pushBlob(const RegistryServer& r, HttpClient& http, const std::string& repo,
                const std::string& data) {
  HttpRequest post{.method = "POST", .url = fmt::format("{}/v2/{}/blobs/uploads/", r.url(), repo)};
  post.basicAuth = r.credentials();
  auto res = BERTH_TRY(http.send(post));
  if (res.status != 202) return fail(Code::kInternal, "start upload: HTTP {}", res.status);
  std::string location = res.header("location");
  if (location.starts_with("/")) location = r.url() + location;
  location += location.find('?') == std::string::npos ? '?' : '&';
  location += "digest=" + sha256Of(data);
  HttpRequest put{.method = "PUT",
                  .url = location,
                  .headers = {"Content-Type: application/octet-stream"},
                  .body = data};
  put.basicAuth = r.credentials();
  res = BERTH_TRY(http.send(put));
  if (res.status != 201) return fail(Code::kInternal, "upload: HTTP {}: {}", res.status, res.body);
  return {};
}

Status pushManifest(const RegistryServer& r, HttpClient& http, const std::string& repo,
                    const std::string& ref, const std::string& mediaType, const std::string& body) {
  HttpRequest put{.method = "PUT",
                  .url = fmt::format("{}/v2/{}/manifests/{}", r.url(), repo, ref),
                  .headers = {"Content-Type: " + mediaType},
                  .body = body};
  put.basicAuth = r.credentials();
  auto res = BERTH_TRY(http.send(put));
  if (res.status != 201) {
    return fail(Code::kInternal, "put manifest: HTTP {}: {}", res.status, res.body);
  }
  return {};
}

}  // namespace

void writeManifest(TestImage& image, ManifestFlavour flavour) {
  bool oci = flavour == ManifestFlavour::kOci;
  ocispec::Manifest m;
  m.mediaType =
      std::string(oci ? ocispec::kMediaTypeOciManifest : ocispec::kMediaTypeDockerManifest);
  m.config = {.mediaType =
                  std::string(oci ? ocispec::kMediaTypeOciConfig : ocispec::kMediaTypeDockerConfig),
              .digest = sha256Of(image.config),
              .size = static_cast<int64_t>(image.config.size())};
  for (const auto& l : image.layers) {
    m.layers.push_back({.mediaType = l.mediaType,
                        .digest = sha256Of(l.blob),
                        .size = static_cast<int64_t>(l.blob.size())});
  }
  image.manifest = ocispec::toJson(m).dump();
  image.manifestMediaType = *m.mediaType;
}

bool RegistryServer::available() {
  return ::access(kRegistryBinary, X_OK) == 0;
}

Result<std::unique_ptr<RegistryServer>> RegistryServer::start(std::filesystem::path dir,
                                                              RegistryOptions options) {
  std::unique_ptr<RegistryServer> s(new RegistryServer());
  s->dir_ = std::move(dir);
  s->options_ = std::move(options);
  s->storage_ = s->dir_ / "storage";
  BERTH_TRY(makeDirs(s->storage_));
  s->host_ = fmt::format("127.0.0.1:{}", BERTH_TRY(berth::testing::freeLoopbackPort()));
  BERTH_TRY(s->writeConfig());
  BERTH_TRY(s->launch());
  return s;
}

Status RegistryServer::writeConfig() {
  std::string config = fmt::format(R"(version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {}
  delete:
    enabled: true
http:
  addr: {}
)",
                                   storage_.string(), host_);
  if (options_.tls) {
    if (caFile_.empty()) BERTH_TRY(makeCertificates(dir_));
    caFile_ = dir_ / "ca.pem";
    config += fmt::format("  tls:\n    certificate: {}\n    key: {}\n",
                          (dir_ / "server.pem").string(), (dir_ / "server.key").string());
  }
  if (options_.htpasswdUser) {
    std::string line;
    BERTH_TRY(run({"htpasswd", "-Bbn", options_.htpasswdUser->first, options_.htpasswdUser->second},
                  {}, &line));
    BERTH_TRY(writeFile(dir_ / "htpasswd", line));
    config += fmt::format("auth:\n  htpasswd:\n    realm: berth-test\n    path: {}\n",
                          (dir_ / "htpasswd").string());
  }
  if (options_.tokenAuth) {
    BERTH_TRY(startTokenServer());
    config += fmt::format(
        "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: berth-test-registry\n"
        "    issuer: berth-test-issuer\n    rootcertbundle: {}\n",
        BERTH_TRY(readFile(dir_ / "token.port")), (dir_ / "token.pem").string());
  }
  return writeFile(dir_ / "config.yml", config);
}

Status RegistryServer::startTokenServer() {
  tokenServer_.killAndReap();
  (void)::unlink((dir_ / "token.port").c_str());
  if (::access((dir_ / "token.pem").c_str(), F_OK) < 0) {
    BERTH_TRY(run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                   (dir_ / "token.key").string(), "-out", (dir_ / "token.pem").string(), "-days",
                   "2", "-subj", "/CN=berth test token issuer"}));
  }
  std::vector<std::string> args = {(dir_ / "token.key").string(), (dir_ / "token.pem").string(),
                                   "berth-test-issuer"};
  if (options_.tokenUser) {
    args.push_back(options_.tokenUser->first);
    args.push_back(options_.tokenUser->second);
  }
  auto [process, port] =
      BERTH_TRY(startHelperServer(BERTH_TOKEN_SERVER, dir_ / "token.port", args));
  tokenServer_ = std::move(process);
  (void)port;
  return {};
}

Status RegistryServer::reconfigure(RegistryOptions options) {
  process_.killAndReap();
  options_ = std::move(options);
  BERTH_TRY(writeConfig());
  return launch();
}

Status RegistryServer::launch() {
  std::string config = (dir_ / "config.yml").string();
  std::string log = (dir_ / "registry.log").string();
  pid_t pid = ::fork();
  if (pid < 0) return failErrno("fork");
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execl(kRegistryBinary, "docker-registry", "serve", config.c_str(), nullptr);
    ::_exit(127);
  }
  process_ = ChildProcess(pid);
  // Ready when /v2/ answers (200, or 401 with auth).
  HttpClient http = client();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    auto res = http.send({.url = url() + "/v2/", .connectTimeoutSeconds = 1});
    if (res && (res->status == 200 || res->status == 401)) return {};
    auto exited = BERTH_TRY(process_.waitFor(std::chrono::milliseconds(50)));
    if (exited) {
      return fail(Code::kInternal, "docker-registry exited {}: {}", exited->code,
                  readFile(log).value_or(""));
    }
  }
  return fail(Code::kDeadlineExceeded, "docker-registry did not answer on {}", host_);
}

RegistryServer::~RegistryServer() {
  process_.killAndReap();
}

void RegistryServer::kill() {
  process_.killAndReap();
}

Status RegistryServer::restart() {
  process_.killAndReap();
  return launch();
}

HttpClient RegistryServer::client() const {
  return HttpClient(TlsOptions{.caFile = caFile_});
}

Result<std::pair<ChildProcess, int>> startHelperServer(const std::string& script,
                                                       const std::filesystem::path& portFile,
                                                       const std::vector<std::string>& args) {
  (void)::unlink(portFile.c_str());
  std::vector<std::string> all = {"python3", script, portFile.string()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return failErrno("fork");
  if (pid == 0) {
    ::execvp("python3", argv.data());
    ::_exit(127);
  }
  ChildProcess process(pid);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto text = readFile(portFile); text)
      return std::make_pair(std::move(process), std::stoi(*text));
    auto exited = BERTH_TRY(process.waitFor(std::chrono::milliseconds(20)));
    if (exited) return fail(Code::kInternal, "{} exited {}", script, exited->code);
  }
  return fail(Code::kDeadlineExceeded, "{} did not start", script);
}

std::string TestImage::digest() const {
  return sha256Of(manifest);
}

TestImage makeBusyboxImage(ManifestFlavour flavour, const std::string& architecture,
                           const std::vector<std::pair<std::string, std::string>>& extra) {
  TestImage image;
  std::string busybox = readFile("/bin/busybox").value_or("");
  TarBuilder base;
  base.dir("bin/").file("bin/busybox", busybox, 0755);
  for (const char* applet :
       {"sh",   "ls",       "cat", "echo", "true",  "sleep", "ip", "id",    "env", "nc",
        "grep", "hostname", "wc",  "ps",   "httpd", "mkdir", "dd", "touch", "rm",  "test"})
    base.hardlink(fmt::format("bin/{}", applet), "bin/busybox");
  base.dir("etc/").file("etc/arch", architecture + "\n").file("etc/hostname", "base\n");
  base.dir("var/").dir("var/cache/").file("var/cache/old", "old");
  std::string baseTar = base.finish();
  bool oci = flavour == ManifestFlavour::kOci;
  std::string gzipType =
      std::string(oci ? ocispec::kMediaTypeOciLayerGzip : ocispec::kMediaTypeDockerLayerGzip);
  image.layers.push_back(
      {TarBuilder::compress(baseTar, Compression::kGzip), sha256Of(baseTar), gzipType});
  // The second layer deletes and hides what the first had (whiteout, opaque directory).
  TarBuilder top;
  top.dir("etc/").empty("etc/.wh.hostname").dir("var/cache/").empty("var/cache/.wh..wh..opq");
  top.file("var/cache/new", "new");
  for (const auto& [name, data] : extra)
    top.file(name, data);
  std::string topTar = top.finish();
  Compression c = oci ? Compression::kZstd : Compression::kGzip;
  std::string topType = oci ? std::string(ocispec::kMediaTypeOciLayerZstd) : gzipType;
  image.layers.push_back({TarBuilder::compress(topTar, c), sha256Of(topTar), topType});
  finishImage(image, architecture, flavour);
  return image;
}

TestImage makeBigImage(size_t size) {
  std::string data(size, '\0');
  std::mt19937_64 rng(42);
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t v = rng();
    std::memcpy(&data[i], &v, 8);
  }
  std::string tar = TarBuilder().file("big", data).finish();
  TestImage image;
  image.layers.push_back({tar, sha256Of(tar), std::string(ocispec::kMediaTypeOciLayer)});
  finishImage(image, "amd64", ManifestFlavour::kOci);
  return image;
}

TestImage makeImage(const std::string& tar, const std::vector<std::string>& entrypoint) {
  TestImage image;
  image.layers.push_back({TarBuilder::compress(tar, Compression::kGzip), sha256Of(tar),
                          std::string(ocispec::kMediaTypeOciLayerGzip)});
  nlohmann::ordered_json config;
  config["architecture"] = "amd64";
  config["os"] = "linux";
  if (!entrypoint.empty()) config["config"] = {{"Entrypoint", entrypoint}};
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", {image.layers[0].diffId}}};
  image.config = config.dump();
  writeManifest(image, ManifestFlavour::kOci);
  return image;
}

TestImage makeAppletImage(const std::string& busybox, const std::vector<std::string>& applets) {
  TarBuilder t;
  t.dir("bin/").file("bin/busybox", busybox, 0755);
  for (const auto& applet : applets)
    t.symlink("bin/" + applet, "busybox");
  return makeImage(t.finish(), {});
}

TestImage makePauseImage(const std::string& binary) {
  return makeImage(TarBuilder().file("pause", binary, 0755).finish(), {"/pause"});
}

std::string ociLayoutTar(const TestImage& image, const std::string& ref) {
  TarBuilder t;
  t.file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  nlohmann::ordered_json index = {
      {"schemaVersion", 2},
      {"mediaType", std::string(ocispec::kMediaTypeOciIndex)},
      {"manifests",
       {{{"mediaType", image.manifestMediaType},
         {"digest", image.digest()},
         {"size", image.manifest.size()},
         {"annotations", {{"org.opencontainers.image.ref.name", ref}}}}}}};
  t.file("index.json", index.dump());
  t.dir("blobs/").dir("blobs/sha256/");
  auto blob = [&](const std::string& data) {
    t.file("blobs/sha256/" + sha256Of(data).substr(7), data);
  };
  for (const auto& l : image.layers)
    blob(l.blob);
  blob(image.config);
  blob(image.manifest);
  return t.finish();
}

Status push(const RegistryServer& r, const std::string& repo, const std::string& tag,
            const TestImage& image) {
  HttpClient http = r.client();
  for (const auto& l : image.layers)
    BERTH_TRY(pushBlob(r, http, repo, l.blob));
  BERTH_TRY(pushBlob(r, http, repo, image.config));
  return pushManifest(r, http, repo, tag, image.manifestMediaType, image.manifest);
}

Result<std::string> pushIndex(const RegistryServer& r, const std::string& repo,
                              const std::string& tag, const std::vector<const TestImage*>& images,
                              const std::vector<std::string>& architectures,
                              ManifestFlavour flavour) {
  ocispec::Index index;
  bool oci = flavour == ManifestFlavour::kOci;
  index.mediaType =
      std::string(oci ? ocispec::kMediaTypeOciIndex : ocispec::kMediaTypeDockerManifestList);
  for (size_t i = 0; i < images.size(); ++i) {
    index.manifests.push_back(
        {.mediaType = images[i]->manifestMediaType,
         .digest = images[i]->digest(),
         .size = static_cast<int64_t>(images[i]->manifest.size()),
         .platform = ocispec::Platform{.architecture = architectures[i], .os = "linux"}});
  }
  std::string body = ocispec::toJson(index).dump();
  HttpClient http = r.client();
  BERTH_TRY(pushManifest(r, http, repo, tag, *index.mediaType, body));
  return sha256Of(body);
}

}  // namespace berth::images::testing
