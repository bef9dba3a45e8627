#pragma once
// Images from archive files, for a node that reaches no registry (k3s' agent/images tarballs,
// `ctr images import`): an OCI image layout (image-spec image-layout.md: oci-layout, index.json,
// blobs/sha256/...) or `docker save` output (manifest.json with Config, RepoTags and Layers), as a
// tar that may be compressed (gzip, zstd, xz: libarchive detects it).
//
// Two passes over the file. The first reads the layout's JSON documents and hashes every entry,
// and builds each image's record with a pull's checks (image_builder.h), so a blob whose content
// is not its name, a missing blob, an unusable document, an image for another platform or a bad
// entry name is refused before anything is written. The second copies the blobs the records use
// into the content store (verified again by the BlobWriter). Then the layers are unpacked as a
// pull unpacks them, and the records written last, all or none. On a later error (a layer that
// is not its diff id, a disk that fills) no record is written; blobs and snapshots already made
// are verified content no image names, which `berth image gc` collects as it does an
// interrupted pull's.
//
// Names: an index.json entry's io.containerd.image.name, else its org.opencontainers.image.ref.name
// when that is a reference and not only a tag (docker 25 writes both); else manifest.json's
// RepoTags. They are normalised as a pulled reference (busybox:demo is
// docker.io/library/busybox:demo). An index inside the layout gives this host's platform.
//
// The archive is never extracted: an entry goes only into memory or into the content store
// under its digest, so no entry name reaches the file system. Absolute names, ".." components,
// links and special files are refused all the same, naming the entry.

#include <filesystem>
#include <functional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "images/image_store.h"
#include "images/layer_unpacker.h"
#include "images/platform.h"

namespace berth::images {

struct ImportOptions {
  PlatformSpec platform = hostPlatform();
  bool unpack = true;
  UnpackOptions unpackOptions;
  // Progress lines for a terminal; may be empty.
  std::function<void(std::string_view)> progress;
};

class Importer {
 public:
  explicit Importer(std::filesystem::path root) : root_(std::move(root)) {}

  // The records written, one per name. Errors start with the file's name.
  [[nodiscard]] Result<std::vector<ImageRecord>> importArchive(const std::filesystem::path& file,
                                                               const ImportOptions& options = {});
  // Every *.tar, *.tar.gz, *.tgz, *.tar.zst, *.tar.xz, *.tar.bz2 and *.tar.lz4 in `dir`, in name
  // order, as k3s imports agent/images at start; stops at the first that fails. A missing
  // directory holds no images.
  [[nodiscard]] Result<std::vector<ImageRecord>> importDirectory(const std::filesystem::path& dir,
                                                                 const ImportOptions& options = {});

 private:
  std::filesystem::path root_;
};

}  // namespace berth::images
