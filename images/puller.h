#pragma once
// Pulling an image into the store: resolve the reference on each endpoint (mirrors first), choose
// the manifest for this platform from an index, fetch the config and the layers (in parallel,
// each verified against its digest as it streams, resuming what an interrupted pull left),
// unpack each layer into its chain-id snapshot as soon as it and the ones below are there, and
// write the image record last. Holds the store lock shared, so GC waits.

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "images/image_store.h"
#include "images/layer_unpacker.h"
#include "images/platform.h"
#include "images/registry_config.h"

namespace berth::images {

struct PullOptions {
  PlatformSpec platform = hostPlatform();
  int parallelDownloads = 3;
  bool unpack = true;
  UnpackOptions unpackOptions;
  // Credentials of this pull (CRI PullImageRequest.auth, `berth image pull --user`): used for the
  // image's own registry host, not for mirrors elsewhere (registries.yaml's), as containerd's CRI.
  std::optional<RegistryAuth> auth;
  // Progress lines for a terminal ("fetched sha256:... 1234 bytes"); may be empty.
  std::function<void(std::string_view)> progress;
};

class Puller {
 public:
  Puller(std::filesystem::path root, RegistryConfig config)
      : root_(std::move(root)), config_(std::move(config)) {}

  [[nodiscard]] Result<ImageRecord> pull(std::string_view reference,
                                         const PullOptions& options = {});

 private:
  std::filesystem::path root_;
  RegistryConfig config_;
};

}  // namespace berth::images
