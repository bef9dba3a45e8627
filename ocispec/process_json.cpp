// config.md "Process", "POSIX process", "Linux process" and "User".

#include <set>

#include "ocispec/spec_json.h"
#include "ocispec/spec_json_internal.h"

namespace berth::ocispec {
namespace {

// getrlimit(2) resources; config.md: runtimes MUST generate an error for values they cannot map.
constexpr std::array<std::string_view, 16> kRlimitTypes = {
    "RLIMIT_AS",     "RLIMIT_CORE",   "RLIMIT_CPU",        "RLIMIT_DATA",
    "RLIMIT_FSIZE",  "RLIMIT_LOCKS",  "RLIMIT_MEMLOCK",    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",   "RLIMIT_NOFILE", "RLIMIT_NPROC",      "RLIMIT_RSS",
    "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK"};

constexpr std::array<std::string_view, 7> kSchedulerPolicies = {
    "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",      "SCHED_BATCH",
    "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE"};

constexpr std::array<std::string_view, 7> kSchedulerFlags = {
    "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",     "SCHED_FLAG_DL_OVERRUN",
    "SCHED_FLAG_KEEP_POLICY",   "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
    "SCHED_FLAG_UTIL_CLAMP_MAX"};

constexpr std::array<std::string_view, 3> kIoPriorityClasses = {
    "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"};

// Only the shape is checked: whether a capability exists depends on the kernel the runtime runs
// on, so unknown names are the runtime's to reject or skip (runc warns and skips).
bool looksLikeCapability(std::string_view name) {
  constexpr std::string_view kPrefix = "CAP_";
  if (name.size() <= kPrefix.size() || !name.starts_with(kPrefix)) return false;
  return std::all_of(name.begin() + kPrefix.size(), name.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || c == '_'; });
}

Status readConsoleSize(const JsonReader& r, ConsoleSize& out) {
  BERTH_TRY(r.required("height", out.height));
  return r.required("width", out.width);
}

Status readUser(const JsonReader& r, User& out) {
  BERTH_TRY(r.required("uid", out.uid));
  BERTH_TRY(r.required("gid", out.gid));
  BERTH_TRY(r.optional("umask", out.umask));
  BERTH_TRY(r.optional("additionalGids", out.additionalGids));
  return r.optional("username", out.username);
}

Status readCapabilitySet(const JsonReader& r, std::string_view key, std::vector<std::string>& out) {
  BERTH_TRY(r.optional(key, out));
  for (size_t i = 0; i < out.size(); ++i) {
    if (!looksLikeCapability(out[i])) {
      return invalidAt(indexPath(r.pathOf(key), i), "invalid capability name \"{}\"", out[i]);
    }
  }
  return {};
}

Status readCapabilities(const JsonReader& r, Capabilities& out) {
  BERTH_TRY(readCapabilitySet(r, "bounding", out.bounding));
  BERTH_TRY(readCapabilitySet(r, "effective", out.effective));
  BERTH_TRY(readCapabilitySet(r, "inheritable", out.inheritable));
  BERTH_TRY(readCapabilitySet(r, "permitted", out.permitted));
  return readCapabilitySet(r, "ambient", out.ambient);
}

Status readRlimit(const JsonReader& r, Rlimit& out) {
  BERTH_TRY(r.required("type", out.type));
  if (!isOneOf(kRlimitTypes, out.type)) {
    return r.invalid("type", "unknown rlimit type \"{}\"", out.type);
  }
  BERTH_TRY(r.required("soft", out.soft));
  BERTH_TRY(r.required("hard", out.hard));
  // setrlimit(2) fails with EINVAL; better to say so at parse time with the field named.
  if (out.soft > out.hard) {
    return r.invalid("soft", "must not exceed hard ({} > {})", out.soft, out.hard);
  }
  return {};
}

// config.md: a duplicate rlimit type MUST be an error.
Status checkUniqueRlimits(const JsonReader& r, const std::vector<Rlimit>& rlimits) {
  std::set<std::string_view> seen;
  for (size_t i = 0; i < rlimits.size(); ++i) {
    if (!seen.insert(rlimits[i].type).second) {
      return invalidAt(joinPath(indexPath(r.pathOf("rlimits"), i), "type"),
                       "duplicate rlimit type \"{}\"", rlimits[i].type);
    }
  }
  return {};
}

Status readScheduler(const JsonReader& r, Scheduler& out) {
  BERTH_TRY(r.required("policy", out.policy));
  if (!isOneOf(kSchedulerPolicies, out.policy)) {
    return r.invalid("policy", "unknown scheduler policy \"{}\"", out.policy);
  }
  BERTH_TRY(r.optional("nice", out.nice));
  BERTH_TRY(r.optional("priority", out.priority));
  BERTH_TRY(r.optional("flags", out.flags));
  for (size_t i = 0; i < out.flags.size(); ++i) {
    if (!isOneOf(kSchedulerFlags, out.flags[i])) {
      return invalidAt(indexPath(r.pathOf("flags"), i), "unknown scheduler flag \"{}\"",
                       out.flags[i]);
    }
  }
  BERTH_TRY(r.optional("runtime", out.runtime));
  BERTH_TRY(r.optional("deadline", out.deadline));
  return r.optional("period", out.period);
}

Status readIoPriority(const JsonReader& r, IoPriority& out) {
  BERTH_TRY(r.required("class", out.ioClass));
  if (!isOneOf(kIoPriorityClasses, out.ioClass)) {
    return r.invalid("class", "unknown I/O priority class \"{}\"", out.ioClass);
  }
  BERTH_TRY(r.required("priority", out.priority));
  // ioprio_set(2) levels; anything else is EINVAL at start time.
  if (out.priority < 0 || out.priority > 7) return r.invalid("priority", "must be between 0 and 7");
  return {};
}

Status readExecCpuAffinity(const JsonReader& r, ExecCpuAffinity& out) {
  BERTH_TRY(r.optional("initial", out.initial));
  return r.optional("final", out.final);
}

// The fields every process needs before it can be exec'd.
Status readCommand(const JsonReader& r, Process& out) {
  BERTH_TRY(r.optional("args", out.args));
  // config.md: at least one entry is REQUIRED on non-Windows platforms (it is execvp's file).
  if (out.args.empty()) return r.invalid("args", "must be a non-empty array");
  BERTH_TRY(r.optional("env", out.env));
  BERTH_TRY(r.required("cwd", out.cwd));
  if (!isAbsolutePath(out.cwd)) return r.invalid("cwd", "must be an absolute path");
  return {};
}

Status readTerminal(const JsonReader& r, Process& out) {
  BERTH_TRY(r.optional("terminal", out.terminal));
  BERTH_TRY(r.object("consoleSize", out.consoleSize, readConsoleSize));
  // config.md: runtimes MUST ignore consoleSize if terminal is false or unset. Dropping it here
  // means nothing downstream can act on it by mistake.
  if (!out.terminal) out.consoleSize.reset();
  return {};
}

Status readLinuxProcess(const JsonReader& r, Process& out) {
  BERTH_TRY(r.object("capabilities", out.capabilities, readCapabilities));
  BERTH_TRY(r.objects("rlimits", out.rlimits, readRlimit));
  BERTH_TRY(checkUniqueRlimits(r, out.rlimits));
  BERTH_TRY(r.optional("noNewPrivileges", out.noNewPrivileges));
  BERTH_TRY(r.optional("apparmorProfile", out.apparmorProfile));
  BERTH_TRY(r.optional("oomScoreAdj", out.oomScoreAdj));
  BERTH_TRY(r.object("scheduler", out.scheduler, readScheduler));
  BERTH_TRY(r.optional("selinuxLabel", out.selinuxLabel));
  BERTH_TRY(r.object("ioPriority", out.ioPriority, readIoPriority));
  return r.object("execCPUAffinity", out.execCPUAffinity, readExecCpuAffinity);
}

OrderedJson writeUser(const User& user) {
  // uid and gid are plain `json:"uid"` in Go: always written, even when 0.
  OrderedJson j = {{"uid", user.uid}, {"gid", user.gid}};
  putIfSet(j, "umask", user.umask);
  putIfNotEmpty(j, "additionalGids", user.additionalGids);
  putIfSet(j, "username", user.username);
  return j;
}

OrderedJson writeConsoleSize(const ConsoleSize& size) {
  return {{"height", size.height}, {"width", size.width}};
}

OrderedJson writeCapabilities(const Capabilities& caps) {
  OrderedJson j = OrderedJson::object();
  putIfNotEmpty(j, "bounding", caps.bounding);
  putIfNotEmpty(j, "effective", caps.effective);
  putIfNotEmpty(j, "inheritable", caps.inheritable);
  putIfNotEmpty(j, "permitted", caps.permitted);
  putIfNotEmpty(j, "ambient", caps.ambient);
  return j;
}

OrderedJson writeRlimit(const Rlimit& rlimit) {
  return {{"type", rlimit.type}, {"hard", rlimit.hard}, {"soft", rlimit.soft}};
}

OrderedJson writeScheduler(const Scheduler& s) {
  OrderedJson j = {{"policy", s.policy}};
  putIfSet(j, "nice", s.nice);
  putIfSet(j, "priority", s.priority);
  putIfNotEmpty(j, "flags", s.flags);
  putIfSet(j, "runtime", s.runtime);
  putIfSet(j, "deadline", s.deadline);
  putIfSet(j, "period", s.period);
  return j;
}

OrderedJson writeIoPriority(const IoPriority& p) {
  return {{"class", p.ioClass}, {"priority", p.priority}};
}

OrderedJson writeExecCpuAffinity(const ExecCpuAffinity& a) {
  OrderedJson j = OrderedJson::object();
  putIfSet(j, "initial", a.initial);
  putIfSet(j, "final", a.final);
  return j;
}

}  // namespace

Status readProcess(const JsonReader& r, Process& out) {
  BERTH_TRY(readTerminal(r, out));
  // config.md lists user as a POSIX field without marking it REQUIRED; an absent user is root.
  BERTH_TRY(r.object("user", out.user, readUser));
  BERTH_TRY(readCommand(r, out));
  return readLinuxProcess(r, out);
}

OrderedJson toJson(const Process& p) {
  OrderedJson j = OrderedJson::object();
  putIfTrue(j, "terminal", p.terminal);
  putObject(j, "consoleSize", p.consoleSize, writeConsoleSize);
  j["user"] = writeUser(p.user);
  putIfNotEmpty(j, "args", p.args);
  putIfNotEmpty(j, "env", p.env);
  j["cwd"] = p.cwd;
  putObject(j, "capabilities", p.capabilities, writeCapabilities);
  putObjects(j, "rlimits", p.rlimits, writeRlimit);
  putIfTrue(j, "noNewPrivileges", p.noNewPrivileges);
  putIfSet(j, "apparmorProfile", p.apparmorProfile);
  putIfSet(j, "oomScoreAdj", p.oomScoreAdj);
  putObject(j, "scheduler", p.scheduler, writeScheduler);
  putIfSet(j, "selinuxLabel", p.selinuxLabel);
  putObject(j, "ioPriority", p.ioPriority, writeIoPriority);
  putObject(j, "execCPUAffinity", p.execCPUAffinity, writeExecCpuAffinity);
  return j;
}

}  // namespace berth::ocispec
