#include "runtime/plan_builder.h"

#include <sched.h>
#include <sys/mount.h>  // glibc 2.36: open_tree, move_mount
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <set>

#include <fcntl.h>

#include <sstream>

#include <spdlog/spdlog.h>

#include "common/file_util.h"

#include "runtime/capabilities.h"
#include "runtime/mount_options.h"
#include "runtime/seccomp.h"

namespace berth::runtime {

namespace fs = std::filesystem;

namespace {

struct NsType {
  const char* type;
  int flag;
  const char* procName;
};

constexpr NsType kNamespaces[] = {
    {"pid", CLONE_NEWPID, "pid"},          {"network", CLONE_NEWNET, "net"},
    {"mount", CLONE_NEWNS, "mnt"},         {"ipc", CLONE_NEWIPC, "ipc"},
    {"uts", CLONE_NEWUTS, "uts"},          {"user", CLONE_NEWUSER, "user"},
    {"cgroup", CLONE_NEWCGROUP, "cgroup"}, {"time", CLONE_NEWTIME, "time"},
};

struct RlimitName {
  const char* name;
  int resource;
};

constexpr RlimitName kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

// runc's default /dev (libcontainer/specconv AllowedDevices minus the wildcards).
struct DefaultDevice {
  const char* path;
  unsigned major, minor;
};
constexpr DefaultDevice kDefaultDevices[] = {
    {"/dev/null", 1, 3}, {"/dev/zero", 1, 5},   {"/dev/full", 1, 7},
    {"/dev/tty", 5, 0},  {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9},
};

std::string absoluteDestination(const std::string& d) {
  return d.empty() || d[0] != '/' ? "/" + d : d;
}

Result<std::vector<int>> capabilityList(const std::vector<std::string>& names,
                                        const std::string& field) {
  std::vector<int> out;
  for (const auto& n : names) {
    int c = capabilityFromName(n);
    if (c < 0) {
      // runc ignores capabilities this kernel does not know, with a warning.
      spdlog::warn("{}: ignoring unknown or unavailable capability {}", field, n);
      continue;
    }
    out.push_back(c);
  }
  return out;
}

Status buildCapabilities(const ocispec::Capabilities& caps, ProcessPlan& p,
                         const std::string& field) {
  auto bounding = BERTH_TRY(capabilityList(caps.bounding, field + ".bounding"));
  auto effective = BERTH_TRY(capabilityList(caps.effective, field + ".effective"));
  auto permitted = BERTH_TRY(capabilityList(caps.permitted, field + ".permitted"));
  auto inheritable = BERTH_TRY(capabilityList(caps.inheritable, field + ".inheritable"));
  p.ambientRaise = BERTH_TRY(capabilityList(caps.ambient, field + ".ambient"));
  std::set<int> keep(bounding.begin(), bounding.end());
  for (int c = 0; c <= lastCapability(); ++c)
    if (!keep.count(c)) p.boundingDrop.push_back(c);
  p.caps.reset(cap_init());
  if (!p.caps) return failErrno("cap_init");
  auto set = [&](const std::vector<int>& list, cap_flag_t flag) -> Status {
    for (int c : list) {
      cap_value_t v = c;
      if (cap_set_flag(p.caps.get(), flag, 1, &v, CAP_SET) < 0) return failErrno("cap_set_flag");
    }
    return {};
  };
  BERTH_TRY(set(effective, CAP_EFFECTIVE));
  BERTH_TRY(set(permitted, CAP_PERMITTED));
  BERTH_TRY(set(inheritable, CAP_INHERITABLE));
  p.setCapabilities = true;
  return {};
}

Result<InitPlan::Sysctl> buildSysctl(const std::string& key, const std::string& value,
                                     const ocispec::Spec& spec) {
  auto hasNewNs = [&](const char* type) {
    const ocispec::Namespace* ns = spec.findNamespace(type);
    return ns != nullptr;
  };
  // runc's validator: a namespaced sysctl is allowed only when the container has that namespace.
  bool ipc = key.rfind("kernel.msg", 0) == 0 || key.rfind("kernel.sem", 0) == 0 ||
             key.rfind("kernel.shm", 0) == 0 || key.rfind("fs.mqueue.", 0) == 0;
  if (ipc && !hasNewNs("ipc"))
    return fail(Code::kInvalidArgument,
                "linux.sysctl: sysctl \"{}\" is not allowed in the host's ipc namespace", key);
  bool net = key.rfind("net.", 0) == 0;
  if (net && !hasNewNs("network"))
    return fail(Code::kInvalidArgument,
                "linux.sysctl: sysctl \"{}\" is not allowed in the host's network namespace", key);
  bool uts = key == "kernel.hostname" || key == "kernel.domainname";
  if (uts && !hasNewNs("uts"))
    return fail(Code::kInvalidArgument,
                "linux.sysctl: sysctl \"{}\" is not allowed in the host's uts namespace", key);
  if (!ipc && !net && !uts)
    return fail(Code::kInvalidArgument, "linux.sysctl: sysctl \"{}\" is not namespaced", key);
  if (key.find("..") != std::string::npos || key.find('/') != std::string::npos)
    return fail(Code::kInvalidArgument, "linux.sysctl: invalid sysctl name \"{}\"", key);
  std::string path = "/proc/sys/" + key;
  for (size_t i = 10; i < path.size(); ++i)
    if (path[i] == '.') path[i] = '/';
  return InitPlan::Sysctl{path, value};
}

// The step, and for a bind mount the source opened here: in the init the source may be out of
// reach (a user namespace whose root can't traverse the path) or swapped for a symlink.
Result<std::pair<MountStep, UniqueFd>> buildMount(const ocispec::Mount& m, size_t index,
                                                  const std::string& bundle) {
  std::string field = fmt::format("mounts[{}]", index);
  MountOptions opts = parseMountOptions(m.options);
  MountStep step;
  step.destination = absoluteDestination(m.destination);
  step.source = m.source.value_or("");
  step.fstype = m.type.value_or("");
  step.flags = opts.flags;
  step.propagation = opts.propagation;
  step.data = opts.data;
  step.attrSet = opts.attrSet;
  step.attrClear = opts.attrClear;
  UniqueFd source;
  if (step.fstype == "bind" || opts.bind) {
    step.kind = MountKind::kBind;
    step.recursiveBind = opts.recursive;
    if (step.source.empty())
      return fail(Code::kInvalidArgument, "{}.source: required for a bind mount", field);
    if (step.source[0] != '/') step.source = (fs::path(bundle) / step.source).string();
    // Pinned here: what is checked is what the init gets (cloneMountSource).
    source.reset(::open(step.source.c_str(), O_PATH | O_CLOEXEC));
    struct stat st {};
    if (!source || ::fstat(source.get(), &st) < 0)
      return failErrno(fmt::format("{}.source: {}", field, step.source));
    step.sourceIsDir = S_ISDIR(st.st_mode);
    step.sourceFd = source.get();
    constexpr unsigned long kRemountable = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
                                           MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
                                           MS_STRICTATIME;
    step.needsRemount = (opts.flags & kRemountable) != 0;
    step.flags &= kRemountable;
  } else if (step.fstype == "proc") {
    step.kind = MountKind::kProc;
  } else if (step.fstype == "cgroup" || step.fstype == "cgroup2") {
    step.kind = MountKind::kCgroup;
  } else if (step.fstype.empty()) {
    return fail(Code::kInvalidArgument, "{}.type: required for a non-bind mount of {}", field,
                step.destination);
  }
  if (step.fstype == "tmpfs" && (step.flags & MS_RDONLY)) {
    step.deferReadonly = true;
    step.flags &= ~MS_RDONLY;
  }
  if (step.source.empty()) step.source = step.fstype;
  return std::pair{std::move(step), std::move(source)};
}

// runc's msMoveRoot: with --no-pivot the host's proc and sysfs mounts stay in the container's
// mount namespace (under the moved root); they are detached so procfs can't be mounted again
// next to a fully visible one.
struct MountEntry {
  std::string point;
  std::string fstype;
};

// This process' mount table (/proc/self/mountinfo): mount point and filesystem type.
std::vector<MountEntry> mountTable() {
  std::vector<MountEntry> out;
  auto info = readFile("/proc/self/mountinfo");
  if (!info) return out;
  std::istringstream lines(*info);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point, opts, field, fstype;
    f >> id >> parent >> dev >> root >> point >> opts;
    while (f >> field && field != "-") {
    }
    f >> fstype;
    out.push_back({point, fstype});
  }
  return out;
}

bool isUnder(const std::string& path, const std::string& dir) {
  return path == dir || dir == "/" || path.rfind(dir + "/", 0) == 0;
}

std::vector<std::string> procAndSysMountsOutside(const std::vector<MountEntry>& table,
                                                 const std::string& rootfs) {
  std::vector<std::string> out;
  for (const auto& m : table)
    if ((m.fstype == "proc" || m.fstype == "sysfs") && !isUnder(m.point, rootfs))
      out.push_back(m.point);
  return out;
}

// The deepest mount point containing `path`.
std::string mountPointOf(const std::vector<MountEntry>& table, const std::string& path) {
  std::string best = "/";
  for (const auto& m : table)
    if (isUnder(path, m.point) && m.point.size() > best.size()) best = m.point;
  return best;
}

Status buildDevices(const ocispec::Spec& spec, InitPlan& plan) {
  std::set<std::string> seen;
  if (spec.linux) {
    for (size_t i = 0; i < spec.linux->devices.size(); ++i) {
      const auto& d = spec.linux->devices[i];
      DeviceNode n;
      n.path = d.path;
      mode_t type = d.type == "b" ? S_IFBLK : d.type == "p" ? S_IFIFO : S_IFCHR;
      n.mode = type | (d.fileMode ? (*d.fileMode & 07777) : 0666);
      n.dev = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
      n.uid = d.uid.value_or(0);
      n.gid = d.gid.value_or(0);
      if (n.path == "/dev" || n.path.rfind("/dev/", 0) != 0)
        return fail(Code::kInvalidArgument, "linux.devices[{}].path: {} is not under /dev", i,
                    n.path);
      seen.insert(n.path);
      plan.devices.push_back(std::move(n));
    }
  }
  for (const auto& d : kDefaultDevices) {
    if (seen.count(d.path)) continue;
    plan.devices.push_back({d.path, S_IFCHR | 0666, makedev(d.major, d.minor), 0, 0});
  }
  return {};
}

Status buildNamespaces(const ocispec::Spec& spec, InitPlan& plan) {
  if (!spec.linux) return {};
  for (const auto& ns : spec.linux->namespaces) {
    int flag = namespaceFlag(ns.type);
    if (!flag)
      return fail(Code::kInvalidArgument, "linux.namespaces: unknown type \"{}\"", ns.type);
    if (ns.path && !ns.path->empty()) {
      if (::access(ns.path->c_str(), F_OK) < 0)
        return failErrno(fmt::format("linux.namespaces: {} namespace path {}", ns.type, *ns.path));
      plan.ns.joins.push_back({flag, *ns.path});
      continue;
    }
    if (flag == CLONE_NEWCGROUP)
      plan.ns.unshareCgroup = true;
    else if (flag == CLONE_NEWTIME)
      plan.ns.newTime = true;
    else
      plan.ns.cloneFlags |= flag;
    if (flag == CLONE_NEWUSER) plan.userns = true;
  }
  for (const auto& [clock, off] : spec.linux->timeOffsets)
    plan.ns.timeOffsets += fmt::format("{} {} {}\n", clock, off.secs, off.nanosecs);
  if (plan.userns && (spec.linux->uidMappings.empty() || spec.linux->gidMappings.empty()))
    return fail(Code::kInvalidArgument,
                "linux.uidMappings: user namespaces enabled, but no user mapping found");
  return {};
}

}  // namespace

int namespaceFlag(const std::string& type) {
  for (const auto& n : kNamespaces)
    if (type == n.type) return n.flag;
  return 0;
}

const char* namespaceProcName(const std::string& type) {
  for (const auto& n : kNamespaces)
    if (type == n.type) return n.procName;
  return nullptr;
}

bool appArmorEnabled() {
  auto v = readFile("/sys/module/apparmor/parameters/enabled");
  return v && v->rfind("Y", 0) == 0;
}

bool seLinuxEnabled() {
  return ::access("/sys/fs/selinux/enforce", F_OK) == 0;
}

namespace {

// AppArmor's profile and SELinux' label are set for the next exec through the process' attr
// files; a host without the LSM is an error, not a silent no-op.
Status buildLsmAttrs(const ocispec::Process& process, const std::string& field, ProcessPlan& p) {
  if (process.apparmorProfile && !process.apparmorProfile->empty()) {
    if (!appArmorEnabled())
      return fail(Code::kFailedPrecondition,
                  "{}.apparmorProfile: AppArmor is not enabled on this host", field);
    std::string file = ::access("/proc/self/attr/apparmor/exec", F_OK) == 0
                           ? "/proc/thread-self/attr/apparmor/exec"
                           : "/proc/thread-self/attr/exec";
    p.lsmAttrs.push_back({file, "exec " + *process.apparmorProfile});
  }
  if (process.selinuxLabel && !process.selinuxLabel->empty()) {
    if (!seLinuxEnabled())
      return fail(Code::kFailedPrecondition, "{}.selinuxLabel: SELinux is not enabled on this host",
                  field);
    p.lsmAttrs.push_back({"/proc/thread-self/attr/exec", *process.selinuxLabel});
  }
  return {};
}

}  // namespace

Result<ProcessPlan> buildProcessPlan(const ocispec::Process& process, const std::string& field) {
  ProcessPlan p;
  if (process.args.empty())
    return fail(Code::kInvalidArgument, "{}.args: must be a non-empty array", field);
  p.args = process.args;
  p.env = process.env;
  for (const auto& e : p.env)
    if (e.rfind("PATH=", 0) == 0) p.path = e.substr(5);
  p.cwd = process.cwd.empty() ? "/" : process.cwd;
  if (p.cwd[0] != '/')
    return fail(Code::kInvalidArgument, "{}.cwd: must be an absolute path", field);
  p.uid = process.user.uid;
  p.gid = process.user.gid;
  p.additionalGids.assign(process.user.additionalGids.begin(), process.user.additionalGids.end());
  if (process.user.umask) p.umask = static_cast<mode_t>(*process.user.umask);
  p.noNewPrivileges = process.noNewPrivileges;
  p.terminal = process.terminal;
  if (process.consoleSize) {
    p.consoleRows = static_cast<unsigned short>(process.consoleSize->height);
    p.consoleCols = static_cast<unsigned short>(process.consoleSize->width);
  }
  if (process.capabilities)
    BERTH_TRY(buildCapabilities(*process.capabilities, p, field + ".capabilities"));
  for (size_t i = 0; i < process.rlimits.size(); ++i) {
    const auto& r = process.rlimits[i];
    int res = -1;
    for (const auto& n : kRlimits)
      if (r.type == n.name) res = n.resource;
    if (res < 0)
      return fail(Code::kInvalidArgument, "{}.rlimits[{}].type: unknown rlimit \"{}\"", field, i,
                  r.type);
    p.rlimits.push_back({res, {r.soft, r.hard}});
  }
  BERTH_TRY(buildLsmAttrs(process, field, p));
  if (process.oomScoreAdj) {
    p.setOomScoreAdj = true;
    snprintf(p.oomScoreAdj, sizeof p.oomScoreAdj, "%d", *process.oomScoreAdj);
  }
  return p;
}

Result<InitPlan> buildCreatePlan(const ocispec::Spec& spec, const CreateInputs& in) {
  InitPlan plan;
  if (!spec.process) return fail(Code::kInvalidArgument, "process: required");
  if (!spec.root) return fail(Code::kInvalidArgument, "root: required");
  plan.process = BERTH_TRY(buildProcessPlan(*spec.process, "process"));
  plan.process.preservedFds = in.preservedFds;
  for (const auto& e : in.extraEnv)
    plan.process.env.push_back(e);

  fs::path root = spec.root->path;
  if (root.is_relative()) root = fs::path(in.bundle) / root;
  char real[PATH_MAX];
  if (!::realpath(root.c_str(), real))
    return failErrno(fmt::format("root.path: rootfs ({})", root.string()));
  struct stat st {};
  if (::stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
    return fail(Code::kInvalidArgument, "root.path: rootfs ({}) is not a directory", real);
  plan.rootfs = real;
  plan.readonlyRoot = spec.root->readonly;
  plan.noPivot = in.noPivot;
  if (!in.noNewKeyring) plan.sessionKeyring = "_ses." + in.id;

  BERTH_TRY(buildNamespaces(spec, plan));
  if (const ocispec::Namespace* ns = spec.findNamespace("mount"); !ns) {
    plan.mountNamespace = InitPlan::MountNamespace::kHost;
    // Mounts in the runtime's namespace need the runtime's privileges.
    if (spec.findNamespace("user"))
      return fail(Code::kInvalidArgument,
                  "linux.namespaces: a user namespace needs a mount namespace of its own or a "
                  "joined one");
    plan.noPivot = false;
  } else if (ns->path && !ns->path->empty()) {
    plan.mountNamespace = InitPlan::MountNamespace::kJoined;
  }

  plan.rootPropagation = MS_SLAVE | MS_REC;
  if (spec.linux && spec.linux->rootfsPropagation && !spec.linux->rootfsPropagation->empty() &&
      !parsePropagation(*spec.linux->rootfsPropagation, &plan.rootPropagation))
    return fail(Code::kInvalidArgument, "linux.rootfsPropagation: unknown propagation \"{}\"",
                *spec.linux->rootfsPropagation);
  // Our mount table, read only where it decides something.
  bool newRoot = plan.mountNamespace != InitPlan::MountNamespace::kHost;
  if (newRoot && (plan.noPivot || (plan.rootPropagation & MS_SHARED))) {
    auto table = mountTable();
    if (plan.noPivot) plan.noPivotDetach = procAndSysMountsOutside(table, plan.rootfs);
    plan.rootfsParentMount = mountPointOf(table, plan.rootfs);
  }

  bool devIsBind = false;
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    auto [step, source] = BERTH_TRY(buildMount(spec.mounts[i], i, in.bundle));
    if (step.destination == "/dev" && step.kind == MountKind::kBind) devIsBind = true;
    plan.mounts.push_back(std::move(step));
    if (source) plan.ownedFds.push_back(std::move(source));
  }
  if (in.cgroups) {
    plan.cgroupBinds = in.cgroups->binds();
    if (in.cgroups->unified()) plan.cgroupV2Path = in.cgroups->paths().begin()->second;
  }
  plan.defaultDev = !devIsBind;
  if (plan.defaultDev) BERTH_TRY(buildDevices(spec, plan));

  bool newUts = spec.findNamespace("uts") != nullptr;
  if (spec.hostname && !spec.hostname->empty()) {
    if (!newUts)
      return fail(Code::kInvalidArgument,
                  "hostname: unable to set hostname without a private UTS namespace");
    plan.hostname = *spec.hostname;
    plan.setHostname = true;
  }
  if (spec.domainname && !spec.domainname->empty()) {
    if (!newUts)
      return fail(Code::kInvalidArgument,
                  "domainname: unable to set domainname without a private UTS namespace");
    plan.domainname = *spec.domainname;
    plan.setDomainname = true;
  }
  if (spec.linux && spec.linux->seccomp)
    plan.seccomp = BERTH_TRY(compileSeccomp(*spec.linux->seccomp));
  if (spec.linux && spec.linux->mountLabel && !spec.linux->mountLabel->empty()) {
    if (!seLinuxEnabled())
      return fail(Code::kFailedPrecondition,
                  "linux.mountLabel: SELinux is not enabled on this host");
    // The label of the filesystems the runtime mounts itself (runc: non-bind mounts).
    for (auto& m : plan.mounts)
      if (m.kind == MountKind::kGeneric && m.fstype != "sysfs" && m.fstype != "proc")
        m.data +=
            (m.data.empty() ? "" : ",") + fmt::format("context=\"{}\"", *spec.linux->mountLabel);
  }
  if (spec.linux) {
    for (const auto& [k, v] : spec.linux->sysctl)
      plan.sysctls.push_back(BERTH_TRY(buildSysctl(k, v, spec)));
    plan.maskedPaths = spec.linux->maskedPaths;
    plan.readonlyPaths = spec.linux->readonlyPaths;
  }
  if (spec.hooks) {
    auto convert = [](const std::vector<ocispec::Hook>& hooks, std::vector<HookCmd>& out) {
      for (const auto& h : hooks) {
        HookCmd c;
        c.path = h.path;
        c.args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
        c.env = h.env;
        c.timeoutSeconds = h.timeout.value_or(0);
        out.push_back(std::move(c));
      }
    };
    convert(spec.hooks->createContainer, plan.createContainerHooks);
    convert(spec.hooks->startContainer, plan.startContainerHooks);
  }
  return plan;
}

Result<UniqueFd> cloneMountSource(const InitPlan& plan, size_t index) {
  if (index >= plan.mounts.size() || plan.mounts[index].sourceFd < 0)
    return fail(Code::kInternal, "container init asked for the source of mounts[{}]", index);
  const MountStep& m = plan.mounts[index];
  // A detached copy of the source tree, made in the runtime's mount namespace: the init attaches
  // it with move_mount, which works across mount namespaces (a bind of a path would not).
  UniqueFd tree(::open_tree(
      m.sourceFd, "",
      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (m.recursiveBind ? AT_RECURSIVE : 0)));
  if (!tree) return failErrno(fmt::format("mounts[{}].source: clone mount of {}", index, m.source));
  return tree;
}

Result<InitPlan> buildExecPlan(const ocispec::Process& process,
                               const std::vector<NamespacePlan::Join>& namespaces,
                               int preservedFds) {
  InitPlan plan;
  plan.isExec = true;
  plan.process = BERTH_TRY(buildProcessPlan(process, "process"));
  plan.process.preservedFds = preservedFds;
  plan.ns.joins = namespaces;
  return plan;
}

void linkPointers(InitPlan& plan) {
  auto link = [](std::vector<std::string>& strings, std::vector<char*>& ptrs) {
    ptrs.clear();
    for (auto& s : strings)
      ptrs.push_back(s.data());
    ptrs.push_back(nullptr);
  };
  link(plan.process.args, plan.process.argv);
  link(plan.process.env, plan.process.envp);
  plan.seccomp.fprog.len = static_cast<unsigned short>(plan.seccomp.instructions.size());
  plan.seccomp.fprog.filter = plan.seccomp.instructions.data();
  for (auto* hooks : {&plan.createContainerHooks, &plan.startContainerHooks})
    for (auto& h : *hooks) {
      link(h.args, h.argv);
      link(h.env, h.envp);
    }
}

}  // namespace berth::runtime
