#include "shim/apparmor_default.h"

#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

#include "common/spawn.h"
#include "shim/host_info.h"

namespace berth::cri {

bool appArmorUsable(bool kernelEnabled, bool disabledByConfig,
                    const std::filesystem::path& parser) {
  const char* container = std::getenv("container");
  return kernelEnabled && !disabledByConfig && ::access(parser.c_str(), X_OK) == 0 &&
         (container == nullptr || *container == '\0');
}

std::string defaultAppArmorProfile(const std::string& name) {
  // The confinement docker-default and containerd's default profile give, in our own rules.
  return fmt::format(R"(#include <tunables/global>

profile {0} flags=(attach_disconnected,mediate_deleted) {{
  #include <abstractions/base>

  # What the OCI spec grants is checked elsewhere (capabilities, seccomp, mounts): allow here.
  network,
  capability,
  file,
  umount,

  # Signals: from unconfined (host) processes and the runtimes, and among the containers.
  signal (receive) peer=unconfined,
  signal (receive) peer=runc,
  signal (receive) peer=crun,
  signal (send,receive) peer={0},
  ptrace (trace,read,tracedby,readby) peer={0},

  deny mount,

  # /proc: writes only below /proc/<pid> and to /proc/sys/kernel/shm* (the IPC namespace's
  # limits). Deny rules win over the allows above, so the rest is spelled out: a first path
  # element that is neither a number nor "sys", then everything in /proc/sys outside kernel/shm*.
  deny @{{PROC}}/* w,
  deny @{{PROC}}/{{[^0-9s]*,s,sy,s[^y]*,sy[^s]*,sys?*,[0-9]*[^0-9/]*}}/** w,
  deny @{{PROC}}/sys/[^k]*/** w,
  deny @{{PROC}}/sys/kernel/{{s,sh,[^s]*,s[^h]*,sh[^m]*}} w,
  deny @{{PROC}}/sys/kernel/*/** w,
  deny @{{PROC}}/{{sysrq-trigger,kcore}} rwklx,

  # /sys: writes only below /sys/fs/cgroup; firmware, powercap and securityfs not even read.
  deny /sys/{{[^f]*,f[^s]*,fs/[^c]*,fs/c[^g]*,fs/cg[^r]*}}/** wklx,
  deny /sys/{{firmware,devices/virtual/powercap,kernel/security}}/** rwklx,
}}
)",
                     name);
}

Status AppArmorDefaultProfile::ensureLoaded() {
  std::lock_guard lock(mu_);
  if (loaded_) return {};
  if (BERTH_TRY_CTX(appArmorProfileLoaded(profilesFile_, name_),
                    fmt::format("AppArmor profile {}", name_))) {
    loaded_ = true;
    return {};
  }
  if (::access(parser_.c_str(), X_OK) != 0)
    return fail(Code::kFailedPrecondition,
                "AppArmor is enabled on this host but {} is missing (package apparmor): the "
                "default profile {} can't be loaded",
                parser_.string(), name_);
  SpawnOptions o;
  o.path = parser_.string();
  // Replace (a profile of that name from an older berth), and no cache: the text is ours.
  o.args = {"apparmor_parser", "--replace", "--skip-cache"};
  o.stdinData = defaultAppArmorProfile(name_);
  o.captureStdout = true;
  o.captureStderr = true;
  o.timeout = std::chrono::seconds(60);
  auto r = BERTH_TRY_CTX(runProgram(o), fmt::format("load AppArmor profile {}", name_));
  if (!r.status.success())
    return fail(Code::kFailedPrecondition, "load AppArmor profile {}: {} exited {}: {}", name_,
                parser_.string(), r.status.code, r.stderrData);
  loaded_ = true;
  return {};
}

}  // namespace berth::cri
