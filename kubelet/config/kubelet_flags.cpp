#include "kubelet/config/kubelet_flags.h"

#include <set>

#include <fmt/ranges.h>

#include "kubeapi/validation.h"

namespace berth::kubelet {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  return s;
}

bool isUnspecified(const IpAddr& ip) {
  return ip == IpAddr::v4(0) || ip.str() == "::";
}

// Upstream's kubeletapis.IsKubeletLabel: a label the kubelet may set on its own Node.
bool isKubeletLabel(const std::string& key) {
  static const std::set<std::string_view> kAllowed = {"kubernetes.io/hostname",
                                                      "topology.kubernetes.io/zone",
                                                      "topology.kubernetes.io/region",
                                                      "failure-domain.beta.kubernetes.io/zone",
                                                      "failure-domain.beta.kubernetes.io/region",
                                                      "node.kubernetes.io/instance-type",
                                                      "beta.kubernetes.io/instance-type",
                                                      "kubernetes.io/os",
                                                      "beta.kubernetes.io/os",
                                                      "kubernetes.io/arch",
                                                      "beta.kubernetes.io/arch"};
  if (kAllowed.contains(key)) return true;
  size_t slash = key.find('/');
  std::string_view ns = slash == std::string::npos ? "" : std::string_view(key).substr(0, slash);
  for (std::string_view allowed : {"kubelet.kubernetes.io", "node.kubernetes.io"}) {
    if (ns == allowed || ns.ends_with(fmt::format(".{}", allowed))) return true;
  }
  return false;
}

bool inKubernetesNamespace(const std::string& key) {
  size_t slash = key.find('/');
  if (slash == std::string::npos) return false;
  std::string_view ns = std::string_view(key).substr(0, slash);
  return ns == "kubernetes.io" || ns.ends_with(".kubernetes.io") || ns == "k8s.io" ||
         ns.ends_with(".k8s.io");
}

}  // namespace

Result<std::vector<IpAddr>> parseNodeIPs(std::string_view text) {
  std::vector<IpAddr> ips;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = std::min(text.find(',', start), text.size());
    std::string_view part = trim(text.substr(start, comma - start));
    start = comma + 1;
    if (part.empty()) continue;
    auto ip = IpAddr::parse(part);
    if (!ip) return fail(Code::kInvalidArgument, "--node-ip: could not parse \"{}\"", part);
    ips.push_back(*ip);
  }
  if (ips.size() > 2 || (ips.size() == 2 && ips[0].family() == ips[1].family())) {
    return fail(Code::kInvalidArgument,
                "--node-ip \"{}\": must contain either a single IP or a dual-stack pair of IPs",
                text);
  }
  if (ips.size() == 2 && (isUnspecified(ips[0]) || isUnspecified(ips[1]))) {
    return fail(Code::kInvalidArgument,
                "--node-ip: dual-stack \"{}\" cannot include '0.0.0.0' or '::'", text);
  }
  return ips;
}

Status validateNodeLabels(const std::map<std::string, std::string>& labels) {
  std::vector<std::string> invalid, restricted;
  for (const auto& [key, value] : labels) {
    for (const std::string& e : kubeapi::isQualifiedName(key))
      invalid.push_back(fmt::format("'{}' - {}", key, e));
    for (const std::string& e : kubeapi::isValidLabelValue(value))
      invalid.push_back(fmt::format("'{}:{}' - {}", key, value, e));
    if (inKubernetesNamespace(key) && !isKubeletLabel(key)) restricted.push_back(key);
  }
  if (!invalid.empty())
    return fail(Code::kInvalidArgument, "--node-labels: invalid node labels: {}",
                fmt::join(invalid, "; "));
  if (!restricted.empty()) {
    return fail(
        Code::kInvalidArgument,
        "--node-labels: unknown 'kubernetes.io' or 'k8s.io' labels specified: {}; labels in "
        "those namespaces must begin with an allowed prefix (kubelet.kubernetes.io, "
        "node.kubernetes.io) or be in the specifically allowed set",
        fmt::join(restricted, ", "));
  }
  return {};
}

Status completeKubeletFlags(KubeletFlags& flags) {
  if (flags.certDirectory.empty()) flags.certDirectory = flags.rootDirectory + "/pki";
  flags.nodeIPs = BERTH_TRY(parseNodeIPs(flags.nodeIP));
  BERTH_TRY(validateNodeLabels(flags.nodeLabels));
  if (!flags.cloudProvider.empty() && flags.cloudProvider != "external") {
    return fail(Code::kInvalidArgument,
                "--cloud-provider: \"{}\" is not supported, only \"external\" or empty",
                flags.cloudProvider);
  }
  if (flags.exitOnLockContention && flags.lockFilePath.empty())
    return fail(Code::kInvalidArgument, "--exit-on-lock-contention requires --lock-file");
  return {};
}

}  // namespace berth::kubelet
