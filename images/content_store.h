#pragma once
// Blobs by digest under <root>/blobs/sha256 (paths.h). Everything in blobs/ was verified against
// its digest on the way in; nothing half-written is ever there.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "images/blob_writer.h"

namespace berth::images {

class ContentStore {
 public:
  // Creates the directories under root when missing.
  [[nodiscard]] static Result<ContentStore> open(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  bool has(std::string_view digest) const;
  [[nodiscard]] Result<std::filesystem::path> path(std::string_view digest) const;
  [[nodiscard]] Result<std::string> read(std::string_view digest) const;
  [[nodiscard]] Result<UniqueFd> openBlob(std::string_view digest) const;
  // Stores small content (a manifest, a config) after checking it against the digest.
  [[nodiscard]] Status put(std::string_view digest, std::string_view data);
  // A writer for a blob, or nullopt when the blob is already there (possibly committed by a
  // concurrent pull this call waited for).
  [[nodiscard]] Result<std::optional<BlobWriter>> ingest(const std::string& digest, int64_t size);
  [[nodiscard]] Status remove(std::string_view digest);
  // Digests of every committed blob.
  [[nodiscard]] Result<std::vector<std::string>> list() const;
  // Ingest files no writer holds (left by interrupted pulls).
  [[nodiscard]] Result<std::vector<std::string>> staleIngests() const;
  void removeIngest(std::string_view hex);

 private:
  explicit ContentStore(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;
};

}  // namespace berth::images
