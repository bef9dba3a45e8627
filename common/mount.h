#pragma once
// The one owner of a mount: detaches it in the destructor unless released.

#include <string>

#include "common/result.h"

namespace berth {

class Mount {
 public:
  Mount() = default;
  // mount(2) and take ownership of the result.
  [[nodiscard]] static Result<Mount> make(const std::string& source, const std::string& target,
                                          const char* fstype, unsigned long flags,
                                          const std::string& data = {});
  // Adopts an existing mount point.
  static Mount adopt(std::string target) { return Mount(std::move(target)); }

  Mount(Mount&& o) noexcept : target_(std::move(o.target_)) { o.target_.clear(); }
  Mount& operator=(Mount&& o) noexcept;
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  ~Mount() { reset(); }

  const std::string& target() const { return target_; }
  // Keeps the mount: the caller has handed it to a longer-lived owner.
  std::string release() { return std::exchange(target_, {}); }
  // umount2(MNT_DETACH) now; errors are reported.
  [[nodiscard]] Status unmount();

 private:
  explicit Mount(std::string target) : target_(std::move(target)) {}
  void reset();
  std::string target_;
};

// Detaches every mount stacked on `mountPoint`, each with everything mounted under it: for a
// directory that only its owner mounts on. Nothing mounted there, or no such path, is fine.
[[nodiscard]] Status detachAll(const std::string& mountPoint);

}  // namespace berth
