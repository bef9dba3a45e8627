#pragma once
// hostPath volumes (upstream pkg/volume/hostpath): the node path itself is the volume; `type`
// checks it, creating it for DirectoryOrCreate (0755) and FileOrCreate (0644).

#include <string>
#include <string_view>

#include "common/result.h"

namespace berth::kubelet::volume {

// type "" (no check), DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice,
// BlockDevice. Errors read as upstream's ("hostPath type check failed: /x is not a
// directory"). Symlinks are followed, as os.Stat does.
[[nodiscard]] Status checkHostPathType(const std::string& path, std::string_view type);

}  // namespace berth::kubelet::volume
