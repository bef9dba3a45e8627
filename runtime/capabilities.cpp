#include "runtime/capabilities.h"

#include <sys/capability.h>

#include <algorithm>
#include <cctype>

#include "common/file_util.h"

namespace berth::runtime {

int capabilityFromName(const std::string& name) {
  if (name.rfind("CAP_", 0) != 0) return -1;
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  cap_value_t v;
  if (cap_from_name(lower.c_str(), &v) != 0) return -1;
  if (v > lastCapability()) return -1;
  return static_cast<int>(v);
}

int lastCapability() {
  static const int last = [] {
    auto s = readFile("/proc/sys/kernel/cap_last_cap");
    if (s) {
      try {
        return std::stoi(*s);
      } catch (...) {
      }
    }
    return static_cast<int>(CAP_LAST_CAP);
  }();
  return last;
}

std::vector<std::string> knownCapabilities() {
  std::vector<std::string> out;
  for (int c = 0; c <= lastCapability(); ++c) {
    char* n = cap_to_name(static_cast<cap_value_t>(c));
    if (!n) continue;
    std::string name = n;
    cap_free(n);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    if (name.rfind("CAP_", 0) == 0) out.push_back(name);
  }
  return out;
}

}  // namespace berth::runtime
