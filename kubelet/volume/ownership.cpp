#include "kubelet/volume/ownership.h"

#include <sys/stat.h>
#include <unistd.h>

#include <system_error>

namespace berth::kubelet::volume {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr mode_t kRwMask = 0660;
constexpr mode_t kRoMask = 0440;
constexpr mode_t kExecMask = 0110;

Status changeEntry(const fs::path& path, gid_t fsGroup, bool readOnly) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) < 0) return failErrno(fmt::format("lstat {}", path.string()));
  if (::lchown(path.c_str(), static_cast<uid_t>(-1), fsGroup) < 0)
    return failErrno(fmt::format("chown {}", path.string()));
  if (S_ISLNK(st.st_mode)) return {};
  mode_t mask = readOnly ? kRoMask : kRwMask;
  if (S_ISDIR(st.st_mode)) mask |= S_ISGID | kExecMask;
  // chown cleared setuid/setgid on a file; the mode read before it is what upstream restores.
  if (::chmod(path.c_str(), (st.st_mode & 07777) | mask) < 0)
    return failErrno(fmt::format("chmod {}", path.string()));
  return {};
}

bool rootAlreadyOwned(const fs::path& dir, gid_t fsGroup, bool readOnly) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) < 0 || st.st_gid != fsGroup || !S_ISDIR(st.st_mode)) return false;
  mode_t wanted = (readOnly ? kRoMask : kRwMask) | kExecMask;
  return (st.st_mode & wanted) == wanted && (st.st_mode & S_ISGID);
}

std::optional<std::int64_t> int64At(const json& obj, const json::json_pointer& ptr) {
  if (!obj.contains(ptr)) return std::nullopt;
  const json& v = obj.at(ptr);
  if (!v.is_number_integer()) return std::nullopt;
  return v.get<std::int64_t>();
}

}  // namespace

Status setVolumeOwnership(const fs::path& dir, gid_t fsGroup, bool readOnly,
                          FsGroupChangePolicy policy) {
  if (policy == FsGroupChangePolicy::kOnRootMismatch && rootAlreadyOwned(dir, fsGroup, readOnly))
    return {};
  BERTH_TRY(changeEntry(dir, fsGroup, readOnly));
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    BERTH_TRY(changeEntry(it->path(), fsGroup, readOnly));
  if (ec) return failErrno(ec.value(), fmt::format("walk {}", dir.string()));
  return {};
}

std::optional<gid_t> fsGroupOf(const json& pod) {
  auto g = int64At(pod, "/spec/securityContext/fsGroup"_json_pointer);
  if (!g || *g < 0) return std::nullopt;
  return static_cast<gid_t>(*g);
}

FsGroupChangePolicy fsGroupChangePolicyOf(const json& pod) {
  static const auto ptr = "/spec/securityContext/fsGroupChangePolicy"_json_pointer;
  return pod.contains(ptr) && pod.at(ptr) == "OnRootMismatch" ? FsGroupChangePolicy::kOnRootMismatch
                                                              : FsGroupChangePolicy::kAlways;
}

std::optional<uid_t> fsUserOf(const json& pod) {
  auto podUser = int64At(pod, "/spec/securityContext/runAsUser"_json_pointer);
  std::optional<std::int64_t> common;
  bool any = false;
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    json::json_pointer ptr = "/spec"_json_pointer / list;
    if (!pod.contains(ptr) || !pod.at(ptr).is_array()) continue;
    for (const json& c : pod.at(ptr)) {
      auto user = int64At(c, "/securityContext/runAsUser"_json_pointer);
      if (!user) user = podUser;
      if (!user) return std::nullopt;
      if (any && *user != *common) return std::nullopt;
      common = user;
      any = true;
    }
  }
  if (!common || *common < 0) return std::nullopt;
  return static_cast<uid_t>(*common);
}

}  // namespace berth::kubelet::volume
