#include "common/mount.h"

#include <sys/mount.h>

namespace berth {

Result<Mount> Mount::make(const std::string& source, const std::string& target, const char* fstype,
                          unsigned long flags, const std::string& data) {
  if (::mount(source.c_str(), target.c_str(), fstype, flags,
              data.empty() ? nullptr : data.c_str()) < 0)
    return failErrno(fmt::format("mount {} on {}", source, target));
  return Mount(target);
}

Mount& Mount::operator=(Mount&& o) noexcept {
  if (this != &o) {
    reset();
    target_ = o.release();
  }
  return *this;
}

Status Mount::unmount() {
  if (target_.empty()) return {};
  if (::umount2(target_.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return failErrno(fmt::format("unmount {}", target_));
  target_.clear();
  return {};
}

Status detachAll(const std::string& mountPoint) {
  // Bounded: a mount that can't go away (locked in a user namespace) must not loop forever.
  constexpr int kMaxStacked = 1024;
  for (int i = 0; i < kMaxStacked; ++i) {
    if (::umount2(mountPoint.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) continue;
    if (errno == EINVAL || errno == ENOENT) return {};  // no (more) mount there
    return failErrno(fmt::format("unmount {}", mountPoint));
  }
  return fail(Code::kInternal, "unmount {}: more than {} stacked mounts", mountPoint, kMaxStacked);
}

void Mount::reset() {
  if (!target_.empty()) ::umount2(target_.c_str(), MNT_DETACH);
  target_.clear();
}

}  // namespace berth
