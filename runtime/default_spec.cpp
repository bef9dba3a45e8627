#include "runtime/default_spec.h"

#include <seccomp.h>
#include <unistd.h>

#include "ocispec/runtime_spec.h"
#include "runtime/capabilities.h"
#include "runtime/plan_builder.h"
#include "runtime/seccomp.h"

namespace berth::runtime {

using json = nlohmann::ordered_json;

json defaultSpec(bool rootless) {
  json caps = json::array({"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
  json spec = {
      {"ociVersion", ocispec::kOciVersion},
      {"process",
       {{"terminal", true},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"sh"}},
        {"env",
         {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities",
         {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "runc"},
      {"mounts",
       {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/dev"},
         {"type", "tmpfs"},
         {"source", "tmpfs"},
         {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
        {{"destination", "/dev/pts"},
         {"type", "devpts"},
         {"source", "devpts"},
         {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
        {{"destination", "/dev/shm"},
         {"type", "tmpfs"},
         {"source", "shm"},
         {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
        {{"destination", "/dev/mqueue"},
         {"type", "mqueue"},
         {"source", "mqueue"},
         {"options", {"nosuid", "noexec", "nodev"}}},
        {{"destination", "/sys"},
         {"type", "sysfs"},
         {"source", "sysfs"},
         {"options", {"nosuid", "noexec", "nodev", "ro"}}},
        {{"destination", "/sys/fs/cgroup"},
         {"type", "cgroup"},
         {"source", "cgroup"},
         {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}}}},
      {"linux",
       {{"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
        {"namespaces",
         {{{"type", "pid"}},
          {{"type", "network"}},
          {{"type", "ipc"}},
          {{"type", "uts"}},
          {{"type", "mount"}}}},
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
          "/proc/scsi"}},
        {"readonlyPaths",
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}},
  };
  if (rootless) {
    // runc's ToRootless: a user namespace mapping the caller, no network namespace, /sys bound
    // from the host, no devpts gid, no cgroup mount, no device rules.
    json& linux = spec["linux"];
    linux.erase("resources");
    json ns = json::array();
    for (const auto& n : linux["namespaces"])
      if (n["type"] != "network") ns.push_back(n);
    ns.push_back({{"type", "user"}});
    linux["namespaces"] = ns;
    json uid = {{{"containerID", 0}, {"hostID", ::getuid()}, {"size", 1}}};
    json gid = {{{"containerID", 0}, {"hostID", ::getgid()}, {"size", 1}}};
    json reordered = {{"uidMappings", uid}, {"gidMappings", gid}};
    for (auto& [k, v] : linux.items())
      reordered[k] = v;
    linux = reordered;
    json mounts = json::array();
    for (auto m : spec["mounts"]) {
      if (m["destination"] == "/sys/fs/cgroup") continue;
      if (m["destination"] == "/sys")
        m = {{"destination", "/sys"},
             {"type", "none"},
             {"source", "/sys"},
             {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}};
      if (m["destination"] == "/dev/pts") {
        json opts = json::array();
        for (const auto& o : m["options"])
          if (o != "gid=5") opts.push_back(o);
        m["options"] = opts;
      }
      mounts.push_back(m);
    }
    spec["mounts"] = mounts;
  }
  return spec;
}

namespace {

json seccompJson() {
  SeccompFeatures f = seccompFeatures();
  return {{"enabled", true},  {"actions", f.actions},       {"operators", f.operators},
          {"archs", f.archs}, {"knownFlags", f.knownFlags}, {"supportedFlags", f.supportedFlags}};
}

}  // namespace

json featuresDocument() {
  const scmp_version* v = seccomp_version();
  json caps = json::array();
  for (const auto& c : knownCapabilities())
    caps.push_back(c);
  return {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", ocispec::kOciVersion},
      {"hooks",
       {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
      {"mountOptions",
       {"async",      "atime",         "bind",    "defaults", "dev",         "diratime",  "dirsync",
        "exec",       "mand",          "noatime", "nodev",    "nodiratime",  "noexec",    "nomand",
        "norelatime", "nostrictatime", "nosuid",  "private",  "rbind",       "relatime",  "remount",
        "ro",         "rprivate",      "rshared", "rslave",   "runbindable", "rw",        "shared",
        "slave",      "strictatime",   "suid",    "sync",     "tmpcopyup",   "unbindable"}},
      {"linux",
       {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}},
        {"capabilities", caps},
        {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", true}, {"systemdUser", false}}},
        {"seccomp", seccompJson()},
        {"apparmor", {{"enabled", appArmorEnabled()}}},
        {"selinux", {{"enabled", seLinuxEnabled()}}}}},
      {"annotations",
       {{"io.github.seccomp.libseccomp.version",
         fmt::format("{}.{}.{}", v->major, v->minor, v->micro)},
        {"org.opencontainers.runc.checkpoint.enabled", "false"},
        {"io.berth.runtime.version", BERTH_VERSION}}},
  };
}

}  // namespace berth::runtime
