#pragma once
// The kernel's share of a pod's network, measured with nothing else running: a veth pair made
// into the pod's namespace and deleted again by bare netlink calls, back to back. Deleting a
// net device waits for an RCU barrier (netdev_run_todo), and releasing a network namespace
// makes the kernel's cleanup worker take two more under the same global mutex, so a sequence
// of pods can't go faster than this whoever drives it. The benchmarks print it beside their
// ratios (docs/ARCHITECTURE.md, "Where the time goes").

#include <string>

#include "common/result.h"

namespace berth::bench {

struct VethFloor {
  double cycleMs = 0;   // wall time per pod, back to back
  double createMs = 0;  // median veth pair creation
  double deleteMs = 0;  // median deletion (the RCU barrier and anything queued before it)
};

// `cycles` pods in a row. With `podNetns` empty each pod gets a fresh network namespace that is
// released after its veth is deleted (a CRI pod's lifetime); otherwise every pair's peer goes
// into that one namespace (the CNI benchmark's pods). The host end is named `hostName`.
[[nodiscard]] Result<VethFloor> measureVethFloor(int cycles, const std::string& podNetns,
                                                 const std::string& hostName);

}  // namespace berth::bench
