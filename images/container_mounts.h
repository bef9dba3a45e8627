#pragma once
// Container filesystems under <root>/containers/<id> (paths.h): an overlayfs of the image's
// snapshots (lowerdir chain, top layer first) with the container's own upper and work dirs, or a
// read-only view (no upper) for inspecting an image.
//
// Many layers must still mount, and mount(2)'s option string is one page. Kernels ≥ 6.8 take
// each lower dir in its own fsconfig(2) "lowerdir+" call, so there is no total limit; older
// kernels (Debian 12's 6.1) get the classic option string with lower dirs relative to
// <root>/snapshots ("<hex>/fs"), mounted from a child process that chdir'ed there — as
// containerd does — which fits ~60 layers in a page; more is a clear error there.

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace berth::images {

enum class OverlayApi {
  kAuto,    // fsconfig lowerdir+ when the kernel has it, else the option string
  kLegacy,  // always the option string (tests force the fallback with this)
};

struct ContainerMountOptions {
  bool readOnly = false;  // no upper dir: a read-only view of the image
  OverlayApi api = OverlayApi::kAuto;
};

struct ContainerMountInfo {
  std::string id;
  std::vector<std::string> chainIds;  // bottom layer first
  bool readOnly = false;
  std::filesystem::path merged;  // the mount point
};

class ContainerMounts {
 public:
  [[nodiscard]] static Result<ContainerMounts> open(std::filesystem::path root);

  // Creates containers/<id> and mounts the overlay of `chainIds` (bottom first; each must be an
  // unpacked snapshot) at containers/<id>/merged. kAlreadyExists when <id> exists. On failure
  // nothing is left.
  [[nodiscard]] Result<ContainerMountInfo> mount(const std::string& id,
                                                 const std::vector<std::string>& chainIds,
                                                 const ContainerMountOptions& options = {});
  // Unmounts and removes containers/<id> (the upper dir with it). An id that is not there is
  // success, as CRI removals are idempotent.
  [[nodiscard]] Status remove(const std::string& id);
  [[nodiscard]] Result<ContainerMountInfo> get(const std::string& id) const;
  [[nodiscard]] Result<std::vector<ContainerMountInfo>> list() const;

  // Whether this kernel's overlayfs takes "lowerdir+" (6.8+).
  static bool kernelHasLowerdirPlus();

 private:
  explicit ContainerMounts(std::filesystem::path root) : root_(std::move(root)) {}
  Status mountWithFsconfig(const std::vector<std::filesystem::path>& lowers,
                           const std::filesystem::path& dir, bool readOnly) const;
  Status mountWithOptionString(const std::vector<std::string>& relativeLowers,
                               const std::filesystem::path& dir, bool readOnly) const;
  std::filesystem::path root_;
};

}  // namespace berth::images
