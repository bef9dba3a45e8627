// The linux-specific steps of buildContainerSpec: namespaces, cgroups and resources, security
// (capabilities, privileged, masked paths, seccomp, AppArmor) and devices.

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "shim/container_spec_internal.h"
#include "shim/default_seccomp.h"
#include "shim/host_info.h"

namespace berth::cri::detail {

namespace {

void removeNamespace(ocispec::Spec& spec, std::string_view type) {
  auto& ns = spec.linux->namespaces;
  ns.erase(std::remove_if(ns.begin(), ns.end(), [&](const auto& n) { return n.type == type; }),
           ns.end());
}

void setNamespace(ocispec::Spec& spec, std::string_view type, std::optional<std::string> path) {
  for (auto& n : spec.linux->namespaces)
    if (n.type == type) {
      n.path = std::move(path);
      return;
    }
  spec.linux->namespaces.push_back(ocispec::Namespace{std::string(type), std::move(path)});
}

std::string_view modeName(v1::NamespaceMode m) {
  switch (m) {
    case v1::POD:
      return "POD";
    case v1::CONTAINER:
      return "CONTAINER";
    case v1::NODE:
      return "NODE";
    case v1::TARGET:
      return "TARGET";
    default:
      return "unknown";
  }
}

// "sys_admin", "SYS_ADMIN" and "CAP_SYS_ADMIN" all name CAP_SYS_ADMIN.
std::string normalizeCapability(std::string c) {
  for (auto& ch : c)
    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (!c.starts_with("CAP_")) c = "CAP_" + c;
  return c;
}

bool isAll(const std::string& c) {
  std::string u = c;
  for (auto& ch : u)
    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return u == "ALL" || u == "CAP_ALL";
}

void addCap(std::vector<std::string>& list, const std::string& c) {
  if (std::find(list.begin(), list.end(), c) == list.end()) list.push_back(c);
}

void dropCap(std::vector<std::string>& list, const std::string& c) {
  list.erase(std::remove(list.begin(), list.end(), c), list.end());
}

Result<std::vector<std::string>> allCapabilities(const HostFacts& host) {
  if (!host.allCapabilities.empty()) return host.allCapabilities;
  return currentCapabilities();
}

// containerd's WithCapabilities: "ALL" in add/drop first sets all/none, then each named one is
// added or dropped, so add [ALL] drop [CHOWN] is every capability but CAP_CHOWN.
Status applyCapabilities(const ContainerSpecInput& in, ocispec::Spec& spec) {
  const auto& sc = in.config->linux().security_context();
  if (!sc.has_capabilities()) return {};
  const auto& caps = sc.capabilities();
  ocispec::Capabilities& pc = *spec.process->capabilities;
  auto setAll = [&](std::vector<std::string> v) {
    pc.bounding = pc.effective = pc.permitted = v;
    if (v.empty()) pc.inheritable.clear();
  };
  if (std::any_of(caps.add_capabilities().begin(), caps.add_capabilities().end(), isAll))
    setAll(BERTH_TRY(allCapabilities(in.host)));
  if (std::any_of(caps.drop_capabilities().begin(), caps.drop_capabilities().end(), isAll))
    setAll({});
  for (int i = 0; i < caps.add_capabilities_size(); ++i) {
    if (isAll(caps.add_capabilities(i))) continue;
    std::string c = normalizeCapability(caps.add_capabilities(i));
    if (!isKnownCapability(c))
      return fail(Code::kInvalidArgument,
                  "capabilities.add_capabilities[{}]: unknown capability "
                  "\"{}\"",
                  i, caps.add_capabilities(i));
    for (auto* l : {&pc.bounding, &pc.effective, &pc.permitted})
      addCap(*l, c);
  }
  for (int i = 0; i < caps.drop_capabilities_size(); ++i) {
    if (isAll(caps.drop_capabilities(i))) continue;
    std::string c = normalizeCapability(caps.drop_capabilities(i));
    if (!isKnownCapability(c))
      return fail(Code::kInvalidArgument,
                  "capabilities.drop_capabilities[{}]: unknown "
                  "capability \"{}\"",
                  i, caps.drop_capabilities(i));
    for (auto* l : {&pc.bounding, &pc.effective, &pc.permitted, &pc.inheritable})
      dropCap(*l, c);
  }
  return {};
}

void makeWritable(ocispec::Spec& spec, std::string_view type) {
  for (auto& m : spec.mounts)
    if (m.type == type)
      for (auto& o : m.options)
        if (o == "ro") o = "rw";
}

// The legacy profile strings (seccomp_profile_path, apparmor_profile) as a SecurityProfile.
Result<std::optional<v1::SecurityProfile>> legacyProfile(const std::string& s,
                                                         std::string_view field) {
  if (s.empty()) return std::optional<v1::SecurityProfile>();
  v1::SecurityProfile p;
  if (s == "runtime/default" || s == "docker/default") {
    p.set_profile_type(v1::SecurityProfile::RuntimeDefault);
  } else if (s == "unconfined") {
    p.set_profile_type(v1::SecurityProfile::Unconfined);
  } else if (s.starts_with("localhost/")) {
    p.set_profile_type(v1::SecurityProfile::Localhost);
    p.set_localhost_ref(s.substr(std::string_view("localhost/").size()));
  } else {
    return fail(Code::kInvalidArgument,
                "{} \"{}\": want runtime/default, docker/default, unconfined or localhost/<path>",
                field, s);
  }
  return std::optional<v1::SecurityProfile>(p);
}

// The deprecated string fields are still what older kubelets and crictl send.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
const std::string& legacySeccompPath(const v1::LinuxContainerSecurityContext& sc) {
  return sc.seccomp_profile_path();
}
const std::string& legacyAppArmorProfile(const v1::LinuxContainerSecurityContext& sc) {
  return sc.apparmor_profile();
}
#pragma GCC diagnostic pop

std::string trimLocalhost(const std::string& ref) {
  return ref.starts_with("localhost/") ? ref.substr(10) : ref;
}

}  // namespace

Status applyNamespaces(const ContainerSpecInput& in, ocispec::Spec& spec) {
  const auto& opts = in.config->linux().security_context().namespace_options();
  if (opts.has_userns_options() && opts.userns_options().mode() != v1::NODE)
    return fail(Code::kUnimplemented,
                "namespace_options.userns_options: user namespaces (mode "
                "{}) are not supported",
                modeName(opts.userns_options().mode()));
  auto join = [&](std::string_view type, v1::NamespaceMode mode, const std::string& path,
                  std::string_view field) -> Status {
    if (mode == v1::NODE) {
      removeNamespace(spec, type);
      return {};
    }
    if (mode != v1::POD)
      return fail(Code::kInvalidArgument, "namespace_options.{}: mode {} is not allowed", field,
                  modeName(mode));
    if (path.empty())
      return fail(Code::kFailedPrecondition,
                  "namespace_options.{}: the pod has no {} namespace to join", field, type);
    setNamespace(spec, type, path);
    return {};
  };
  // POD (the default, 0) means the pod's namespace, which is the node's for a host-network or
  // host-IPC pod: containerd joins the sandbox's, whatever it is.
  const auto& podOpts = in.sandboxConfig->linux().security_context().namespace_options();
  auto effective = [](v1::NamespaceMode container, v1::NamespaceMode pod) {
    return container == v1::POD && pod == v1::NODE ? v1::NODE : container;
  };
  BERTH_TRY(
      join("network", effective(opts.network(), podOpts.network()), in.pod.netnsPath, "network"));
  BERTH_TRY(join("ipc", effective(opts.ipc(), podOpts.ipc()), in.pod.ipcnsPath, "ipc"));
  // UTS follows the pod: its own when it has one, the node's with host networking.
  if (!in.pod.utsnsPath.empty())
    setNamespace(spec, "uts", in.pod.utsnsPath);
  else if (effective(opts.network(), podOpts.network()) == v1::NODE)
    removeNamespace(spec, "uts");
  else
    return fail(Code::kFailedPrecondition, "the pod has no uts namespace to join");
  v1::NamespaceMode pidMode = opts.pid();
  // POD in a pod without a shared PID namespace: the pod's mode decides (the node's, or one of
  // the container's own, as a pause container's would be).
  if (pidMode == v1::POD && in.pod.pidnsPath.empty() && podOpts.pid() != v1::POD)
    pidMode = podOpts.pid() == v1::NODE ? v1::NODE : v1::CONTAINER;
  switch (pidMode) {
    case v1::CONTAINER:
      setNamespace(spec, "pid", std::nullopt);
      break;
    case v1::POD:
      if (in.pod.pidnsPath.empty())
        return fail(Code::kFailedPrecondition,
                    "namespace_options.pid: mode POD but the pod has no shared pid namespace");
      setNamespace(spec, "pid", in.pod.pidnsPath);
      break;
    case v1::NODE:
      removeNamespace(spec, "pid");
      break;
    case v1::TARGET:
      if (opts.target_id().empty())
        return fail(Code::kInvalidArgument,
                    "namespace_options.target_id: empty with pid mode "
                    "TARGET");
      if (in.pod.targetPidnsPath.empty())
        return fail(Code::kFailedPrecondition,
                    "namespace_options.target_id \"{}\": no pid namespace of that container",
                    opts.target_id());
      setNamespace(spec, "pid", in.pod.targetPidnsPath);
      break;
    default:
      return fail(Code::kInvalidArgument, "namespace_options.pid: unknown mode {}",
                  static_cast<int>(opts.pid()));
  }
  // containerd: a cgroup namespace hides /sys/fs/cgroup's host paths, on cgroup v2 only.
  if (in.host.cgroupV2Unified && !in.config->linux().security_context().privileged())
    setNamespace(spec, "cgroup", std::nullopt);
  return {};
}

Status applyResources(const ContainerSpecInput& in, ocispec::Spec& spec) {
  const std::string& parent = in.sandboxConfig->linux().cgroup_parent();
  if (!parent.empty()) {
    if (in.host.cgroupDriver == CgroupDriver::kSystemd) {
      std::string base = std::filesystem::path(parent).filename().string();
      if (!base.ends_with(".slice"))
        return fail(Code::kInvalidArgument,
                    "cgroup_parent \"{}\": the systemd cgroup driver needs a .slice", parent);
      // runc's systemd form "slice:prefix:name".
      spec.linux->cgroupsPath = fmt::format("{}:cri-berth:{}", base, in.containerId);
    } else {
      spec.linux->cgroupsPath = (std::filesystem::path(parent) / in.containerId).string();
    }
  }
  if (!in.config->linux().has_resources()) return {};
  const auto& r = in.config->linux().resources();
  ocispec::Resources fromCri = BERTH_TRY(resourcesFromCri(r, in.host));
  ocispec::Resources& res = *spec.linux->resources;  // keeps the device rules already there
  res.cpu = fromCri.cpu;
  res.memory = fromCri.memory;
  res.hugepageLimits = fromCri.hugepageLimits;
  res.unified = fromCri.unified;
  int64_t adj = std::max<int64_t>(r.oom_score_adj(), in.host.minOomScoreAdj);
  if (adj < -1000 || adj > 1000)
    return fail(Code::kInvalidArgument, "resources.oom_score_adj {}: must be in [-1000, 1000]",
                r.oom_score_adj());
  spec.process->oomScoreAdj = static_cast<int32_t>(adj);
  return {};
}

Status applySecurity(const ContainerSpecInput& in, ocispec::Spec& spec) {
  const auto& sc = in.config->linux().security_context();
  // containerd (without disable_proc_mount) masks exactly what the request lists: the kubelet
  // sends its defaults, or nothing for procMount Unmasked.
  if (!in.host.disableProcMount) {
    spec.linux->maskedPaths.assign(sc.masked_paths().begin(), sc.masked_paths().end());
    spec.linux->readonlyPaths.assign(sc.readonly_paths().begin(), sc.readonly_paths().end());
  }
  BERTH_TRY(applyCapabilities(in, spec));
  if (sc.privileged()) {
    if (!in.sandboxConfig->linux().security_context().privileged())
      return fail(Code::kInvalidArgument,
                  "privileged: no privileged container allowed in a sandbox that is not");
    std::vector<std::string> all = BERTH_TRY(allCapabilities(in.host));
    auto& pc = *spec.process->capabilities;
    pc.bounding = pc.effective = pc.permitted = all;
    spec.linux->maskedPaths.clear();
    spec.linux->readonlyPaths.clear();
    makeWritable(spec, "sysfs");
    makeWritable(spec, "cgroup");
    std::vector<ocispec::Device> devs =
        BERTH_TRY_CTX(devicesFromPath(in.host.hostDevRoot, "/dev"), "privileged: host devices");
    for (auto& d : devs)
      spec.linux->devices.push_back(std::move(d));
    spec.linux->resources->devices = {
        ocispec::DeviceCgroup{true, std::nullopt, std::nullopt, std::nullopt, "rwm"}};
  }
  // Kubernetes leaves non-root + ambient capabilities undefined; containerd clears them.
  spec.process->capabilities->ambient.clear();
  spec.process->noNewPrivileges = sc.no_new_privs();
  if (sc.readonly_rootfs()) spec.root->readonly = true;
  return {};
}

Status applyDevices(const ContainerSpecInput& in, ocispec::Spec& spec) {
  const auto& c = *in.config;
  for (int i = 0; i < c.devices_size(); ++i) {
    const auto& d = c.devices(i);
    if (d.host_path().empty())
      return fail(Code::kInvalidArgument, "devices[{}].host_path is empty", i);
    if (!d.container_path().starts_with('/'))
      return fail(Code::kInvalidArgument, "devices[{}].container_path \"{}\": must be absolute", i,
                  d.container_path());
    std::string access = d.permissions().empty() ? "rwm" : d.permissions();
    if (access.find_first_not_of("rwm") != std::string::npos)
      return fail(Code::kInvalidArgument,
                  "devices[{}].permissions \"{}\": only r, w and m are allowed", i, access);
    std::string field = fmt::format("devices[{}] ({})", i, d.host_path());
    HostPath src = BERTH_TRY_CTX(resolveHostPath(d.host_path()), field);
    if (!src.exists) return fail(Code::kNotFound, "{}: no such device on the host", field);
    auto devs = BERTH_TRY_CTX(devicesFromPath(src.resolved, d.container_path()), field);
    const auto& sc = c.linux().security_context();
    for (auto& dev : devs) {
      if (in.host.deviceOwnershipFromSecurityContext) {
        if (sc.has_run_as_user() && sc.run_as_user().value() != 0)
          dev.uid = static_cast<uint32_t>(sc.run_as_user().value());
        if (sc.has_run_as_group() && sc.run_as_group().value() != 0)
          dev.gid = static_cast<uint32_t>(sc.run_as_group().value());
      }
      spec.linux->resources->devices.push_back(
          ocispec::DeviceCgroup{true, dev.type, dev.major, dev.minor, access});
      spec.linux->devices.push_back(std::move(dev));
    }
  }
  return {};
}

Status applySeccomp(const ContainerSpecInput& in, ocispec::Spec& spec) {
  const auto& sc = in.config->linux().security_context();
  std::optional<v1::SecurityProfile> sp;
  if (sc.has_seccomp())
    sp = sc.seccomp();
  else
    sp = BERTH_TRY(legacyProfile(legacySeccompPath(sc), "seccomp_profile_path"));
  if (sc.privileged()) return {};
  if (!in.host.seccompEnabled) {
    if (sp && sp->profile_type() != v1::SecurityProfile::Unconfined)
      return fail(Code::kFailedPrecondition, "seccomp: the host has no seccomp support");
    return {};
  }
  if (!sp) return {};
  if (sp->profile_type() != v1::SecurityProfile::Localhost && !sp->localhost_ref().empty())
    return fail(Code::kInvalidArgument,
                "seccomp.localhost_ref: only allowed with profile_type Localhost");
  switch (sp->profile_type()) {
    case v1::SecurityProfile::Unconfined:
      return {};
    case v1::SecurityProfile::RuntimeDefault:
      if (in.host.defaultSeccomp) {
        spec.linux->seccomp = *in.host.defaultSeccomp;
        return {};
      }
      if (!in.host.defaultSeccompFile.empty()) {
        spec.linux->seccomp =
            BERTH_TRY_CTX(loadSeccompProfile(in.host.defaultSeccompFile), "seccomp RuntimeDefault");
        return {};
      }
      spec.linux->seccomp =
          defaultSeccompProfile(spec.process->capabilities ? spec.process->capabilities->bounding
                                                           : std::vector<std::string>{});
      return {};
    case v1::SecurityProfile::Localhost: {
      std::string ref = trimLocalhost(sp->localhost_ref());
      if (ref.empty() || !ref.starts_with('/'))
        return fail(Code::kInvalidArgument,
                    "seccomp.localhost_ref \"{}\": must be an absolute path to a profile",
                    sp->localhost_ref());
      spec.linux->seccomp = BERTH_TRY_CTX(loadSeccompProfile(ref), "seccomp Localhost");
      return {};
    }
    default:
      return fail(Code::kInvalidArgument, "seccomp.profile_type {}: unknown",
                  static_cast<int>(sp->profile_type()));
  }
}

Status applyAppArmor(const ContainerSpecInput& in, ocispec::Spec& spec) {
  const auto& sc = in.config->linux().security_context();
  std::optional<v1::SecurityProfile> sp;
  if (sc.has_apparmor())
    sp = sc.apparmor();
  else
    sp = BERTH_TRY(legacyProfile(legacyAppArmorProfile(sc), "apparmor_profile"));
  if (sp && sp->profile_type() != v1::SecurityProfile::Localhost && !sp->localhost_ref().empty())
    return fail(Code::kInvalidArgument,
                "apparmor.localhost_ref: only allowed with profile_type Localhost");
  if (!in.host.appArmorEnabled) {
    // The runtime's default means "whatever confinement the host has"; a named profile can't be
    // honoured and must not be silently dropped.
    if (sp && sp->profile_type() == v1::SecurityProfile::Localhost)
      return fail(Code::kFailedPrecondition, "apparmor profile \"{}\": the host has no AppArmor",
                  trimLocalhost(sp->localhost_ref()));
    return {};
  }
  v1::SecurityProfile::ProfileType type =
      sp ? sp->profile_type() : v1::SecurityProfile::RuntimeDefault;
  switch (type) {
    case v1::SecurityProfile::Unconfined:
      return {};
    case v1::SecurityProfile::RuntimeDefault:
      if (!sc.privileged()) spec.process->apparmorProfile = in.host.appArmorDefaultProfile;
      return {};
    case v1::SecurityProfile::Localhost: {
      std::string name = trimLocalhost(sp->localhost_ref());
      if (name.empty())
        return fail(Code::kInvalidArgument, "apparmor.localhost_ref: empty profile name");
      bool loaded = BERTH_TRY_CTX(appArmorProfileLoaded(in.host.appArmorProfilesFile, name),
                                  fmt::format("apparmor profile \"{}\"", name));
      if (!loaded) return fail(Code::kNotFound, "apparmor profile \"{}\": not loaded", name);
      spec.process->apparmorProfile = name;
      return {};
    }
    default:
      return fail(Code::kInvalidArgument, "apparmor.profile_type {}: unknown",
                  static_cast<int>(type));
  }
}

}  // namespace berth::cri::detail

namespace berth::cri {

Result<ocispec::Resources> resourcesFromCri(const ::runtime::v1::LinuxContainerResources& r,
                                            const HostFacts& host) {
  ocispec::Resources res;
  ocispec::Cpu cpu;
  ocispec::Memory mem;
  if (r.cpu_period() < 0 || r.cpu_shares() < 0 || r.memory_limit_in_bytes() < 0)
    return fail(Code::kInvalidArgument,
                "resources: cpu_period, cpu_shares and memory_limit_in_bytes must not be negative");
  if (r.cpu_period() != 0) cpu.period = static_cast<uint64_t>(r.cpu_period());
  if (r.cpu_quota() != 0) cpu.quota = r.cpu_quota();
  if (r.cpu_shares() != 0) cpu.shares = static_cast<uint64_t>(r.cpu_shares());
  if (!r.cpuset_cpus().empty()) cpu.cpus = r.cpuset_cpus();
  if (!r.cpuset_mems().empty()) cpu.mems = r.cpuset_mems();
  if (r.memory_limit_in_bytes() != 0) {
    mem.limit = r.memory_limit_in_bytes();
    // Memory+swap equal to the limit: no swap unless the request asks for it.
    if (r.memory_swap_limit_in_bytes() == 0 && host.swapControllerAvailable)
      mem.swap = r.memory_limit_in_bytes();
  }
  if (r.memory_swap_limit_in_bytes() != 0 && host.swapControllerAvailable)
    mem.swap = r.memory_swap_limit_in_bytes();
  res.cpu = cpu;
  res.memory = mem;
  bool anyHugepage = false;
  for (const auto& h : r.hugepage_limits())
    anyHugepage = anyHugepage || h.limit() != 0;
  if (host.hugetlbControllerAvailable) {
    for (const auto& h : r.hugepage_limits())
      res.hugepageLimits.push_back(ocispec::HugepageLimit{h.page_size(), h.limit()});
  } else if (anyHugepage) {
    // The kubelet lists every page size with 0 when nothing is asked; only a real limit fails.
    return fail(Code::kFailedPrecondition,
                "resources.hugepage_limits: the host has no hugetlb cgroup controller");
  }
  for (const auto& [k, v] : r.unified())
    res.unified[k] = v;
  return res;
}

}  // namespace berth::cri
