#include "kubeapi/group_version.h"

namespace berth::kubeapi {

GroupVersion GroupVersion::parse(std::string_view apiVersion) {
  auto slash = apiVersion.find('/');
  if (slash == std::string_view::npos) return {"", std::string(apiVersion)};
  return {std::string(apiVersion.substr(0, slash)), std::string(apiVersion.substr(slash + 1))};
}

}  // namespace berth::kubeapi
