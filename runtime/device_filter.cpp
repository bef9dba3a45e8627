#include "runtime/device_filter.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "common/unique_fd.h"

namespace berth::runtime {

namespace {

// Registers of the program: r1 = ctx on entry.
constexpr uint8_t kType = 2, kAccess = 3, kMajor = 4, kMinor = 5, kScratch = 6;

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}
bpf_insn loadCtxWord(uint8_t dst, int16_t off) {
  return insn(BPF_LDX | BPF_W | BPF_MEM, dst, 1, off, 0);
}
bpf_insn movImm(uint8_t dst, int32_t imm) {
  return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn movReg(uint8_t dst, uint8_t src) {
  return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn andImm(uint8_t dst, int32_t imm) {
  return insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm);
}
bpf_insn rshImm(uint8_t dst, int32_t imm) {
  return insn(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm);
}
bpf_insn jneImm(uint8_t dst, int32_t imm, int16_t off) {
  return insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm);
}
bpf_insn exitInsn() {
  return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

bool isWildcardAll(const ocispec::DeviceCgroup& r) {
  bool anyType = !r.type || *r.type == "a";
  bool anyMajor = !r.major || *r.major < 0;
  bool anyMinor = !r.minor || *r.minor < 0;
  std::string access = r.access.value_or("rwm");
  bool allAccess = access.empty() ||
                   (access.find('r') != std::string::npos &&
                    access.find('w') != std::string::npos && access.find('m') != std::string::npos);
  return anyType && anyMajor && anyMinor && allAccess;
}

// Letters other than r, w and m are ignored, as runc does; none of them means all three.
int32_t accessBits(const std::string& access) {
  int32_t bits = 0;
  for (char c : access) {
    if (c == 'r')
      bits |= BPF_DEVCG_ACC_READ;
    else if (c == 'w')
      bits |= BPF_DEVCG_ACC_WRITE;
    else if (c == 'm')
      bits |= BPF_DEVCG_ACC_MKNOD;
  }
  return bits ? bits : BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
}

long bpf(int cmd, bpf_attr& attr) {
  return ::syscall(SYS_bpf, cmd, &attr, sizeof attr);
}

}  // namespace

Result<std::vector<bpf_insn>> compileDeviceFilter(const std::vector<ocispec::DeviceCgroup>& rules) {
  // "a *:* rwm" resets everything before it and sets the default; the cgroup default is allow.
  size_t first = 0;
  bool defaultAllow = true;
  for (size_t i = 0; i < rules.size(); ++i)
    if (isWildcardAll(rules[i])) {
      first = i + 1;
      defaultAllow = rules[i].allow;
    }
  std::vector<bpf_insn> p = {
      loadCtxWord(kType, offsetof(bpf_cgroup_dev_ctx, access_type)),
      movReg(kAccess, kType),
      andImm(kType, 0xffff),
      rshImm(kAccess, 16),
      loadCtxWord(kMajor, offsetof(bpf_cgroup_dev_ctx, major)),
      loadCtxWord(kMinor, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  // Later rules win: emit them last-first, the first match decides.
  for (size_t n = rules.size(); n-- > first;) {
    const auto& r = rules[n];
    std::vector<bpf_insn> checks;  // each a "not this rule" jump, fixed up below
    std::string type = r.type.value_or("a");
    if (type == "c")
      checks.push_back(jneImm(kType, BPF_DEVCG_DEV_CHAR, 0));
    else if (type == "b")
      checks.push_back(jneImm(kType, BPF_DEVCG_DEV_BLOCK, 0));
    else if (type != "a")
      return fail(Code::kInvalidArgument, "linux.resources.devices[{}].type: invalid \"{}\"", n,
                  type);
    int32_t bits = accessBits(r.access.value_or("rwm"));
    bool allAccess = bits == (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD);
    if (!allAccess) {
      // The request must be a subset of the rule's access: (request & ~bits) == 0.
      checks.push_back(movReg(kScratch, kAccess));
      checks.push_back(andImm(kScratch, ~bits));
      checks.push_back(jneImm(kScratch, 0, 0));
    }
    if (r.major && *r.major >= 0)
      checks.push_back(jneImm(kMajor, static_cast<int32_t>(*r.major), 0));
    if (r.minor && *r.minor >= 0)
      checks.push_back(jneImm(kMinor, static_cast<int32_t>(*r.minor), 0));
    checks.push_back(movImm(0, r.allow ? 1 : 0));
    checks.push_back(exitInsn());
    // A failed check skips the rest of this rule's block.
    for (size_t i = 0; i < checks.size(); ++i)
      if (checks[i].code == (BPF_JMP | BPF_JNE | BPF_K))
        checks[i].off = static_cast<int16_t>(checks.size() - i - 1);
    p.insert(p.end(), checks.begin(), checks.end());
  }
  p.push_back(movImm(0, defaultAllow ? 1 : 0));
  p.push_back(exitInsn());
  return p;
}

Status attachDeviceFilter(const std::string& cgroupDir, const std::vector<bpf_insn>& program) {
  UniqueFd dir(::open(cgroupDir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!dir) return failErrno(fmt::format("open cgroup {}", cgroupDir));

  // Programs attached now: detached once the new one is in, so there is no unguarded moment.
  bpf_attr query{};
  uint32_t ids[64] = {};
  query.query.target_fd = static_cast<uint32_t>(dir.get());
  query.query.attach_type = BPF_CGROUP_DEVICE;
  query.query.prog_ids = reinterpret_cast<uint64_t>(ids);
  query.query.prog_cnt = 64;
  uint32_t old = bpf(BPF_PROG_QUERY, query) == 0 ? query.query.prog_cnt : 0;

  bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(program.data());
  load.insn_cnt = static_cast<uint32_t>(program.size());
  load.license = reinterpret_cast<uint64_t>("Apache");
  UniqueFd prog(static_cast<int>(bpf(BPF_PROG_LOAD, load)));
  if (!prog) {
    // Again with the verifier's log (errors only: the full trace would overflow the buffer).
    int err = errno;
    std::vector<char> log(65536);
    load.log_buf = reinterpret_cast<uint64_t>(log.data());
    load.log_size = static_cast<uint32_t>(log.size());
    load.log_level = 1;
    UniqueFd retry(static_cast<int>(bpf(BPF_PROG_LOAD, load)));
    std::string text(log.data());
    if (text.size() > 512) text = "..." + text.substr(text.size() - 512);
    return failErrno(err, fmt::format("load device filter for {} ({})", cgroupDir, text));
  }
  bpf_attr attach{};
  attach.target_fd = static_cast<uint32_t>(dir.get());
  attach.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, attach) < 0)
    return failErrno(fmt::format("attach device filter to {}", cgroupDir));
  for (uint32_t i = 0; i < old; ++i) {
    bpf_attr get{};
    get.prog_id = ids[i];
    UniqueFd oldProg(static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, get)));
    if (!oldProg) continue;
    bpf_attr detach{};
    detach.target_fd = static_cast<uint32_t>(dir.get());
    detach.attach_bpf_fd = static_cast<uint32_t>(oldProg.get());
    detach.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, detach) < 0 && errno != ENOENT)
      return failErrno(fmt::format("detach old device filter from {}", cgroupDir));
  }
  return {};
}

}  // namespace berth::runtime
