#pragma once
// The on-disk layout of the image store (default /var/lib/berth/images; `--root` moves it):
//
// <root>/
// ├── blobs/sha256/<hex>              verified content by digest: indexes, manifests, configs,
// │                                   layers (written once, renamed into place when the digest
// │                                   and size match)
// ├── ingest/<hex>                    a blob being fetched; its writer holds flock(LOCK_EX), so
// │                                   a second pull of the same blob waits and then finds it
// │                                   committed; left behind by an interrupted pull, it is
// │                                   resumed from its size by the next
// ├── images/<sha256 of name>.json    one image record per name (ImageRecord), written atomically
// ├── snapshots/<chain id hex>/
// │   ├── fs/                         the layer unpacked, whiteouts as overlay whiteouts
// │   └── snapshot.json               chain id, diff id, parent chain id
// ├── snapshots/.tmp/<random>/        an unpack in progress; renamed to <chain id hex> once the
// │                                   diff id is verified, removed on any error
// ├── containers/<id>/
// │   ├── upper/  work/               the container's overlay upper and work dirs
// │   ├── merged/                     the mount point
// │   └── mount.json                  the chain ids it stacks (keeps them from GC)
// └── locks/                          flock files: snapshot-<hex> serialises one unpack
//
// Names below are relative to <root>.

#include <filesystem>
#include <string>
#include <string_view>

namespace berth::images::paths {

inline constexpr const char* kDefaultRoot = "/var/lib/berth/images";

inline std::filesystem::path blobsDir(const std::filesystem::path& root) {
  return root / "blobs" / "sha256";
}
inline std::filesystem::path blob(const std::filesystem::path& root, std::string_view hex) {
  return blobsDir(root) / hex;
}
inline std::filesystem::path ingestDir(const std::filesystem::path& root) {
  return root / "ingest";
}
inline std::filesystem::path ingest(const std::filesystem::path& root, std::string_view hex) {
  return ingestDir(root) / hex;
}
inline std::filesystem::path imagesDir(const std::filesystem::path& root) {
  return root / "images";
}
inline std::filesystem::path snapshotsDir(const std::filesystem::path& root) {
  return root / "snapshots";
}
inline std::filesystem::path snapshot(const std::filesystem::path& root, std::string_view hex) {
  return snapshotsDir(root) / hex;
}
inline std::filesystem::path snapshotTmpDir(const std::filesystem::path& root) {
  return snapshotsDir(root) / ".tmp";
}
inline std::filesystem::path containersDir(const std::filesystem::path& root) {
  return root / "containers";
}
inline std::filesystem::path container(const std::filesystem::path& root, std::string_view id) {
  return containersDir(root) / id;
}
inline std::filesystem::path locksDir(const std::filesystem::path& root) {
  return root / "locks";
}

}  // namespace berth::images::paths
