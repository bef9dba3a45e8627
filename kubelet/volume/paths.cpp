#include "kubelet/volume/paths.h"

#include <algorithm>

#include "kubeapi/go_format.h"

namespace berth::kubelet::volume {

std::string_view pluginName(Plugin plugin) {
  switch (plugin) {
    case Plugin::kEmptyDir:
      return "kubernetes.io/empty-dir";
    case Plugin::kConfigMap:
      return "kubernetes.io/configmap";
    case Plugin::kSecret:
      return "kubernetes.io/secret";
    case Plugin::kDownwardApi:
      return "kubernetes.io/downward-api";
    case Plugin::kProjected:
      return "kubernetes.io/projected";
    case Plugin::kHostPath:
      return "kubernetes.io/host-path";
    case Plugin::kLocal:
      return "kubernetes.io/local-volume";
  }
  return "kubernetes.io/unknown";
}

std::string pluginDirName(Plugin plugin) {
  std::string name(pluginName(plugin));
  std::replace(name.begin(), name.end(), '/', '~');
  return name;
}

Status checkPathComponent(std::string_view what, std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos)
    return fail(Code::kInvalidArgument, "{} {}: not usable as a directory name", what,
                kubeapi::goQuote(name));
  return {};
}

}  // namespace berth::kubelet::volume
