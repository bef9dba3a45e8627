#pragma once
// linux.seccomp (config-linux.md "Seccomp") compiled by the runtime, before it forks, into the
// classic BPF program the container process installs with seccomp(2). libseccomp builds the filter
// as runc 1.1 asks it to (libcontainer/seccomp), and an -ENOSYS prologue is prepended as runc's
// patchbpf does, so the child only makes one system call: nothing is allocated between clone and
// exec.

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"
#include "ocispec/runtime_spec.h"

namespace berth::runtime {

struct SeccompProgram {
  bool enabled = false;
  std::vector<sock_filter> instructions;
  // Points into `instructions`: set by linkPointers once the plan has reached its final address.
  sock_fprog fprog{};
  unsigned flags = 0;        // SECCOMP_FILTER_FLAG_*; NEW_LISTENER when a rule is SCMP_ACT_NOTIFY
  std::string listenerPath;  // the seccomp agent's unix socket (linux.seccomp.listenerPath)
  std::string listenerMetadata;

  bool hasListener() const { return (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0; }
};

// Errors name the field: "linux.seccomp.syscalls[2].action: ...".
[[nodiscard]] Result<SeccompProgram> compileSeccomp(const ocispec::Seccomp& config);

// runtime-spec ContainerProcessState (config-linux.md "The Container Process State"): what the
// seccomp agent receives with the listener fd. `pid` is the process that loaded the filter.
std::string containerProcessState(const ocispec::State& state, pid_t pid,
                                  const std::string& metadata);

// Connects to the agent's unix socket (a leading '@' names an abstract socket, as Go's net.Dial)
// and sends the state with the listener fd in one SCM_RIGHTS message (runc's
// sendContainerProcessState).
[[nodiscard]] Status sendSeccompListener(const std::string& listenerPath,
                                         const std::string& processState, int listenerFd);

// What `features` reports (features-linux.md "Seccomp").
struct SeccompFeatures {
  std::vector<std::string> actions, operators, archs, knownFlags, supportedFlags;
};
SeccompFeatures seccompFeatures();

}  // namespace berth::runtime
