#include "images/snapshotter.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_util.h"
#include "common/scope_guard.h"
#include "images/digest.h"
#include "images/paths.h"
#include "ocispec/json_reader.h"

namespace berth::images {

Result<Snapshotter> Snapshotter::open(std::filesystem::path root) {
  BERTH_TRY(makeDirs(paths::snapshotTmpDir(root), 0700));
  BERTH_TRY(makeDirs(paths::locksDir(root), 0700));
  return Snapshotter(std::move(root));
}

bool Snapshotter::has(std::string_view chainId) const {
  auto hex = sha256Hex(chainId);
  return hex && ::access((paths::snapshot(root_, *hex) / "snapshot.json").c_str(), F_OK) == 0;
}

Result<std::filesystem::path> Snapshotter::fsPath(std::string_view chainId) const {
  return paths::snapshot(root_, BERTH_TRY(sha256Hex(chainId))) / "fs";
}

Result<SnapshotInfo> Snapshotter::info(std::string_view chainId) const {
  auto path = paths::snapshot(root_, BERTH_TRY(sha256Hex(chainId))) / "snapshot.json";
  auto text = readFile(path);
  if (!text) {
    if (text.error().sysErrno() == ENOENT) {
      return fail(Code::kNotFound, "snapshot {} not found", chainId);
    }
    return std::unexpected(text.error());
  }
  auto doc = BERTH_TRY_CTX(ocispec::parseDocument(*text), path.string());
  auto r = BERTH_TRY_CTX(ocispec::JsonReader::open(doc, ""), path.string());
  SnapshotInfo out;
  BERTH_TRY_CTX(r.required("chainId", out.chainId), path.string());
  BERTH_TRY_CTX(r.required("diffId", out.diffId), path.string());
  BERTH_TRY_CTX(r.optional("parent", out.parent), path.string());
  return out;
}

Status Snapshotter::unpack(const SnapshotInfo& snapshot, int blobFd, const UnpackOptions& options) {
  auto hex = BERTH_TRY(sha256Hex(snapshot.chainId));
  BERTH_TRY(sha256Hex(snapshot.diffId));
  if (has(snapshot.chainId)) return {};
  auto lockPath = paths::locksDir(root_) / ("snapshot-" + hex);
  auto lock = BERTH_TRY(openFd(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  int rc;
  do {
    rc = ::flock(lock.get(), LOCK_EX);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return failErrno("lock " + lockPath.string());
  if (has(snapshot.chainId)) return {};

  // GC removes .tmp (with what crashed unpacks left there); a long-lived Snapshotter remakes it.
  BERTH_TRY(makeDirs(paths::snapshotTmpDir(root_), 0700));
  std::string tmpl = (paths::snapshotTmpDir(root_) / (hex.substr(0, 12) + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) return failErrno("mkdtemp " + tmpl);
  std::filesystem::path tmp = tmpl;
  auto cleanup = defer([&] { (void)removeAll(tmp); });
  BERTH_TRY(makeDirs(tmp / "fs", 0755));
  auto fsFd = BERTH_TRY(openFd(tmp / "fs", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  // The image's root is 0755 unless the layer says otherwise ("./"), whatever our umask.
  if (::fchmod(fsFd.get(), 0755) < 0) return failErrno("chmod " + (tmp / "fs").string());
  auto unpacked = unpackLayer(blobFd, fsFd.get(), options);
  if (!unpacked) {
    return std::unexpected(
        std::move(unpacked).error().context(fmt::format("unpack layer {}", snapshot.diffId)));
  }
  if (unpacked->diffId != snapshot.diffId) {
    return fail(Code::kDataLoss, "unpack layer: diff id is {}, the image config says {}",
                unpacked->diffId, snapshot.diffId);
  }
  nlohmann::ordered_json meta;
  meta["chainId"] = snapshot.chainId;
  meta["diffId"] = snapshot.diffId;
  if (!snapshot.parent.empty()) meta["parent"] = snapshot.parent;
  BERTH_TRY(writeFileAtomic(tmp / "snapshot.json", meta.dump(2) + "\n", 0600));
  if (::syncfs(fsFd.get()) < 0) return failErrno("sync " + tmp.string());
  auto target = paths::snapshot(root_, hex);
  // A leftover without snapshot.json (never renamed complete) can't exist: rename is the commit.
  if (::rename(tmp.c_str(), target.c_str()) < 0) {
    return failErrno(fmt::format("rename {} to {}", tmp.string(), target.string()));
  }
  cleanup.cancel();
  return {};
}

Status Snapshotter::remove(std::string_view chainId) {
  return removeAll(paths::snapshot(root_, BERTH_TRY(sha256Hex(chainId))));
}

Result<std::vector<std::string>> Snapshotter::list() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(paths::snapshotsDir(root_), ec)) {
    std::string name = e.path().filename().string();
    if (name.size() == 64) out.push_back("sha256:" + name);
  }
  if (ec) return failErrno(ec.value(), "list " + paths::snapshotsDir(root_).string());
  return out;
}

}  // namespace berth::images
