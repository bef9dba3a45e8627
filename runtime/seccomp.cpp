#include "runtime/seccomp.h"
#include "runtime/sync_protocol.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <type_traits>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "common/unique_fd.h"
#include "common/unix_socket.h"
#include "ocispec/spec_json.h"

namespace berth::runtime {

namespace {

constexpr const char* kField = "linux.seccomp";

struct ActionName {
  const char* name;
  uint32_t action;  // SCMP_ACT_*; ERRNO and TRACE get their return value or'ed in
};

// runc's getAction: SCMP_ACT_KILL is KILL_THREAD (libseccomp's SCMP_ACT_KILL).
constexpr ActionName kActions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
};

struct OperatorName {
  const char* name;
  scmp_compare op;
};

constexpr OperatorName kOperators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

struct ArchName {
  const char* name;
  uint32_t token;  // libseccomp's SCMP_ARCH_*
};

// config-linux.md's list, as far as libseccomp 2.5 knows it (no LOONGARCH64 yet).
constexpr ArchName kArchs[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
};

struct FlagName {
  const char* name;
  unsigned flag;  // 0: accepted and ignored
};

// TSYNC is accepted and ignored, as runc does: the filter is loaded by a single-threaded process
// about to exec (and TSYNC can't be combined with NEW_LISTENER).
constexpr FlagName kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", 0},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

// A syscall has six argument registers.
constexpr uint32_t kMaxArgs = 6;
// The kernel's BPF_MAXINSNS.
constexpr size_t kMaxInstructions = 4096;
// runc enables libseccomp's binary tree above this many rules (libseccomp 2.5.4 misbehaves with a
// tree and no rules).
constexpr size_t kBinaryTreeRules = 32;

struct CtxRelease {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using FilterCtx = std::unique_ptr<std::remove_pointer_t<scmp_filter_ctx>, CtxRelease>;

std::string errnoText(int err) {
  return std::strerror(err);
}

// The kernel accepts the flag when it fails on the NULL program instead of on the flag itself
// (libseccomp probes the same way); nothing is installed either way.
bool kernelSupportsFlag(unsigned flag) {
  if (flag == 0) return true;
  // WAIT_KILLABLE_RECV is refused without NEW_LISTENER.
  unsigned probe = flag;
  if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) probe |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  errno = 0;
  long r = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, probe, nullptr);
  return r < 0 && errno == EFAULT;
}

Result<uint32_t> parseAction(const std::string& name, std::optional<uint32_t> errnoRet,
                             const std::string& field, const std::string& errnoField) {
  for (const auto& a : kActions) {
    if (name != a.name) continue;
    if (a.action != SCMP_ACT_ERRNO(0) && a.action != SCMP_ACT_TRACE(0)) return a.action;
    // runtime-spec: errnoRet defaults to EPERM (for TRACE too, as runc).
    uint32_t ret = errnoRet.value_or(EPERM);
    if (ret > 0xffff)
      return fail(Code::kInvalidArgument, "{}: {} does not fit the 16-bit action data", errnoField,
                  ret);
    return a.action | ret;
  }
  return fail(Code::kInvalidArgument, "{}: unknown seccomp action \"{}\"", field, name);
}

Result<uint32_t> parseArch(const std::string& name, const std::string& field) {
  for (const auto& a : kArchs)
    if (name == a.name) return a.token;
  return fail(Code::kInvalidArgument, "{}: unknown seccomp architecture \"{}\"", field, name);
}

Result<scmp_arg_cmp> parseCondition(const ocispec::SeccompArg& arg, const std::string& field) {
  if (arg.index >= kMaxArgs)
    return fail(Code::kInvalidArgument, "{}.index: {} is not below {}", field, arg.index, kMaxArgs);
  for (const auto& o : kOperators) {
    // For SCMP_CMP_MASKED_EQ, value is the mask and valueTwo the value compared (runc passes
    // both to libseccomp as datum_a and datum_b).
    if (arg.op == o.name) return scmp_arg_cmp{arg.index, o.op, arg.value, arg.valueTwo.value_or(0)};
  }
  return fail(Code::kInvalidArgument, "{}.op: unknown seccomp operator \"{}\"", field, arg.op);
}

Result<unsigned> parseFlags(const std::vector<std::string>& names) {
  unsigned flags = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    std::string field = fmt::format("{}.flags[{}]", kField, i);
    const FlagName* known = nullptr;
    for (const auto& f : kFlags)
      if (names[i] == f.name) known = &f;
    if (!known)
      return fail(Code::kInvalidArgument, "{}: seccomp flag \"{}\" is not known to berth-runtime",
                  field, names[i]);
    if (!kernelSupportsFlag(known->flag))
      return fail(Code::kFailedPrecondition, "{}: {} is not supported by this kernel", field,
                  names[i]);
    flags |= known->flag;
  }
  return flags;
}

bool isAllowAction(uint32_t action) {
  // runc's patchbpf: TRACE counts as allowing, since a tracer should handle new syscalls itself.
  return action == SCMP_ACT_ALLOW || action == SCMP_ACT_LOG ||
         (action & SECCOMP_RET_ACTION_FULL) == SCMP_ACT_TRACE(0);
}

// Adds the rules of syscalls[index] for one name. Names libseccomp can't resolve are returned in
// `unknown` and skipped, as runc does (they don't exist on this kernel's architectures).
Status addRules(scmp_filter_ctx ctx, const ocispec::SeccompSyscall& rule, size_t index,
                const std::string& name, uint32_t action, uint32_t defaultAction,
                std::vector<std::string>& unknown) {
  std::string field = fmt::format("{}.syscalls[{}]", kField, index);
  std::vector<scmp_arg_cmp> conditions;
  std::array<int, kMaxArgs> perIndex{};
  for (size_t k = 0; k < rule.args.size(); ++k) {
    conditions.push_back(
        BERTH_TRY(parseCondition(rule.args[k], fmt::format("{}.args[{}]", field, k))));
    ++perIndex[rule.args[k].index];
  }
  // libseccomp refuses a rule whose action is the default one: redundant, skipped (runc).
  if (action == defaultAction) return {};
  int nr = seccomp_syscall_resolve_name(name.c_str());
  if (nr == __NR_SCMP_ERROR) {
    unknown.push_back(name);
    return {};
  }
  auto add = [&](unsigned count, const scmp_arg_cmp* conds) -> Status {
    int rc = seccomp_rule_add_array(ctx, action, nr, count, conds);
    if (rc < 0)
      return fail(Code::kInvalidArgument, "{}: add rule for {}: {}", field, name, errnoText(-rc));
    return {};
  };
  // libseccomp can't check one argument twice in a rule: conditions on the same argument become
  // separate rules, so they are OR'ed (runc's "old behaviour"); otherwise they are AND'ed.
  bool repeated = std::any_of(perIndex.begin(), perIndex.end(), [](int n) { return n > 1; });
  if (!repeated) return add(static_cast<unsigned>(conditions.size()), conditions.data());
  for (const auto& c : conditions)
    BERTH_TRY(add(1, &c));
  return {};
}

// seccomp_export_bpf writes to an fd: a memfd, read back.
Result<std::vector<sock_filter>> exportProgram(scmp_filter_ctx ctx) {
  UniqueFd mem(::memfd_create("berth-seccomp", MFD_CLOEXEC));
  if (!mem) return failErrno("seccomp: memfd_create");
  if (int rc = seccomp_export_bpf(ctx, mem.get()); rc < 0)
    return failErrno(-rc, "seccomp: export BPF program");
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  if (size < 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
    return fail(Code::kInternal, "seccomp: exported program has {} bytes", size);
  std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
  size_t bytes = program.size() * sizeof(sock_filter);
  if (::pread(mem.get(), program.data(), bytes, 0) != static_cast<ssize_t>(bytes))
    return failErrno("seccomp: read exported program");
  return program;
}

// ---- the -ENOSYS prologue (runc's libcontainer/seccomp/patchbpf) ----
//
// libseccomp gives a syscall it has no rule for the default action: with an ERRNO(EPERM) or KILL
// default, a syscall newer than the profile fails in a way glibc and others won't take as "not
// implemented, fall back". runc prepends a stub that returns ENOSYS for every syscall number
// above the largest one the profile names, per architecture; so do we.

constexpr uint32_t kX32SyscallBit = 0x40000000;  // the kernel's __X32_SYSCALL_BIT
constexpr uint32_t kRetEnosys = SECCOMP_RET_ERRNO | ENOSYS;
constexpr uint32_t kJumpToFilter = UINT32_MAX;  // placeholder target, patched at the end

// Largest syscall number named by the rules, per kernel architecture (AUDIT_ARCH_*) and, for
// x86_64, per ABI (the libseccomp tokens SCMP_ARCH_X86_64 and SCMP_ARCH_X32).
using LastSyscalls = std::map<uint32_t, std::map<uint32_t, uint32_t>>;

LastSyscalls lastSyscalls(const std::vector<uint32_t>& tokens, const ocispec::Seccomp& config) {
  LastSyscalls last;
  for (uint32_t token : tokens) {
    int largest = -1;
    for (const auto& rule : config.syscalls)
      for (const auto& name : rule.names)
        largest = std::max(largest, seccomp_syscall_resolve_name_arch(token, name.c_str()));
    if (largest <= 0) continue;  // no real syscall of this architecture: nothing to compare
    uint32_t audit = token == SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token;
    last[audit][token] = static_cast<uint32_t>(largest);
  }
  return last;
}

std::vector<sock_filter> enosysStub(const LastSyscalls& last) {
  if (last.empty()) return {};
  auto loadWord = [](uint32_t offset) {
    return sock_filter BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset);
  };
  std::vector<std::vector<sock_filter>> sections;
  for (const auto& [audit, byToken] : last) {
    std::vector<sock_filter> s{loadWord(offsetof(seccomp_data, nr))};
    // Above `max`: ENOSYS; else on to the filter.
    auto check = [&s](uint32_t max) {
      s.push_back(BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, max, 0, 1));
      s.push_back(BPF_STMT(BPF_RET | BPF_K, kRetEnosys));
      s.push_back(BPF_STMT(BPF_JMP | BPF_JA, kJumpToFilter));
    };
    if (audit == AUDIT_ARCH_X86_64) {
      // One kernel architecture, two ABIs: an x32 syscall number has bit 30 set. An ABI the
      // profile doesn't name goes straight to the filter (its bad-arch action).
      bool has64 = byToken.count(SCMP_ARCH_X86_64) != 0;
      bool hasX32 = byToken.count(SCMP_ARCH_X32) != 0;
      uint8_t jt = has64 && hasX32 ? 3 : has64 ? 2 : 0;
      uint8_t jf = has64 ? 0 : 2;
      s.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kX32SyscallBit, jt, jf));
      if (has64) check(byToken.at(SCMP_ARCH_X86_64));
      if (hasX32) check(byToken.at(SCMP_ARCH_X32));
    } else {
      if (audit == AUDIT_ARCH_S390 || audit == AUDIT_ARCH_S390X) {
        // s390 multiplexes large syscall numbers through setup(2) (number 0): a number the kernel
        // doesn't know stays 0 there.
        s.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1));
        s.push_back(BPF_STMT(BPF_RET | BPF_K, kRetEnosys));
      }
      check(byToken.begin()->second);
    }
    sections.push_back(std::move(s));
  }
  // Dispatch on the architecture: jeq arch → ja section (ja has a 32-bit offset, so no section is
  // ever out of reach); any other architecture goes to the filter.
  std::vector<sock_filter> out{loadWord(offsetof(seccomp_data, arch))};
  size_t target = 1 + 2 * sections.size() + 1;
  size_t i = 0;
  for (const auto& [audit, byToken] : last) {
    out.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, audit, 0, 1));
    uint32_t skip = static_cast<uint32_t>(target - (out.size() + 1));
    out.push_back(BPF_STMT(BPF_JMP | BPF_JA, skip));
    target += sections[i++].size();
  }
  out.push_back(BPF_STMT(BPF_JMP | BPF_JA, kJumpToFilter));
  for (const auto& s : sections)
    out.insert(out.end(), s.begin(), s.end());
  for (size_t pc = 0; pc < out.size(); ++pc)
    if (out[pc].code == (BPF_JMP | BPF_JA) && out[pc].k == kJumpToFilter)
      out[pc].k = static_cast<uint32_t>(out.size() - (pc + 1));
  return out;
}

}  // namespace

Result<SeccompProgram> compileSeccomp(const ocispec::Seccomp& config) {
  SeccompProgram out;
  uint32_t defaultAction = BERTH_TRY(parseAction(config.defaultAction, config.defaultErrnoRet,
                                                 fmt::format("{}.defaultAction", kField),
                                                 fmt::format("{}.defaultErrnoRet", kField)));
  // runc: a notified write(2) would block the init's own report to the runtime before the agent
  // has the listener; the default action would notify write too.
  if (defaultAction == SCMP_ACT_NOTIFY)
    return fail(Code::kInvalidArgument,
                "{}.defaultAction: SCMP_ACT_NOTIFY cannot be used as default action", kField);
  std::vector<uint32_t> actions;
  bool notify = false;
  for (size_t i = 0; i < config.syscalls.size(); ++i) {
    const auto& rule = config.syscalls[i];
    std::string field = fmt::format("{}.syscalls[{}]", kField, i);
    actions.push_back(
        BERTH_TRY(parseAction(rule.action, rule.errnoRet, field + ".action", field + ".errnoRet")));
    if (rule.names.empty())
      return fail(Code::kInvalidArgument, "{}.names: must be a non-empty array", field);
    for (size_t j = 0; j < rule.names.size(); ++j) {
      if (rule.names[j].empty())
        return fail(Code::kInvalidArgument, "{}.names[{}]: must not be empty", field, j);
      if (actions.back() == SCMP_ACT_NOTIFY && rule.names[j] == "write")
        return fail(Code::kInvalidArgument,
                    "{}.names[{}]: SCMP_ACT_NOTIFY cannot be used for the write syscall", field, j);
    }
    notify = notify || actions.back() == SCMP_ACT_NOTIFY;
  }
  if (notify) {
    if (unsigned api = seccomp_api_get(); api < 6)
      return fail(Code::kFailedPrecondition,
                  "{}: seccomp notify unsupported: API level: got {}, want at least 6 (libseccomp "
                  ">= 2.5.0 and Linux >= 5.7)",
                  kField, api);
    if (!config.listenerPath || config.listenerPath->empty())
      return fail(Code::kInvalidArgument, "{}.listenerPath: required when SCMP_ACT_NOTIFY is used",
                  kField);
    out.listenerPath = *config.listenerPath;
    out.listenerMetadata = config.listenerMetadata.value_or("");
  }
  out.flags = BERTH_TRY(parseFlags(config.flags));
  if (notify) out.flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  if ((out.flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) && !notify)
    return fail(Code::kInvalidArgument,
                "{}.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a rule with "
                "SCMP_ACT_NOTIFY",
                kField);

  FilterCtx ctx(seccomp_init(defaultAction));
  if (!ctx)
    return fail(Code::kInvalidArgument, "{}.defaultAction: libseccomp rejects {}", kField,
                config.defaultAction);
  // The native architecture is always in the filter (seccomp_init adds it).
  std::vector<uint32_t> tokens{seccomp_arch_native()};
  for (size_t i = 0; i < config.architectures.size(); ++i) {
    std::string field = fmt::format("{}.architectures[{}]", kField, i);
    uint32_t token = BERTH_TRY(parseArch(config.architectures[i], field));
    int rc = seccomp_arch_add(ctx.get(), token);
    if (rc < 0 && rc != -EEXIST)
      return fail(Code::kInvalidArgument, "{}: add {}: {}", field, config.architectures[i],
                  errnoText(-rc));
    if (std::find(tokens.begin(), tokens.end(), token) == tokens.end()) tokens.push_back(token);
  }
  size_t ruleCount = 0;
  for (const auto& rule : config.syscalls)
    ruleCount += rule.names.size();
  if (ruleCount > kBinaryTreeRules && seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
    spdlog::debug("seccomp: libseccomp binary tree optimization not available");

  std::vector<std::string> unknown;
  for (size_t i = 0; i < config.syscalls.size(); ++i)
    for (const auto& name : config.syscalls[i].names)
      BERTH_TRY(
          addRules(ctx.get(), config.syscalls[i], i, name, actions[i], defaultAction, unknown));
  if (!unknown.empty() && spdlog::should_log(spdlog::level::debug))
    spdlog::debug("seccomp: syscalls unknown to libseccomp ignored: {}", fmt::join(unknown, " "));

  out.instructions = BERTH_TRY(exportProgram(ctx.get()));
  bool enosysIsDefault = defaultAction == SCMP_ACT_ERRNO(ENOSYS);
  if (!isAllowAction(defaultAction) && !enosysIsDefault) {
    auto stub = enosysStub(lastSyscalls(tokens, config));
    out.instructions.insert(out.instructions.begin(), stub.begin(), stub.end());
  }
  if (out.instructions.size() > kMaxInstructions)
    return fail(Code::kInvalidArgument,
                "{}: the filter has {} BPF instructions, more than the kernel's {}", kField,
                out.instructions.size(), kMaxInstructions);
  out.enabled = true;
  return out;
}

std::string containerProcessState(const ocispec::State& state, pid_t pid,
                                  const std::string& metadata) {
  nlohmann::ordered_json j;
  j["ociVersion"] = ocispec::kOciVersion;
  j["fds"] = nlohmann::ordered_json::array({"seccompFd"});
  j["pid"] = pid;
  if (!metadata.empty()) j["metadata"] = metadata;
  j["state"] = ocispec::toJson(state);
  return j.dump();
}

Status sendSeccompListener(const std::string& listenerPath, const std::string& processState,
                           int listenerFd) {
  if (listenerPath.empty())
    return fail(Code::kInvalidArgument, "{}.listenerPath: \"\" is not a unix socket path", kField);
  auto sock = connectUnix(listenerPath);
  if (!sock)
    return std::unexpected(std::move(sock).error().context(fmt::format(
        "failed to connect with seccomp agent specified in the seccomp profile ({}.listenerPath "
        "{})",
        kField, listenerPath)));

  ssize_t n = sendWithFd(sock->get(), processState.data(), processState.size(), listenerFd);
  if (n != static_cast<ssize_t>(processState.size()))
    return failErrno(n < 0 ? errno : EMSGSIZE,
                     fmt::format("send seccomp listener to {}", listenerPath));
  return {};
}

SeccompFeatures seccompFeatures() {
  SeccompFeatures f;
  for (const auto& a : kActions)
    f.actions.emplace_back(a.name);
  for (const auto& o : kOperators)
    f.operators.emplace_back(o.name);
  for (const auto& a : kArchs)
    f.archs.emplace_back(a.name);
  for (const auto& fl : kFlags) {
    f.knownFlags.emplace_back(fl.name);
    if (kernelSupportsFlag(fl.flag)) f.supportedFlags.emplace_back(fl.name);
  }
  // runc sorts its lists.
  for (auto* list : {&f.actions, &f.operators, &f.archs})
    std::sort(list->begin(), list->end());
  return f;
}

}  // namespace berth::runtime
