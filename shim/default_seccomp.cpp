#include "shim/default_seccomp.h"

#include <algorithm>
#include <cerrno>

namespace berth::cri {

namespace {

struct Rule {
  std::vector<std::string> unlessCaps;  // allowed when the container holds any of these
  std::vector<std::string> names;
};

// Grouped by the capability that makes them legitimate; an empty list: refused always.
const std::vector<Rule>& rules() {
  static const std::vector<Rule> kRules = {
      {{},
       {"add_key", "keyctl", "request_key", "create_module", "get_kernel_syms", "query_module",
        "nfsservctl", "uselib", "ustat", "sysfs", "_sysctl", "vm86", "vm86old", "userfaultfd",
        "io_uring_setup", "io_uring_enter", "io_uring_register"}},
      {{"CAP_SYS_ADMIN"},
       {"mount", "umount", "umount2", "pivot_root", "setns", "unshare", "quotactl", "quotactl_fd",
        "fanotify_init", "lookup_dcookie", "open_tree", "move_mount", "fsopen", "fsconfig",
        "fsmount", "fspick", "mount_setattr", "swapon", "swapoff"}},
      {{"CAP_SYS_ADMIN", "CAP_BPF"}, {"bpf"}},
      {{"CAP_SYS_ADMIN", "CAP_PERFMON"}, {"perf_event_open"}},
      {{"CAP_SYS_ADMIN", "CAP_SYSLOG"}, {"syslog"}},
      {{"CAP_SYS_BOOT"}, {"reboot", "kexec_load", "kexec_file_load"}},
      {{"CAP_SYS_MODULE"}, {"init_module", "finit_module", "delete_module"}},
      {{"CAP_SYS_TIME"}, {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
      {{"CAP_SYS_RAWIO"}, {"iopl", "ioperm"}},
      {{"CAP_SYS_PACCT"}, {"acct"}},
      {{"CAP_SYS_NICE"}, {"mbind", "set_mempolicy", "migrate_pages", "move_pages"}},
      {{"CAP_SYS_PTRACE"}, {"kcmp", "pidfd_getfd", "process_madvise"}},
      {{"CAP_DAC_READ_SEARCH"}, {"open_by_handle_at"}},
  };
  return kRules;
}

// CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET.
constexpr uint64_t kNamespaceFlags[] = {0x00020000, 0x02000000, 0x04000000, 0x08000000,
                                        0x10000000, 0x20000000, 0x40000000};

std::vector<std::string> architectures() {
#if defined(__x86_64__)
  return {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
#elif defined(__aarch64__)
  return {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
#else
  return {};
#endif
}

}  // namespace

ocispec::Seccomp defaultSeccompProfile(const std::vector<std::string>& capabilities) {
  auto has = [&](const std::string& cap) {
    return std::find(capabilities.begin(), capabilities.end(), cap) != capabilities.end();
  };
  ocispec::Seccomp p;
  p.defaultAction = "SCMP_ACT_ALLOW";
  p.architectures = architectures();
  ocispec::SeccompSyscall denied{.names = {}, .action = "SCMP_ACT_ERRNO", .errnoRet = EPERM};
  for (const auto& rule : rules()) {
    if (std::any_of(rule.unlessCaps.begin(), rule.unlessCaps.end(), has)) continue;
    denied.names.insert(denied.names.end(), rule.names.begin(), rule.names.end());
  }
  p.syscalls.push_back(std::move(denied));
  if (!has("CAP_SYS_ADMIN")) {
    // One rule per flag: seccomp compares masked arguments for equality, so "any of these bits"
    // is several rules. (clone's flags are argument 0 on x86 and arm.)
    for (uint64_t flag : kNamespaceFlags) {
      p.syscalls.push_back(
          {.names = {"clone"},
           .action = "SCMP_ACT_ERRNO",
           .errnoRet = EPERM,
           .args = {{.index = 0, .value = flag, .valueTwo = flag, .op = "SCMP_CMP_MASKED_EQ"}}});
    }
    p.syscalls.push_back({.names = {"clone3"}, .action = "SCMP_ACT_ERRNO", .errnoRet = ENOSYS});
  }
  return p;
}

}  // namespace berth::cri
