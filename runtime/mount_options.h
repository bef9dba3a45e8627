#pragma once
// Translation of runtime-spec mount options (fstab words) into mount(2) flags, propagation and
// the data string the filesystem parses, as runc does.

#include <string>
#include <vector>

namespace berth::runtime {

struct MountOptions {
  unsigned long flags = 0;        // MS_* for mount(2)
  unsigned long clearFlags = 0;   // flags the options explicitly turn off (rw, suid, ...)
  unsigned long propagation = 0;  // MS_PRIVATE/SHARED/SLAVE/UNBINDABLE, with MS_REC for r*
  // Recursive attributes ("rro", "rnosuid", ...): applied with mount_setattr(AT_RECURSIVE).
  unsigned long long attrSet = 0;
  unsigned long long attrClear = 0;
  bool bind = false;
  bool recursive = false;  // rbind
  std::string data;        // unknown words, comma-joined (mode=755,size=65536k)
};

MountOptions parseMountOptions(const std::vector<std::string>& options);

// Propagation flags for linux.rootfsPropagation ("", "shared", "rslave", ...); false if unknown.
bool parsePropagation(const std::string& word, unsigned long* out);

}  // namespace berth::runtime
