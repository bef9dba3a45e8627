#include "kubelet/volume/empty_dir.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <algorithm>

#include "common/file_util.h"
#include "common/mount.h"
#include "kubeapi/quantity.h"

namespace berth::kubelet::volume {
namespace fs = std::filesystem;
using kubeapi::Quantity;
using nlohmann::json;

namespace {

// The memory limit of one container, 0 when it has none.
Result<std::int64_t> containerMemoryLimit(const json& c) {
  static const auto ptr = "/resources/limits/memory"_json_pointer;
  if (!c.contains(ptr)) return 0;
  Quantity q = BERTH_TRY_CTX(Quantity::fromJson(c.at(ptr)), "resources.limits.memory");
  return q.value();
}

// The pod's memory limit as its cgroup gets it (cm.ResourceConfigForPod), 0 when some
// container has no limit: spec.resources when set, else the app containers and restartable
// init containers together or the largest other init container, plus the pod overhead.
Result<std::int64_t> podMemoryLimit(const json& pod) {
  static const auto podLevel = "/spec/resources/limits/memory"_json_pointer;
  if (pod.contains(podLevel))
    return BERTH_TRY_CTX(Quantity::fromJson(pod.at(podLevel)), "spec.resources.limits.memory")
        .value();
  const json spec = pod.value("spec", json::object());
  std::int64_t running = 0, largestInit = 0;
  for (const json& c : spec.value("containers", json::array())) {
    std::int64_t limit = BERTH_TRY(containerMemoryLimit(c));
    if (limit <= 0) return 0;
    running += limit;
  }
  for (const json& c : spec.value("initContainers", json::array())) {
    std::int64_t limit = BERTH_TRY(containerMemoryLimit(c));
    if (limit <= 0) return 0;
    if (c.value("restartPolicy", "") == "Always")
      running += limit;
    else
      largestInit = std::max(largestInit, limit);
  }
  std::int64_t limit = std::max(running, largestInit);
  static const auto overhead = "/overhead/memory"_json_pointer;
  if (limit > 0 && spec.contains(overhead))
    limit += BERTH_TRY_CTX(Quantity::fromJson(spec.at(overhead)), "spec.overhead.memory").value();
  return limit;
}

}  // namespace

Status setUpEmptyDirectory(const fs::path& dir) {
  BERTH_TRY(makeDirs(dir, kEmptyDirMode));
  struct stat st {};
  if (::lstat(dir.c_str(), &st) < 0) return failErrno(fmt::format("lstat {}", dir.string()));
  if (!S_ISDIR(st.st_mode))
    return fail(Code::kFailedPrecondition, "{}: not a directory", dir.string());
  if ((st.st_mode & 07777) != kEmptyDirMode && ::chmod(dir.c_str(), kEmptyDirMode) < 0)
    return failErrno(fmt::format("chmod {}", dir.string()));
  return {};
}

Result<std::int64_t> memoryBackedVolumeSize(const json& pod, const json& sizeLimit,
                                            const json& nodeAllocatable) {
  std::int64_t size = 0;
  if (nodeAllocatable.is_object() && nodeAllocatable.contains("memory"))
    size = BERTH_TRY_CTX(Quantity::fromJson(nodeAllocatable["memory"]), "node allocatable memory")
               .value();
  auto lower = [&size](std::int64_t bound) {
    if (bound > 0 && (size <= 0 || bound <= size)) size = bound;
  };
  lower(BERTH_TRY(podMemoryLimit(pod)));
  if (!sizeLimit.is_null())
    lower(BERTH_TRY_CTX(Quantity::fromJson(sizeLimit), "emptyDir.sizeLimit").value());
  return size;
}

Result<bool> isTmpfsMountPoint(const fs::path& dir) {
  struct statx stx {};
  if (::statx(AT_FDCWD, dir.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0) {
    if (errno == ENOENT) return false;
    return failErrno(fmt::format("statx {}", dir.string()));
  }
  if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
    return fail(Code::kUnimplemented, "statx {}: the kernel does not report mount roots",
                dir.string());
  if (!(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) return false;
  struct statfs sfs {};
  if (::statfs(dir.c_str(), &sfs) < 0) return failErrno(fmt::format("statfs {}", dir.string()));
  return sfs.f_type == TMPFS_MAGIC;
}

Result<bool> setUpTmpfs(const fs::path& dir, std::int64_t sizeBytes) {
  BERTH_TRY(setUpEmptyDirectory(dir));
  if (BERTH_TRY(isTmpfsMountPoint(dir))) return false;  // SetUp is idempotent
  std::string options = sizeBytes > 0 ? fmt::format("size={}", sizeBytes) : std::string();
  Mount mount = BERTH_TRY(Mount::make("tmpfs", dir.string(), "tmpfs", 0, options));
  (void)mount.release();
  return true;
}

}  // namespace berth::kubelet::volume
