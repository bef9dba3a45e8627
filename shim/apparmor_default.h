#pragma once
// The AppArmor profile berth-cri gives a container that asks for RuntimeDefault (or nothing) on a
// host with AppArmor: `berth-default`, generated here and loaded with apparmor_parser the first
// time a container needs it, as containerd loads cri-containerd.apparmor.d. Confined like
// docker-default: the filesystem, network and capabilities the spec grants, but no mounts, no
// writes to /proc outside a process's own directories and /proc/sys/kernel/shm*, no /sys writes
// outside cgroupfs, no /proc/kcore, /proc/sysrq-trigger, /sys/firmware or securityfs.

#include <filesystem>
#include <mutex>
#include <string>

#include "common/result.h"

namespace berth::cri {

// Where containerd looks for it (usr-merged hosts have it in /usr/sbin too).
inline constexpr const char* kAppArmorParser = "/sbin/apparmor_parser";

// containerd's rule for using AppArmor at all: the kernel has it enabled, its parser is
// installed, berth-cri is not itself in a container ($container set) and the configuration does
// not turn it off.
bool appArmorUsable(bool kernelEnabled, bool disabledByConfig,
                    const std::filesystem::path& parser = kAppArmorParser);

// The profile's source text, for apparmor_parser.
std::string defaultAppArmorProfile(const std::string& name);

class AppArmorDefaultProfile {
 public:
  AppArmorDefaultProfile(std::string name, std::filesystem::path profilesFile,
                         std::filesystem::path parser)
      : name_(std::move(name)),
        profilesFile_(std::move(profilesFile)),
        parser_(std::move(parser)) {}

  // Loads the profile unless the kernel has it (profilesFile lists it); once loaded, later calls
  // return at once. A missing or failing apparmor_parser is FailedPrecondition naming it, with
  // the parser's own words.
  [[nodiscard]] Status ensureLoaded();

 private:
  std::string name_;
  std::filesystem::path profilesFile_;
  std::filesystem::path parser_;
  std::mutex mu_;
  bool loaded_ = false;
};

}  // namespace berth::cri
