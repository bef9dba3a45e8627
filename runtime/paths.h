#pragma once
// The runtime's state directory (runc keeps the same shape under /run/runc):
//
//   <root>/                      --root, default /run/berth-runtime (0700); volatile, as runc's
//                                (a tmpfs): files are replaced by rename, without fsync
//   └── <container id>/          (0711)
//       ├── state.json           ContainerRecord, written atomically
//       ├── config.json          the bundle's config as it was at create
//       ├── exec.fifo            exists from create until start (runtime.md "created")
//       └── rootfs/              without a mount namespace of its own: a bind of the rootfs,
//                                the container's root, holding every mount made for it

#include <filesystem>
#include <string>

namespace berth::runtime {

inline constexpr const char* kDefaultRoot = "/run/berth-runtime";

struct ContainerPaths {
  std::filesystem::path dir;
  std::filesystem::path state() const { return dir / "state.json"; }
  std::filesystem::path config() const { return dir / "config.json"; }
  std::filesystem::path execFifo() const { return dir / "exec.fifo"; }
  std::filesystem::path rootfs() const { return dir / "rootfs"; }
};

}  // namespace berth::runtime
