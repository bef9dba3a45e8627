// config-linux.md, except "Control groups" resources (resources_json.cpp).

#include <set>

#include "ocispec/spec_json_internal.h"

namespace berth::ocispec {
namespace {

constexpr std::array<std::string_view, 8> kNamespaceTypes = {"pid", "network", "mount",  "ipc",
                                                             "uts", "user",    "cgroup", "time"};

constexpr std::array<std::string_view, 4> kDeviceTypes = {"c", "b", "u", "p"};

// time_namespaces(7): the only clocks with per-namespace offsets.
constexpr std::array<std::string_view, 2> kTimeOffsetClocks = {"monotonic", "boottime"};

// runc's mountPropagationMapping: the spec's four values plus their recursive forms.
constexpr std::array<std::string_view, 8> kRootfsPropagations = {
    "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable"};

constexpr std::array<std::string_view, 9> kSeccompActions = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY"};

constexpr std::array<std::string_view, 7> kSeccompOperators = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",       "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};

constexpr std::string_view kSeccompNotify = "SCMP_ACT_NOTIFY";

// A syscall has six argument registers; libseccomp rejects a higher index.
constexpr uint32_t kSeccompMaxArgs = 6;

constexpr std::array<std::string_view, 2> kPersonalityDomains = {"LINUX", "LINUX32"};

Status readNamespace(const JsonReader& r, Namespace& out) {
  BERTH_TRY(r.required("type", out.type));
  if (!isOneOf(kNamespaceTypes, out.type)) {
    return r.invalid("type", "unknown namespace type \"{}\"", out.type);
  }
  BERTH_TRY(r.optional("path", out.path));
  if (out.path && !isAbsolutePath(*out.path)) return r.invalid("path", "must be an absolute path");
  return {};
}

// config-linux.md: duplicated namespace types MUST be an error.
Status checkUniqueNamespaces(const JsonReader& r, const std::vector<Namespace>& namespaces) {
  std::set<std::string_view> seen;
  for (size_t i = 0; i < namespaces.size(); ++i) {
    if (!seen.insert(namespaces[i].type).second) {
      return invalidAt(joinPath(indexPath(r.pathOf("namespaces"), i), "type"),
                       "duplicate namespace type \"{}\"", namespaces[i].type);
    }
  }
  return {};
}

bool hasNamespace(const std::vector<Namespace>& namespaces, std::string_view type) {
  return std::any_of(namespaces.begin(), namespaces.end(),
                     [&](const Namespace& ns) { return ns.type == type; });
}

// Mappings are written to /proc/<pid>/uid_map of the container's user namespace; without one
// there is nothing to write them to, and silently running unmapped would be a security surprise.
Status checkMappingsNeedUserns(const JsonReader& r, const Linux& linux) {
  if (hasNamespace(linux.namespaces, "user")) return {};
  const std::string needs =
      fmt::format("requires a \"user\" namespace in {}", r.pathOf("namespaces"));
  if (!linux.uidMappings.empty()) return r.invalid("uidMappings", needs);
  if (!linux.gidMappings.empty()) return r.invalid("gidMappings", needs);
  return {};
}

Status readTimeOffset(const JsonReader& r, TimeOffset& out) {
  BERTH_TRY(r.optional("secs", out.secs));
  BERTH_TRY(r.optional("nanosecs", out.nanosecs));
  // The kernel rejects a timens offset with nanoseconds >= NSEC_PER_SEC.
  if (out.nanosecs >= 1'000'000'000) return r.invalid("nanosecs", "must be less than 1000000000");
  return {};
}

Status readTimeOffsets(const JsonReader& r, Linux& out) {
  BERTH_TRY(r.objectMap("timeOffsets", out.timeOffsets, readTimeOffset));
  for (const auto& [clock, offset] : out.timeOffsets) {
    if (!isOneOf(kTimeOffsetClocks, clock)) {
      return invalidAt(joinPath(r.pathOf("timeOffsets"), clock),
                       "unknown clock (want monotonic or boottime)");
    }
  }
  if (!out.timeOffsets.empty() && !hasNamespace(out.namespaces, "time")) {
    return r.invalid("timeOffsets", "requires a \"time\" namespace in {}", r.pathOf("namespaces"));
  }
  return {};
}

Status readDevice(const JsonReader& r, Device& out) {
  BERTH_TRY(r.required("type", out.type));
  if (!isOneOf(kDeviceTypes, out.type)) {
    return r.invalid("type", "unknown device type \"{}\" (want c, b, u or p)", out.type);
  }
  BERTH_TRY(r.required("path", out.path));
  if (!isAbsolutePath(out.path)) return r.invalid("path", "must be an absolute path");
  // config-linux.md: major and minor are REQUIRED unless type is p (a FIFO has no numbers).
  for (std::string_view key : {"major", "minor"}) {
    if (out.type != "p" && !r.has(key)) return r.invalid(key, "required for type \"{}\"", out.type);
  }
  BERTH_TRY(r.optional("major", out.major));
  BERTH_TRY(r.optional("minor", out.minor));
  BERTH_TRY(r.optional("fileMode", out.fileMode));
  BERTH_TRY(r.optional("uid", out.uid));
  return r.optional("gid", out.gid);
}

Status readSeccompAction(const JsonReader& r, std::string_view key, std::string& out) {
  BERTH_TRY(r.required(key, out));
  if (!isOneOf(kSeccompActions, out)) return r.invalid(key, "unknown seccomp action \"{}\"", out);
  return {};
}

Status readSeccompArg(const JsonReader& r, SeccompArg& out) {
  BERTH_TRY(r.required("index", out.index));
  if (out.index >= kSeccompMaxArgs) return r.invalid("index", "must be less than 6");
  BERTH_TRY(r.required("value", out.value));
  BERTH_TRY(r.optional("valueTwo", out.valueTwo));
  BERTH_TRY(r.required("op", out.op));
  if (!isOneOf(kSeccompOperators, out.op)) {
    return r.invalid("op", "unknown seccomp operator \"{}\"", out.op);
  }
  return {};
}

Status readSeccompSyscall(const JsonReader& r, SeccompSyscall& out) {
  BERTH_TRY(r.required("names", out.names));
  if (out.names.empty()) return r.invalid("names", "must be a non-empty array");
  for (size_t i = 0; i < out.names.size(); ++i) {
    if (out.names[i].empty())
      return invalidAt(indexPath(r.pathOf("names"), i), "must not be empty");
  }
  BERTH_TRY(readSeccompAction(r, "action", out.action));
  BERTH_TRY(r.optional("errnoRet", out.errnoRet));
  return r.objects("args", out.args, readSeccompArg);
}

bool usesNotify(const Seccomp& seccomp) {
  return seccomp.defaultAction == kSeccompNotify ||
         std::any_of(seccomp.syscalls.begin(), seccomp.syscalls.end(),
                     [](const SeccompSyscall& s) { return s.action == kSeccompNotify; });
}

Status readSeccomp(const JsonReader& r, Seccomp& out) {
  BERTH_TRY(readSeccompAction(r, "defaultAction", out.defaultAction));
  BERTH_TRY(r.optional("defaultErrnoRet", out.defaultErrnoRet));
  BERTH_TRY(r.optional("architectures", out.architectures));
  BERTH_TRY(r.optional("flags", out.flags));
  BERTH_TRY(r.optional("listenerPath", out.listenerPath));
  BERTH_TRY(r.optional("listenerMetadata", out.listenerMetadata));
  BERTH_TRY(r.objects("syscalls", out.syscalls, readSeccompSyscall));
  // config-linux.md: the notify fd is handed over through listenerPath; with no socket to send it
  // to, every notified syscall would block forever.
  if (usesNotify(out) && !out.listenerPath) {
    return r.invalid("listenerPath", "required when SCMP_ACT_NOTIFY is used");
  }
  if (out.listenerMetadata && !out.listenerPath) {
    return r.invalid("listenerMetadata", "must not be set without listenerPath");
  }
  return {};
}

Status readPersonality(const JsonReader& r, Personality& out) {
  BERTH_TRY(r.required("domain", out.domain));
  if (!isOneOf(kPersonalityDomains, out.domain)) {
    return r.invalid("domain", "unknown personality domain \"{}\" (want LINUX or LINUX32)",
                     out.domain);
  }
  return r.optional("flags", out.flags);
}

Status readIntelRdt(const JsonReader& r, IntelRdt& out) {
  BERTH_TRY(r.optional("closID", out.closID));
  BERTH_TRY(r.optional("l3CacheSchema", out.l3CacheSchema));
  BERTH_TRY(r.optional("memBwSchema", out.memBwSchema));
  BERTH_TRY(r.optional("enableCMT", out.enableCMT));
  return r.optional("enableMBM", out.enableMBM);
}

Status readAbsolutePaths(const JsonReader& r, std::string_view key, std::vector<std::string>& out) {
  BERTH_TRY(r.optional(key, out));
  for (size_t i = 0; i < out.size(); ++i) {
    if (!isAbsolutePath(out[i])) {
      return invalidAt(indexPath(r.pathOf(key), i), "must be an absolute path");
    }
  }
  return {};
}

Status readSysctl(const JsonReader& r, Linux& out) {
  BERTH_TRY(r.optional("sysctl", out.sysctl));
  if (out.sysctl.contains("")) return r.invalid("sysctl", "keys must not be empty");
  return {};
}

Status readRootfsPropagation(const JsonReader& r, Linux& out) {
  BERTH_TRY(r.optional("rootfsPropagation", out.rootfsPropagation));
  if (out.rootfsPropagation && !isOneOf(kRootfsPropagations, *out.rootfsPropagation)) {
    return r.invalid("rootfsPropagation", "unknown propagation \"{}\"", *out.rootfsPropagation);
  }
  return {};
}

Status readNamespaces(const JsonReader& r, Linux& out) {
  BERTH_TRY(r.objects("namespaces", out.namespaces, readNamespace));
  return checkUniqueNamespaces(r, out.namespaces);
}

Status readIdMappings(const JsonReader& r, Linux& out) {
  BERTH_TRY(r.objects("uidMappings", out.uidMappings, readIdMapping));
  BERTH_TRY(r.objects("gidMappings", out.gidMappings, readIdMapping));
  return checkMappingsNeedUserns(r, out);
}

// The filesystem view: devices and paths the runtime masks or makes read-only.
Status readFilesystem(const JsonReader& r, Linux& out) {
  BERTH_TRY(r.objects("devices", out.devices, readDevice));
  BERTH_TRY(readRootfsPropagation(r, out));
  BERTH_TRY(readAbsolutePaths(r, "maskedPaths", out.maskedPaths));
  BERTH_TRY(readAbsolutePaths(r, "readonlyPaths", out.readonlyPaths));
  return r.optional("mountLabel", out.mountLabel);
}

OrderedJson writeNamespace(const Namespace& ns) {
  OrderedJson j = {{"type", ns.type}};
  putIfSet(j, "path", ns.path);
  return j;
}

OrderedJson writeDevice(const Device& d) {
  // Go order: path before type; major and minor are not omitempty.
  OrderedJson j = {{"path", d.path}, {"type", d.type}, {"major", d.major}, {"minor", d.minor}};
  putIfSet(j, "fileMode", d.fileMode);
  putIfSet(j, "uid", d.uid);
  putIfSet(j, "gid", d.gid);
  return j;
}

OrderedJson writeSeccompArg(const SeccompArg& a) {
  OrderedJson j = {{"index", a.index}, {"value", a.value}};
  putIfSet(j, "valueTwo", a.valueTwo);
  j["op"] = a.op;
  return j;
}

OrderedJson writeSeccompSyscall(const SeccompSyscall& s) {
  OrderedJson j = {{"names", s.names}, {"action", s.action}};
  putIfSet(j, "errnoRet", s.errnoRet);
  putObjects(j, "args", s.args, writeSeccompArg);
  return j;
}

OrderedJson writeSeccomp(const Seccomp& s) {
  OrderedJson j = {{"defaultAction", s.defaultAction}};
  putIfSet(j, "defaultErrnoRet", s.defaultErrnoRet);
  putIfNotEmpty(j, "architectures", s.architectures);
  putIfNotEmpty(j, "flags", s.flags);
  putIfSet(j, "listenerPath", s.listenerPath);
  putIfSet(j, "listenerMetadata", s.listenerMetadata);
  putObjects(j, "syscalls", s.syscalls, writeSeccompSyscall);
  return j;
}

OrderedJson writeIntelRdt(const IntelRdt& rdt) {
  OrderedJson j = OrderedJson::object();
  putIfSet(j, "closID", rdt.closID);
  putIfSet(j, "l3CacheSchema", rdt.l3CacheSchema);
  putIfSet(j, "memBwSchema", rdt.memBwSchema);
  putIfTrue(j, "enableCMT", rdt.enableCMT);
  putIfTrue(j, "enableMBM", rdt.enableMBM);
  return j;
}

OrderedJson writePersonality(const Personality& p) {
  OrderedJson j = {{"domain", p.domain}};
  putIfNotEmpty(j, "flags", p.flags);
  return j;
}

// Both fields are Go `omitempty`: a zero offset is left out.
OrderedJson writeTimeOffset(const TimeOffset& t) {
  OrderedJson j = OrderedJson::object();
  if (t.secs != 0) j["secs"] = t.secs;
  if (t.nanosecs != 0) j["nanosecs"] = t.nanosecs;
  return j;
}

}  // namespace

Status readIdMapping(const JsonReader& r, IdMapping& out) {
  BERTH_TRY(r.required("containerID", out.containerID));
  BERTH_TRY(r.required("hostID", out.hostID));
  BERTH_TRY(r.required("size", out.size));
  // An empty range maps nothing, and the kernel rejects it in uid_map.
  if (out.size == 0) return r.invalid("size", "must be greater than 0");
  return {};
}

Status readLinux(const JsonReader& r, Linux& out) {
  // Namespaces first: the mapping and time offset checks look them up.
  BERTH_TRY(readNamespaces(r, out));
  BERTH_TRY(readIdMappings(r, out));
  BERTH_TRY(readSysctl(r, out));
  BERTH_TRY(r.object("resources", out.resources, readResources));
  BERTH_TRY(r.optional("cgroupsPath", out.cgroupsPath));
  BERTH_TRY(readFilesystem(r, out));
  BERTH_TRY(r.object("seccomp", out.seccomp, readSeccomp));
  BERTH_TRY(r.object("intelRdt", out.intelRdt, readIntelRdt));
  BERTH_TRY(r.object("personality", out.personality, readPersonality));
  return readTimeOffsets(r, out);
}

OrderedJson writeIdMapping(const IdMapping& m) {
  return {{"containerID", m.containerID}, {"hostID", m.hostID}, {"size", m.size}};
}

OrderedJson writeLinux(const Linux& linux) {
  OrderedJson j = OrderedJson::object();
  putObjects(j, "uidMappings", linux.uidMappings, writeIdMapping);
  putObjects(j, "gidMappings", linux.gidMappings, writeIdMapping);
  putIfNotEmpty(j, "sysctl", linux.sysctl);
  putObject(j, "resources", linux.resources, writeResources);
  putIfSet(j, "cgroupsPath", linux.cgroupsPath);
  putObjects(j, "namespaces", linux.namespaces, writeNamespace);
  putObjects(j, "devices", linux.devices, writeDevice);
  putObject(j, "seccomp", linux.seccomp, writeSeccomp);
  putIfSet(j, "rootfsPropagation", linux.rootfsPropagation);
  putIfNotEmpty(j, "maskedPaths", linux.maskedPaths);
  putIfNotEmpty(j, "readonlyPaths", linux.readonlyPaths);
  putIfSet(j, "mountLabel", linux.mountLabel);
  putObject(j, "intelRdt", linux.intelRdt, writeIntelRdt);
  putObject(j, "personality", linux.personality, writePersonality);
  putObjectMap(j, "timeOffsets", linux.timeOffsets, writeTimeOffset);
  return j;
}

}  // namespace berth::ocispec
