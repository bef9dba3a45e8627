#include "images/gc.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <set>

#include "common/file_util.h"
#include "images/content_store.h"
#include "images/image_store.h"
#include "images/paths.h"
#include "ocispec/json_reader.h"

namespace berth::images {
namespace {

// Bytes (allocated) and inodes under a path, each inode counted once.
DiskUsage usageOf(const std::filesystem::path& path) {
  DiskUsage u;
  std::set<std::pair<dev_t, ino_t>> seen;
  auto add = [&](const std::filesystem::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) < 0) return;
    if (!seen.emplace(st.st_dev, st.st_ino).second) return;
    u.bytes += static_cast<uint64_t>(st.st_blocks) * 512;
    u.inodes += 1;
  };
  add(path);
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(
           path, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    add(it->path());
  }
  return u;
}

// Chain ids held by containers' mounts (containers/<id>/mount.json: {"chainIds": [...]}).
Result<std::set<std::string>> containerChainIds(const std::filesystem::path& root) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(paths::containersDir(root), ec)) {
    auto text = readFile(e.path() / "mount.json");
    if (!text) continue;  // being created or removed
    auto doc = ocispec::parseDocument(*text);
    if (!doc || !doc->contains("chainIds") || !(*doc)["chainIds"].is_array()) {
      return fail(Code::kDataLoss, "{}: no chainIds array", (e.path() / "mount.json").string());
    }
    for (const auto& id : (*doc)["chainIds"]) {
      if (id.is_string()) out.insert(id.get<std::string>());
    }
  }
  return out;
}

}  // namespace

Result<UniqueFd> lockStore(const std::filesystem::path& root, bool exclusive) {
  BERTH_TRY(makeDirs(paths::locksDir(root), 0700));
  auto path = paths::locksDir(root) / "store";
  auto fd = BERTH_TRY(openFd(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  int rc;
  do {
    rc = ::flock(fd.get(), exclusive ? LOCK_EX : LOCK_SH);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return failErrno("lock " + path.string());
  return fd;
}

Result<GcResult> collectGarbage(const std::filesystem::path& root) {
  auto lock = BERTH_TRY(lockStore(root, /*exclusive=*/true));
  auto content = BERTH_TRY(ContentStore::open(root));
  auto images = BERTH_TRY(ImageStore::open(root));
  std::set<std::string> liveBlobs;
  std::set<std::string> liveSnapshots = BERTH_TRY(containerChainIds(root));
  for (const auto& r : BERTH_TRY(images.list())) {
    if (r.indexDigest) liveBlobs.insert(*r.indexDigest);
    liveBlobs.insert(r.manifestDigest);
    liveBlobs.insert(r.config.digest);
    for (const auto& l : r.layers)
      liveBlobs.insert(l.digest);
    for (const auto& c : r.chainIds)
      liveSnapshots.insert(c);
  }
  GcResult out;
  for (const auto& digest : BERTH_TRY(content.list())) {
    if (liveBlobs.contains(digest)) continue;
    auto path = BERTH_TRY(content.path(digest));
    out.bytesFreed += usageOf(path).bytes;
    BERTH_TRY(content.remove(digest));
    out.blobsRemoved.push_back(digest);
  }
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(paths::snapshotsDir(root), ec)) {
    std::string name = e.path().filename().string();
    if (name == ".tmp") continue;
    std::string chain = "sha256:" + name;
    if (liveSnapshots.contains(chain)) continue;
    out.bytesFreed += usageOf(e.path()).bytes;
    BERTH_TRY(removeAll(e.path()));
    out.snapshotsRemoved.push_back(chain);
  }
  // Partial downloads nobody resumed (a writer holds its file locked: those stay).
  auto now = std::filesystem::file_time_type::clock::now();
  for (const auto& hex : BERTH_TRY(content.staleIngests())) {
    auto path = paths::ingest(root, hex);
    auto mtime = std::filesystem::last_write_time(path, ec);
    if (ec || now - mtime < kIngestExpiry) continue;
    out.bytesFreed += usageOf(path).bytes;
    content.removeIngest(hex);
    out.ingestsRemoved.push_back(hex);
  }
  // Unpacks that died half-way (the store lock is exclusive: none is running now).
  BERTH_TRY(removeAll(paths::snapshotTmpDir(root)));
  return out;
}

Result<DiskUsage> diskUsage(const std::filesystem::path& root) {
  struct stat st {};
  if (::stat(root.c_str(), &st) < 0) return failErrno("stat " + root.string());
  return usageOf(root);
}

}  // namespace berth::images
