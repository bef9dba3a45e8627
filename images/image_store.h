#pragma once
// Image records by name under <root>/images (paths.h): what a name points to (the manifest the
// pull chose and the index it came from), the config (its digest is the image id, as docker and
// containerd report it), the layers and their diff ids. Each record is one atomically written
// JSON file, so a crash leaves the old record or the new one.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "ocispec/image_spec.h"

namespace berth::images {

struct ImageRecord {
  std::string name;                        // normalised reference: docker.io/library/busybox:latest
  std::string id;                          // config digest
  std::optional<std::string> indexDigest;  // the index the manifest was chosen from
  std::string manifestDigest;
  std::string manifestMediaType;
  ocispec::Descriptor config;
  std::vector<ocispec::Descriptor> layers;
  std::vector<std::string> diffIds;   // from the config, one per layer
  std::vector<std::string> chainIds;  // computed, one per layer: the snapshots it uses
  int64_t size = 0;                   // config + compressed layers
  std::string created;                // when it was pulled (RFC 3339, UTC)

  // "docker.io/library/busybox@sha256:..." (repo digest: the name without tag + what was pulled).
  std::string repoDigest() const;
};

nlohmann::ordered_json toJson(const ImageRecord& r);
[[nodiscard]] Result<ImageRecord> parseImageRecord(std::string_view json);

class ImageStore {
 public:
  [[nodiscard]] static Result<ImageStore> open(std::filesystem::path root);

  // Creates or replaces the record for r.name.
  [[nodiscard]] Status put(const ImageRecord& r);
  // kNotFound when there is none.
  [[nodiscard]] Result<ImageRecord> get(std::string_view name) const;
  [[nodiscard]] Result<std::vector<ImageRecord>> list() const;
  // Resolves a name, an id ("sha256:<hex>"), or an unambiguous id prefix (at least 3 hex) to the
  // records it means: one for a name, every name of the image for an id.
  [[nodiscard]] Result<std::vector<ImageRecord>> resolve(std::string_view nameOrId) const;
  // Removes every record resolve() finds; returns them. kNotFound when none.
  [[nodiscard]] Result<std::vector<ImageRecord>> remove(std::string_view nameOrId);

 private:
  explicit ImageStore(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path recordPath(std::string_view name) const;
  std::filesystem::path root_;
};

}  // namespace berth::images
