#pragma once
// The node's name as the kubelet and kube-proxy pick it (nodeutil.GetHostname): the override if
// given, else the machine's hostname, lowercased.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace berth::kubeapi {

inline std::string nodeNameOrHostname(std::string override) {
  if (override.empty()) {
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    override = buf;
  }
  std::transform(override.begin(), override.end(), override.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return override;
}

}  // namespace berth::kubeapi
