#pragma once
// A real registry for the images/ integration tests: Debian's docker-registry on 127.0.0.1 with
// its own storage, optionally behind TLS (a CA and server certificate made with openssl) and
// htpasswd basic auth; and the tests' own OCI image writer, which builds images from
// busybox-static and pushes them with the distribution API's monolithic upload (POST + PUT).

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/child_process.h"
#include "common/http_client.h"
#include "common/result.h"
#include "ocispec/image_spec.h"

namespace berth::images::testing {

struct RegistryOptions {
  bool tls = false;
  std::optional<std::pair<std::string, std::string>> htpasswdUser;  // user, password
  // Token auth (auth.token) with tests/integration/token_server.py as the realm; tokenUser set:
  // the token server wants these Basic credentials, else it hands out anonymous tokens.
  bool tokenAuth = false;
  std::optional<std::pair<std::string, std::string>> tokenUser;
};

class RegistryServer {
 public:
  // Starts docker-registry in `dir` and waits until /v2/ answers. Skips are the caller's: check
  // available() first.
  [[nodiscard]] static Result<std::unique_ptr<RegistryServer>> start(std::filesystem::path dir,
                                                                     RegistryOptions options);
  static bool available();
  ~RegistryServer();

  // "127.0.0.1:<port>".
  const std::string& host() const { return host_; }
  std::string url() const { return (options_.tls ? "https://" : "http://") + host_; }
  const std::filesystem::path& caFile() const { return caFile_; }
  const std::filesystem::path& storage() const { return storage_; }
  pid_t pid() const { return process_.pid(); }

  // SIGKILL now; restart() brings it back on the same port and storage.
  void kill();
  [[nodiscard]] Status restart();
  // Restarts with other options, same port and storage (push without auth, then serve with it).
  [[nodiscard]] Status reconfigure(RegistryOptions options);

  // An HTTP client that trusts the test CA and sends the htpasswd credentials.
  HttpClient client() const;
  std::optional<std::pair<std::string, std::string>> credentials() const {
    return options_.htpasswdUser;
  }

 private:
  RegistryServer() = default;
  [[nodiscard]] Status launch();
  [[nodiscard]] Status writeConfig();
  [[nodiscard]] Status startTokenServer();
  std::filesystem::path dir_;
  std::filesystem::path storage_;
  std::filesystem::path caFile_;
  RegistryOptions options_;
  std::string host_;
  ChildProcess process_;
  ChildProcess tokenServer_;
};

// Runs `python3 SCRIPT PORT_FILE ARGS...` (token_server.py, static_registry.py) and waits until
// it has written the port it listens on; returns the process and the port.
[[nodiscard]] Result<std::pair<ChildProcess, int>> startHelperServer(
    const std::string& script, const std::filesystem::path& portFile,
    const std::vector<std::string>& args);

// One image in memory: its layers (compressed blobs), config and manifest bodies.
struct TestImage {
  struct Layer {
    std::string blob;  // as pushed (compressed or not)
    std::string diffId;
    std::string mediaType;
  };
  std::vector<Layer> layers;
  std::string config;
  std::string manifest;
  std::string manifestMediaType;
  std::string digest() const;
};

enum class ManifestFlavour { kOci, kDocker };

// Sets image.manifest and manifestMediaType for image.config and image.layers as they are.
void writeManifest(TestImage& image, ManifestFlavour flavour);

// busybox-static as bin/busybox with applets as hard links, then a layer with `extra` files.
TestImage makeBusyboxImage(ManifestFlavour flavour, const std::string& architecture = "amd64",
                           const std::vector<std::pair<std::string, std::string>>& extra = {});
// A one-layer image holding `size` bytes of incompressible data (uncompressed tar layer).
TestImage makeBigImage(size_t size);
// A one-layer OCI image (gzip) of `tar` whose config has `entrypoint` (may be empty).
TestImage makeImage(const std::string& tar, const std::vector<std::string>& entrypoint);
// `busybox` (busybox-static's binary) as bin/busybox with `applets` as symlinks to it. Not
// makeBusyboxImage for containerd: its hard-link entries carry mode 0644, which containerd's
// unpacker applies to the linked file (busybox would not be executable there).
TestImage makeAppletImage(const std::string& busybox, const std::vector<std::string>& applets);
// containerd's sandbox ("pause") image: `binary` (berth-pod-init: sleeps until SIGTERM) as /pause.
TestImage makePauseImage(const std::string& binary);
// The image as an OCI image-layout tar (image-spec image-layout.md) whose index names it `ref`
// (org.opencontainers.image.ref.name), for `ctr images import`.
std::string ociLayoutTar(const TestImage& image, const std::string& ref);

// Pushes blobs, config and manifest under repo:tag.
[[nodiscard]] Status push(const RegistryServer& r, const std::string& repo, const std::string& tag,
                          const TestImage& image);
// Pushes an index (OCI) or manifest list (Docker) of images already pushed; returns its digest.
[[nodiscard]] Result<std::string> pushIndex(const RegistryServer& r, const std::string& repo,
                                            const std::string& tag,
                                            const std::vector<const TestImage*>& images,
                                            const std::vector<std::string>& architectures,
                                            ManifestFlavour flavour);

}  // namespace berth::images::testing
