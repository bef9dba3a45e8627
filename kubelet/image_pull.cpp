#include "kubelet/image_pull.h"

#include <fmt/format.h>

#include "common/base64.h"
#include "kubeapi/go_duration.h"
#include "kubeapi/json_fields.h"
#include "kubeapi/pod_defaults.h"

namespace berth::kubelet {
namespace {

using Json = nlohmann::json;
using kubeapi::jsonField;
using kubeapi::jsonString;

// "https://index.docker.io/v1/" → "index.docker.io"; "registry:5000/path" → "registry:5000".
std::string configKeyHost(std::string key) {
  if (auto scheme = key.find("://"); scheme != std::string::npos) key = key.substr(scheme + 3);
  if (auto slash = key.find('/'); slash != std::string::npos) key.resize(slash);
  return key;
}

bool hostMatches(const std::string& keyHost, const std::string& imageHost) {
  if (keyHost == imageHost) return true;
  const bool dockerHub = imageHost == "docker.io";
  return dockerHub && (keyHost == "index.docker.io" || keyHost == "registry-1.docker.io");
}

}  // namespace

// A pull slot, held while a pull runs (maxParallelImagePulls).
class ImagePuller::Slot {
 public:
  explicit Slot(ImagePuller& p) : p_(p) {
    std::unique_lock lock(p_.mu_);
    p_.cv_.wait(lock, [&] { return p_.maxParallel_ <= 0 || p_.inFlight_ < p_.maxParallel_; });
    ++p_.inFlight_;
  }
  ~Slot() {
    std::lock_guard lock(p_.mu_);
    --p_.inFlight_;
    p_.cv_.notify_one();
  }

 private:
  ImagePuller& p_;
};

ImagePuller::ImagePuller(CriClient& cri, const PodEvents& events, int maxParallel, bool serialize)
    : cri_(cri), events_(events), maxParallel_(serialize ? 1 : maxParallel) {}

std::string registryHost(const std::string& image) {
  auto slash = image.find('/');
  if (slash == std::string::npos) return "docker.io";
  std::string first = image.substr(0, slash);
  if (first.find('.') != std::string::npos || first.find(':') != std::string::npos ||
      first == "localhost") {
    return first;
  }
  return "docker.io";
}

std::optional<cri::AuthConfig> authFromSecret(const Json& secret, const std::string& image) {
  const Json& data = jsonField(secret, "data");
  Json config;
  for (const char* key : {".dockerconfigjson", ".dockercfg"}) {
    const Json& encoded = jsonField(data, key);
    if (!encoded.is_string()) continue;
    auto decoded = base64Decode(encoded.get<std::string>());
    if (!decoded) continue;
    config = Json::parse(*decoded, nullptr, false);
    if (std::string(key) == ".dockerconfigjson") config = jsonField(config, "auths");
    break;
  }
  if (!config.is_object()) return std::nullopt;
  const std::string host = registryHost(image);
  for (const auto& [key, entry] : config.items()) {
    if (!hostMatches(configKeyHost(key), host)) continue;
    cri::AuthConfig auth;
    auth.set_username(jsonString(entry, "username"));
    auth.set_password(jsonString(entry, "password"));
    auth.set_auth(jsonString(entry, "auth"));
    auth.set_identity_token(jsonString(entry, "identitytoken"));
    auth.set_server_address(key);
    return auth;
  }
  return std::nullopt;
}

std::expected<std::string, WaitingReason> ImagePuller::ensureImage(
    const Json& pod, const Json& container, const cri::PodSandboxConfig& sandbox,
    const std::vector<Json>& pullSecrets) {
  const std::string image = jsonString(container, "image");
  const std::string name = jsonString(container, "name");
  auto fail = [&](std::string_view reason, std::string message) {
    events_.container(pod, name, PodEvents::kWarning, "Failed", fmt::format("Error: {}", reason));
    return std::unexpected(WaitingReason{std::string(reason), std::move(message)});
  };
  if (image.empty()) return fail("InvalidImageName", "the container's image is empty");
  const std::string policy =
      jsonString(container, "imagePullPolicy", kubeapi::defaultPullPolicy(image));
  if (policy != "Always") {
    auto present = cri_.imageStatus(image);
    if (present && *present) {
      events_.container(pod, name, PodEvents::kNormal, "Pulled",
                        fmt::format("Container image \"{}\" already present on machine", image));
      return (*present)->id();
    }
    if (policy == "Never") {
      std::string message =
          fmt::format("Container image \"{}\" is not present with pull policy of Never", image);
      events_.container(pod, name, PodEvents::kWarning, "ErrImageNeverPull", message);
      return fail("ErrImageNeverPull", std::move(message));
    }
  }
  const std::string key =
      fmt::format("{}/{}", jsonString(jsonField(pod, "metadata"), "uid"), image);
  if (backoff_.inBackoffSinceUpdate(key)) {
    std::string message = fmt::format("Back-off pulling image \"{}\"", image);
    events_.container(pod, name, PodEvents::kNormal, "BackOff", message);
    return fail("ImagePullBackOff", std::move(message));
  }
  std::optional<cri::AuthConfig> auth;
  for (const Json& secret : pullSecrets) {
    if ((auth = authFromSecret(secret, image))) break;
  }
  events_.container(pod, name, PodEvents::kNormal, "Pulling",
                    fmt::format("Pulling image \"{}\"", image));
  const auto queued = std::chrono::steady_clock::now();
  Result<std::string> ref;
  std::chrono::steady_clock::time_point started;
  {
    Slot slot(*this);
    started = std::chrono::steady_clock::now();
    ref = cri_.pullImage(image, auth ? &*auth : nullptr, sandbox);
  }
  if (!ref) {
    backoff_.next(key, std::chrono::system_clock::now());
    events_.container(pod, name, PodEvents::kWarning, "Failed",
                      fmt::format("Failed to pull image \"{}\": {}", image, ref.error().message()));
    return fail("ErrImagePull", ref.error().message());
  }
  const auto done = std::chrono::steady_clock::now();
  std::uint64_t size = 0;
  if (auto status = cri_.imageStatus(*ref); status && *status) size = (*status)->size();
  events_.container(
      pod, name, PodEvents::kNormal, "Pulled",
      fmt::format("Successfully pulled image \"{}\" in {} ({} including waiting). Image size: {} "
                  "bytes.",
                  image, kubeapi::formatGoDuration(done - started),
                  kubeapi::formatGoDuration(done - queued), size));
  return *ref;
}

}  // namespace berth::kubelet
