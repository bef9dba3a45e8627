#include "shim/engine/pod_network.h"

#include <algorithm>
#include <cctype>

#include "cni-plugins/libcni/libcni.h"
#include "common/file_util.h"
#include "common/ip.h"
#include "common/netlink.h"
#include "common/netns.h"

namespace berth::cri {

namespace {

constexpr const char* kPodIfName = "eth0";

Error fromCni(const cni::CniError& e, std::string_view what) {
  std::string msg = e.msg;
  if (!e.details.empty()) msg += ": " + e.details;
  return Error(Code::kUnknown, fmt::format("{}: {}", what, msg));
}

cni::RuntimeConf runtimeConf(const std::string& podId, const std::string& netns,
                             const ::runtime::v1::PodSandboxConfig& config) {
  cni::RuntimeConf rt;
  rt.containerID = podId;
  rt.netns = netns;
  rt.ifName = kPodIfName;
  // The kubelet's CNI_ARGS, as containerd passes them.
  rt.args = {{"IgnoreUnknown", "1"},
             {"K8S_POD_NAMESPACE", config.metadata().namespace_()},
             {"K8S_POD_NAME", config.metadata().name()},
             {"K8S_POD_INFRA_CONTAINER_ID", podId},
             {"K8S_POD_UID", config.metadata().uid()}};
  cni::Json mappings = cni::Json::array();
  for (const auto& pm : config.port_mappings()) {
    if (pm.host_port() <= 0) continue;  // containerd passes only mappings with a host port
    std::string proto = ::runtime::v1::Protocol_Name(pm.protocol());
    std::transform(proto.begin(), proto.end(), proto.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    mappings.push_back({{"hostPort", pm.host_port()},
                        {"containerPort", pm.container_port()},
                        {"protocol", proto},
                        {"hostIP", pm.host_ip()}});
  }
  if (!mappings.empty()) rt.capabilityArgs["portMappings"] = mappings;
  return rt;
}

Result<cni::NetworkConfigList> loadNetwork(const CniConfig& config) {
  auto list = cni::loadDefaultNetwork(config.confDir);
  if (!list) {
    return fail(Code::kFailedPrecondition, "cni config load failed: {}: cni plugin not initialized",
                list.error().msg);
  }
  return std::move(*list);
}

cni::CniRuntime runtimeOf(const CniConfig& config, const std::filesystem::path& cacheDir) {
  cni::CniRuntime::Options o;
  o.binDirs.clear();
  for (const auto& d : config.binDirs)
    o.binDirs.push_back(d.string());
  o.cacheDir = cacheDir;
  return cni::CniRuntime(std::move(o));
}

}  // namespace

PodNetworking::PodNetworking(const CniConfig& config, std::filesystem::path cacheDir)
    : config_(config), cacheDir_(std::move(cacheDir)) {}

Status PodNetworking::ready() const {
  BERTH_TRY(loadNetwork(config_));
  return {};
}

Result<bool> PodNetworking::writeFromTemplate(const std::string& podCidrs) const {
  if (podCidrs.empty() || config_.confTemplate.empty() || ready()) return false;
  std::string first = podCidrs.substr(0, podCidrs.find(','));
  if (!IpNet::parse(first)) {
    return fail(Code::kInvalidArgument, "runtime_config.network_config.pod_cidr \"{}\": not a CIDR",
                podCidrs);
  }
  std::string text = BERTH_TRY_CTX(readFile(config_.confTemplate), "cni.conf_template");
  static constexpr std::string_view kPlaceholder = "{{.PodCIDR}}";
  for (size_t at = text.find(kPlaceholder); at != std::string::npos;
       at = text.find(kPlaceholder, at + first.size())) {
    text.replace(at, kPlaceholder.size(), first);
  }
  BERTH_TRY(makeDirs(config_.confDir, 0755));
  BERTH_TRY(writeFileAtomic(config_.confDir / "10-berth-net.conflist", text, 0644));
  return true;
}

Result<PodNetwork> PodNetworking::attach(const std::string& podId, const std::string& netns,
                                         const ::runtime::v1::PodSandboxConfig& config) const {
  auto list = BERTH_TRY(loadNetwork(config_));
  auto rt = runtimeConf(podId, netns, config);
  auto cni = runtimeOf(config_, cacheDir_);
  auto result = cni.add(list, rt);
  if (!result) {
    (void)cni.del(list, rt);  // libcni leaves the rollback to the caller
    return std::unexpected(fromCni(result.error(), fmt::format("network {}: ADD", list.name)));
  }
  PodNetwork net;
  for (const auto& ip : result->ips) {
    std::string addr = ip.address.ip().str();
    // IPv4 first, as containerd's default ip_pref.
    if (ip.address.ip().isV4()) {
      auto firstV6 = std::find_if(net.ips.begin(), net.ips.end(),
                                  [](const std::string& s) { return s.find(':') != s.npos; });
      net.ips.insert(firstV6, addr);
    } else {
      net.ips.push_back(addr);
    }
  }
  auto json = cni::resultToJson(*result, list.cniVersion);
  if (json) net.resultJson = json->dump();
  return net;
}

Status PodNetworking::detach(const std::string& podId, const std::string& netns,
                             const ::runtime::v1::PodSandboxConfig& config) const {
  auto list = BERTH_TRY(loadNetwork(config_));
  auto cni = runtimeOf(config_, cacheDir_);
  auto r = cni.del(list, runtimeConf(podId, netns, config));
  if (!r) return std::unexpected(fromCni(r.error(), fmt::format("network {}: DEL", list.name)));
  return {};
}

Status bringUpLoopback(const std::string& netns) {
  auto ns = BERTH_TRY(NetNs::open(netns));
  auto nl = BERTH_TRY(MnlNetlink::openIn(ns));
  auto lo = BERTH_TRY(nl->linkByName("lo"));
  if (!lo) return fail(Code::kInternal, "no lo in {}", netns);
  return nl->setUp(lo->index, true);
}

}  // namespace berth::cri
