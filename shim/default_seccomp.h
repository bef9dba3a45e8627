#pragma once
// berth's RuntimeDefault seccomp profile (what a pod's `seccompProfile: RuntimeDefault` and the
// legacy "runtime/default" / "docker/default" get when cri.yaml configures no other).
//
// It follows the intent of the Docker/containerd default — calls that reach past the container's
// namespaces are refused unless the container holds the capability that makes them legitimate —
// written as a deny list (default SCMP_ACT_ALLOW, the listed calls fail with EPERM) rather than
// Docker's ~370-name allow list. clone/unshare with namespace flags and clone3 are refused
// without CAP_SYS_ADMIN (clone3 with ENOSYS, so libcs fall back to clone), io_uring always (as
// containerd 2 and Docker 25 do).
#include <string>
#include <vector>

#include "ocispec/runtime_spec.h"

namespace berth::cri {

// The profile for a container whose bounding set is `capabilities` (CAP_* names).
ocispec::Seccomp defaultSeccompProfile(const std::vector<std::string>& capabilities);

}  // namespace berth::cri
