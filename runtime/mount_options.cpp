#include "runtime/mount_options.h"

#include <sys/mount.h>

#include <string_view>

namespace berth::runtime {

namespace {

struct FlagWord {
  std::string_view word;
  bool clear;  // the word turns the flag off
  unsigned long flag;
};

constexpr FlagWord kFlagWords[] = {
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"defaults", false, 0},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"mand", false, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
};

struct PropagationWord {
  std::string_view word;
  unsigned long flags;
};

constexpr PropagationWord kPropagationWords[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

}  // namespace

bool parsePropagation(const std::string& word, unsigned long* out) {
  for (const auto& p : kPropagationWords) {
    if (p.word == word) {
      *out = p.flags;
      return true;
    }
  }
  return false;
}

MountOptions parseMountOptions(const std::vector<std::string>& options) {
  MountOptions out;
  for (const std::string& o : options) {
    if (o == "bind" || o == "rbind") {
      out.bind = true;
      out.recursive = out.recursive || o == "rbind";
      continue;
    }
    if (parsePropagation(o, &out.propagation)) continue;
    bool known = false;
    for (const auto& f : kFlagWords) {
      if (f.word != o) continue;
      known = true;
      if (f.clear) {
        out.flags &= ~f.flag;
        out.clearFlags |= f.flag;
      } else {
        out.flags |= f.flag;
        out.clearFlags &= ~f.flag;
      }
      break;
    }
    // runc-only words that are not for the kernel.
    if (known || o == "tmpcopyup" || o == "idmap" || o == "ridmap") continue;
    if (!out.data.empty()) out.data += ',';
    out.data += o;
  }
  return out;
}

}  // namespace berth::runtime
