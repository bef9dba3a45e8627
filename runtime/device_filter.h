#pragma once
// cgroup v2 device control: an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE generated from
// the spec's device rules (runc's libcontainer/cgroups/devices/devicefilter), attached to the
// container's cgroup in place of any program attached before.

#include <linux/bpf.h>

#include <string>
#include <vector>

#include "common/result.h"
#include "ocispec/runtime_spec.h"

namespace berth::runtime {

// The program for `rules`, applied in order with later rules overriding earlier ones (as the v1
// devices controller does): it returns 1 (allow) or 0 (deny) for a bpf_cgroup_dev_ctx.
[[nodiscard]] Result<std::vector<bpf_insn>> compileDeviceFilter(
    const std::vector<ocispec::DeviceCgroup>& rules);

// Loads the program and attaches it to the cgroup2 directory, then detaches the programs that
// were attached there before.
[[nodiscard]] Status attachDeviceFilter(const std::string& cgroupDir,
                                        const std::vector<bpf_insn>& program);

}  // namespace berth::runtime
