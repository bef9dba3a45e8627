#include "shim/container_spec.h"

#include <fnmatch.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "ocispec/spec_json.h"
#include "shim/container_spec_internal.h"
#include "shim/host_info.h"
#include "shim/rootfs_user.h"

namespace berth::cri {

using detail::v1::ContainerConfig;

namespace {

constexpr const char* kDefaultPathEnv =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// containerd's defaultUnixCaps: what a container has when the request adds or drops nothing.
const std::vector<std::string>& defaultCapabilities() {
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE"};
  return caps;
}

ocispec::Mount makeMount(std::string dst, std::string type, std::string src,
                         std::vector<std::string> options) {
  ocispec::Mount m;
  m.destination = std::move(dst);
  m.type = std::move(type);
  m.source = std::move(src);
  m.options = std::move(options);
  return m;
}

// containerd's defaultMounts without /run (WithoutRunMount), plus the read-only cgroup mount
// its WithMounts adds.
std::vector<ocispec::Mount> defaultMounts() {
  return {
      makeMount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      makeMount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      makeMount("/dev/pts", "devpts", "devpts",
                {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      makeMount("/dev/shm", "tmpfs", "shm",
                {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      makeMount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      makeMount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      makeMount("/sys/fs/cgroup", "cgroup", "cgroup",
                {"nosuid", "noexec", "nodev", "relatime", "ro"}),
  };
}

// The version CRI specs declare: they use nothing newer than runtime-spec 1.1, and the runtimes
// a handler may name check it (Debian 12's crun refuses "1.2.0"); containerd 1.7 writes 1.1.0.
constexpr const char* kCriSpecVersion = "1.1.0";

ocispec::Spec baseSpec(const ContainerSpecInput& in) {
  ocispec::Spec s;
  s.ociVersion = kCriSpecVersion;
  s.root = ocispec::Root{in.rootfs.string(), false};
  ocispec::Process p;
  p.cwd = "/";
  p.noNewPrivileges = false;  // containerd's WithNewPrivileges; no_new_privs sets it
  ocispec::Capabilities caps;
  caps.bounding = caps.effective = caps.permitted = defaultCapabilities();
  p.capabilities = caps;
  s.process = p;
  s.mounts = defaultMounts();
  ocispec::Linux l;
  for (const char* t : {"pid", "ipc", "uts", "mount", "network"})
    l.namespaces.push_back(ocispec::Namespace{t, std::nullopt});
  ocispec::Resources r;
  r.devices.push_back(
      ocispec::DeviceCgroup{false, std::nullopt, std::nullopt, std::nullopt, "rwm"});
  l.resources = r;
  l.maskedPaths = {"/proc/acpi",          "/proc/asound",
                   "/proc/kcore",         "/proc/keys",
                   "/proc/latency_stats", "/proc/timer_list",
                   "/proc/timer_stats",   "/proc/sched_debug",
                   "/sys/firmware",       "/sys/devices/virtual/powercap",
                   "/proc/scsi"};
  l.readonlyPaths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  s.linux = l;
  return s;
}

// ContainerConfig.command/args over the image's Entrypoint/Cmd (containerd's WithProcessArgs,
// itself Docker's rule): command replaces Entrypoint and then the image's Cmd is dropped; args
// alone replace Cmd and keep Entrypoint.
Status applyArgs(const ContainerSpecInput& in, ocispec::Spec& spec) {
  const ContainerConfig& c = *in.config;
  std::vector<std::string> command(c.command().begin(), c.command().end());
  std::vector<std::string> args(c.args().begin(), c.args().end());
  if (command.empty()) {
    if (args.empty()) args = in.image.cmd;
    // An Entrypoint of [""] means "no entrypoint" (docker build's ENTRYPOINT [""]).
    if (!(in.image.entrypoint.size() == 1 && in.image.entrypoint[0].empty()))
      command = in.image.entrypoint;
  }
  if (command.empty() && args.empty())
    return fail(Code::kInvalidArgument,
                "no command specified: the request has no command or args and the image no "
                "Entrypoint or Cmd");
  command.insert(command.end(), args.begin(), args.end());
  spec.process->args = std::move(command);
  return {};
}

void applyEnv(const ContainerSpecInput& in, ocispec::Spec& spec) {
  const ContainerConfig& c = *in.config;
  std::vector<std::string> env = {kDefaultPathEnv};
  if (c.tty()) env.push_back("TERM=xterm");
  std::string hostname = in.sandboxConfig->hostname();
  if (hostname.empty()) hostname = in.host.nodeHostname;
  env = mergeEnv(std::move(env), {"HOSTNAME=" + hostname});
  std::vector<std::string> overrides = in.image.env;
  for (const auto& kv : c.envs())
    overrides.push_back(kv.key() + "=" + kv.value());
  spec.process->env = mergeEnv(std::move(env), overrides);
}

std::vector<uint32_t> sortedUnique(std::vector<uint32_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// process.user from run_as_username / run_as_user / run_as_group, else the image's User
// (containerd's generateUserString + oci.WithUser), and additionalGids: the primary gid, the
// groups of /etc/group that list the user (unless supplemental_groups_policy is Strict) and
// supplemental_groups.
Status applyUser(const ContainerSpecInput& in, ocispec::Spec& spec) {
  const auto& sc = in.config->linux().security_context();
  std::string userStr;
  std::string what;
  if (!sc.run_as_username().empty()) {
    userStr = sc.run_as_username();
    what = fmt::format("run_as_username \"{}\"", userStr);
  } else if (sc.has_run_as_user()) {
    userStr = std::to_string(sc.run_as_user().value());
    what = fmt::format("run_as_user {}", userStr);
  }
  if (sc.has_run_as_group()) {
    if (userStr.empty())
      return fail(Code::kInvalidArgument,
                  "run_as_group {} is set without run_as_user or run_as_username",
                  sc.run_as_group().value());
    userStr += ":" + std::to_string(sc.run_as_group().value());
    what += fmt::format(" with run_as_group {}", sc.run_as_group().value());
  }
  if (userStr.empty() && !in.image.user.empty()) {
    userStr = in.image.user;
    what = fmt::format("image User \"{}\"", userStr);
  }
  RootfsUsers users = BERTH_TRY_CTX(RootfsUsers::load(in.rootfs), "read the image's users");
  UidGid ids;
  if (!userStr.empty()) ids = BERTH_TRY(resolveUser(users, userStr, what));

  // The name whose /etc/group memberships count: containerd's WithAdditionalGIDs argument.
  std::string member = "0";
  if (!sc.run_as_username().empty())
    member = sc.run_as_username();
  else if (sc.has_run_as_user())
    member = std::to_string(sc.run_as_user().value());
  else if (!in.image.user.empty())
    member = in.image.user.substr(0, in.image.user.find(':'));
  std::vector<uint32_t> gids = {ids.gid};
  if (sc.supplemental_groups_policy() != detail::v1::SupplementalGroupsPolicy::Strict) {
    const PasswdEntry* u = nullptr;
    bool numeric = !member.empty() && std::all_of(member.begin(), member.end(),
                                                  [](char ch) { return ch >= '0' && ch <= '9'; });
    std::optional<std::string> name;
    if (numeric) {
      uint64_t uid = std::strtoull(member.c_str(), nullptr, 10);
      if (uid <= UINT32_MAX && (u = users.userByUid(static_cast<uint32_t>(uid)))) name = u->name;
    } else {
      name = member;
    }
    if (name)
      for (uint32_t g : users.memberGroups(*name))
        gids.push_back(g);
  }
  for (int64_t g : sc.supplemental_groups()) {
    if (g < 0 || g > INT32_MAX)
      return fail(Code::kInvalidArgument, "supplemental_groups: gid {} out of range", g);
    gids.push_back(static_cast<uint32_t>(g));
  }
  spec.process->user.uid = ids.uid;
  spec.process->user.gid = ids.gid;
  spec.process->user.additionalGids = sortedUnique(std::move(gids));
  return {};
}

std::string cleanPath(const std::string& p) {
  std::string c = std::filesystem::path(p).lexically_normal().string();
  if (c.size() > 1 && c.back() == '/') c.pop_back();
  return c;
}

size_t pathDepth(const std::string& p) {
  std::string c = cleanPath(p);
  return static_cast<size_t>(std::count(c.begin(), c.end(), '/'));
}

// A CRI mount, from the request or added by the runtime (hosts, resolv.conf, image volumes).
struct CriMount {
  std::string field;  // "mounts[2]" or what added it, for errors
  std::string containerPath;
  std::string hostPath;
  bool readonly = false;
  bool selinuxRelabel = false;
  detail::v1::MountPropagation propagation = detail::v1::PROPAGATION_PRIVATE;
  bool recursiveReadOnly = false;
};

bool inCriMounts(const std::string& dst, const ContainerConfig& c) {
  for (const auto& m : c.mounts())
    if (cleanPath(m.container_path()) == cleanPath(dst)) return true;
  return false;
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

// containerd's containerMounts and volumeMounts: the pod's hostname, hosts, resolv.conf and
// /dev/shm, and a directory per image volume, unless the request mounts that path itself.
Result<std::vector<CriMount>> runtimeMounts(const ContainerSpecInput& in) {
  const ContainerConfig& c = *in.config;
  const auto& sc = c.linux().security_context();
  std::vector<CriMount> out;
  auto podFile = [&](const char* dst, const std::string& src) {
    if (src.empty() || inCriMounts(dst, c)) return;
    CriMount m;
    m.field = fmt::format("pod file {}", dst);
    m.containerPath = dst;
    m.hostPath = src;
    m.readonly = sc.readonly_rootfs();
    m.selinuxRelabel = true;
    out.push_back(std::move(m));
  };
  podFile("/etc/hostname", in.pod.hostnamePath);
  podFile("/etc/hosts", in.pod.hostsPath);
  podFile("/etc/resolv.conf", in.pod.resolvConfPath);
  std::string shm = in.pod.shmPath;
  if (sc.namespace_options().ipc() == detail::v1::NODE) shm = "/dev/shm";
  if (!shm.empty() && !inCriMounts("/dev/shm", c)) {
    CriMount m;
    m.field = "pod /dev/shm";
    m.containerPath = "/dev/shm";
    m.hostPath = shm;
    m.selinuxRelabel = shm != "/dev/shm";
    out.push_back(std::move(m));
  }
  for (const auto& v : in.image.volumes) {
    std::string dst = v.starts_with('/') ? v : "/" + v;
    if (inCriMounts(dst, c)) continue;
    if (in.containerDir.empty())
      return fail(Code::kInvalidArgument, "image volume {}: no container directory to hold it",
                  dst);
    CriMount m;
    m.field = fmt::format("image volume {}", dst);
    m.containerPath = dst;
    m.hostPath =
        (in.containerDir / "volumes" / fmt::format("{:016x}", fnv1a(cleanPath(dst)))).string();
    m.selinuxRelabel = true;
    out.push_back(std::move(m));
  }
  return out;
}

class MountInfoCache {
 public:
  explicit MountInfoCache(std::filesystem::path file) : file_(std::move(file)) {}
  Result<const MountInfo*> lookup(const std::string& path) {
    if (!loaded_) {
      std::string text = BERTH_TRY(readFile(file_));
      mounts_ = BERTH_TRY_CTX(parseMountInfo(text), file_.string());
      loaded_ = true;
    }
    const MountInfo* m = cri::lookupMount(mounts_, path);
    if (!m) return fail(Code::kNotFound, "{}: no mount holds {}", file_.string(), path);
    return m;
  }

 private:
  std::filesystem::path file_;
  bool loaded_ = false;
  std::vector<MountInfo> mounts_;
};

Status applyMounts(const ContainerSpecInput& in, ocispec::Spec& spec,
                   std::vector<std::string>& hostDirs) {
  const ContainerConfig& c = *in.config;
  std::vector<CriMount> mounts;
  for (int i = 0; i < c.mounts_size(); ++i) {
    const auto& m = c.mounts(i);
    std::string field = fmt::format("mounts[{}] ({})", i, m.container_path());
    if (m.container_path().empty() || !m.container_path().starts_with('/'))
      return fail(Code::kInvalidArgument, "mounts[{}].container_path \"{}\": must be absolute", i,
                  m.container_path());
    if (!m.image().image().empty())
      return fail(Code::kUnimplemented, "{}: image volume mounts are not supported", field);
    if (m.host_path().empty()) return fail(Code::kInvalidArgument, "{}: host_path is empty", field);
    if (m.uidmappings_size() > 0 || m.gidmappings_size() > 0)
      return fail(Code::kUnimplemented, "{}: idmap mounts are not supported", field);
    CriMount cm;
    cm.field = std::move(field);
    cm.containerPath = m.container_path();
    cm.hostPath = m.host_path();
    cm.readonly = m.readonly();
    cm.selinuxRelabel = m.selinux_relabel();
    cm.propagation = m.propagation();
    cm.recursiveReadOnly = m.recursive_read_only();
    mounts.push_back(std::move(cm));
  }
  for (auto& m : BERTH_TRY(runtimeMounts(in)))
    mounts.push_back(std::move(m));
  std::stable_sort(mounts.begin(), mounts.end(), [](const CriMount& a, const CriMount& b) {
    return pathDepth(a.containerPath) < pathDepth(b.containerPath);
  });

  // Default mounts a supplied mount overrides go, and all of /dev's when /dev is supplied.
  std::set<std::string> supplied;
  for (const auto& m : mounts)
    supplied.insert(cleanPath(m.containerPath));
  std::vector<ocispec::Mount> out;
  for (auto& d : spec.mounts) {
    std::string dst = cleanPath(d.destination);
    if (supplied.contains(dst)) continue;
    if (supplied.contains("/dev") && dst.starts_with("/dev/")) continue;
    out.push_back(std::move(d));
  }

  MountInfoCache mountInfo(in.host.mountInfoFile);
  std::optional<std::string> rootPropagation;
  for (const auto& m : mounts) {
    HostPath src = BERTH_TRY_CTX(resolveHostPath(m.hostPath), m.field);
    if (!src.exists) hostDirs.push_back(src.resolved);
    std::vector<std::string> options = {"rbind"};
    switch (m.propagation) {
      case detail::v1::PROPAGATION_BIDIRECTIONAL: {
        const MountInfo* mi = BERTH_TRY_CTX(mountInfo.lookup(src.resolved), m.field);
        if (!isSharedMount(*mi))
          return fail(Code::kFailedPrecondition,
                      "{}: path \"{}\" is mounted on \"{}\" but it is not a shared mount "
                      "(PROPAGATION_BIDIRECTIONAL needs one)",
                      m.field, src.resolved, mi->mountPoint);
        options.push_back("rshared");
        rootPropagation = "rshared";
        break;
      }
      case detail::v1::PROPAGATION_HOST_TO_CONTAINER: {
        const MountInfo* mi = BERTH_TRY_CTX(mountInfo.lookup(src.resolved), m.field);
        if (!isSharedOrSlaveMount(*mi))
          return fail(Code::kFailedPrecondition,
                      "{}: path \"{}\" is mounted on \"{}\" but it is not a shared or slave "
                      "mount (PROPAGATION_HOST_TO_CONTAINER needs one)",
                      m.field, src.resolved, mi->mountPoint);
        options.push_back("rslave");
        if (rootPropagation != "rshared") rootPropagation = "rslave";
        break;
      }
      default:
        options.push_back("rprivate");
        break;
    }
    if (m.recursiveReadOnly) {
      if (!m.readonly)
        return fail(Code::kInvalidArgument, "{}: recursive_read_only needs readonly", m.field);
      if (m.propagation != detail::v1::PROPAGATION_PRIVATE)
        return fail(Code::kInvalidArgument,
                    "{}: recursive_read_only needs PROPAGATION_PRIVATE propagation", m.field);
      options.push_back("rro");
    } else {
      options.push_back(m.readonly ? "ro" : "rw");
    }
    // Relabelling is the runtime's job when SELinux is on; without it the flag means nothing.
    if (m.selinuxRelabel && in.host.seLinuxEnabled) options.push_back("z");
    out.push_back(makeMount(m.containerPath, "bind", src.resolved, std::move(options)));
  }
  spec.mounts = std::move(out);
  if (rootPropagation) spec.linux->rootfsPropagation = rootPropagation;
  return {};
}

// Container annotations pass through; containerd's io.kubernetes.cri.* describe the container.
void applyAnnotations(const ContainerSpecInput& in, ocispec::Spec& spec) {
  for (const auto& [k, v] : in.sandboxConfig->annotations())
    for (const auto& pattern : in.host.podAnnotationPatterns)
      if (::fnmatch(pattern.c_str(), k.c_str(), 0) == 0) {
        spec.annotations[k] = v;
        break;
      }
  for (const auto& [k, v] : in.config->annotations())
    spec.annotations[k] = v;
  const auto& md = in.sandboxConfig->metadata();
  spec.annotations["io.kubernetes.cri.sandbox-id"] = in.pod.sandboxId;
  spec.annotations["io.kubernetes.cri.sandbox-namespace"] = md.namespace_();
  spec.annotations["io.kubernetes.cri.sandbox-uid"] = md.uid();
  spec.annotations["io.kubernetes.cri.sandbox-name"] = md.name();
  spec.annotations["io.kubernetes.cri.container-name"] = in.config->metadata().name();
  spec.annotations["io.kubernetes.cri.image-name"] = in.imageName;
  spec.annotations["io.kubernetes.cri.container-type"] = "container";
}

}  // namespace

std::vector<std::string> mergeEnv(std::vector<std::string> base,
                                  const std::vector<std::string>& overrides) {
  auto keyOf = [](const std::string& e) { return e.substr(0, e.find('=')); };
  std::vector<std::optional<std::string>> out(base.begin(), base.end());
  for (const auto& o : overrides) {
    std::string key = keyOf(o);
    bool unset = o.find('=') == std::string::npos;
    bool found = false;
    for (auto& e : out)
      if (e && keyOf(*e) == key) {
        found = true;
        if (unset)
          e.reset();
        else
          e = o;
      }
    if (!found && !unset) out.push_back(o);
  }
  std::vector<std::string> result;
  for (auto& e : out)
    if (e) result.push_back(std::move(*e));
  return result;
}

void sortMountsByDepth(std::vector<ocispec::Mount>& mounts) {
  std::stable_sort(mounts.begin(), mounts.end(),
                   [](const ocispec::Mount& a, const ocispec::Mount& b) {
                     return pathDepth(a.destination) < pathDepth(b.destination);
                   });
}

Result<ocispec::Seccomp> loadSeccompProfile(const std::filesystem::path& file) {
  std::string text = BERTH_TRY_CTX(readFile(file), "seccomp profile");
  // The file must be one JSON object on its own (not text spliced into a bigger document); it
  // is then validated as config.json's linux.seccomp.
  nlohmann::json profile = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (profile.is_discarded())
    return fail(Code::kInvalidArgument, "seccomp profile {}: not valid JSON", file.string());
  nlohmann::json doc = {{"ociVersion", ocispec::kOciVersion}, {"linux", {{"seccomp", profile}}}};
  ocispec::Spec s = BERTH_TRY_CTX(ocispec::parseSpec(doc.dump()),
                                  fmt::format("seccomp profile {}", file.string()));
  if (!s.linux || !s.linux->seccomp)
    return fail(Code::kInvalidArgument, "seccomp profile {}: no profile", file.string());
  return *s.linux->seccomp;
}

Result<ContainerSpec> buildContainerSpec(const ContainerSpecInput& in) {
  if (!in.config || !in.sandboxConfig)
    return fail(Code::kInvalidArgument, "container config and pod sandbox config are required");
  if (!in.rootfs.is_absolute())
    return fail(Code::kInvalidArgument, "rootfs \"{}\": must be an absolute path",
                in.rootfs.string());
  const ContainerConfig& c = *in.config;
  ContainerSpec out;
  ocispec::Spec& spec = out.spec;
  spec = baseSpec(in);
  BERTH_TRY(applyArgs(in, spec));
  applyEnv(in, spec);
  if (!c.working_dir().empty())
    spec.process->cwd = c.working_dir();
  else if (!in.image.workingDir.empty())
    spec.process->cwd = in.image.workingDir;
  if (!spec.process->cwd.starts_with('/'))
    return fail(Code::kInvalidArgument, "working_dir \"{}\": must be absolute", spec.process->cwd);
  spec.process->terminal = c.tty();
  BERTH_TRY(applyUser(in, spec));
  BERTH_TRY(applyMounts(in, spec, out.hostDirsToCreate));
  BERTH_TRY(detail::applyDevices(in, spec));
  BERTH_TRY(detail::applySecurity(in, spec));
  BERTH_TRY(detail::applyResources(in, spec));
  BERTH_TRY(detail::applyNamespaces(in, spec));
  BERTH_TRY(detail::applyAppArmor(in, spec));
  BERTH_TRY(detail::applySeccomp(in, spec));
  applyAnnotations(in, spec);
  for (const auto& [k, v] : in.sandboxConfig->linux().sysctls())
    spec.linux->sysctl[k] = v;
  return out;
}

}  // namespace berth::cri
