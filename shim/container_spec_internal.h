#pragma once
// The steps of buildContainerSpec (container_spec.cpp), shared with container_spec_linux.cpp.
// Not part of the API; includes the generated CRI types.

#include "runtime/v1/api.pb.h"
#include "shim/container_spec.h"

namespace berth::cri::detail {

namespace v1 = ::runtime::v1;

// linux.namespaces from NamespaceOption and the pod's pinned namespaces.
[[nodiscard]] Status applyNamespaces(const ContainerSpecInput& in, ocispec::Spec& spec);
// linux.cgroupsPath and linux.resources (cpu, memory, hugepages, unified) and oomScoreAdj.
[[nodiscard]] Status applyResources(const ContainerSpecInput& in, ocispec::Spec& spec);
// capabilities, privileged, masked/readonly paths, noNewPrivileges, readonly rootfs.
[[nodiscard]] Status applySecurity(const ContainerSpecInput& in, ocispec::Spec& spec);
// CRI devices: device nodes and their cgroup rules.
[[nodiscard]] Status applyDevices(const ContainerSpecInput& in, ocispec::Spec& spec);
[[nodiscard]] Status applySeccomp(const ContainerSpecInput& in, ocispec::Spec& spec);
[[nodiscard]] Status applyAppArmor(const ContainerSpecInput& in, ocispec::Spec& spec);

}  // namespace berth::cri::detail
