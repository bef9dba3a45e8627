#include "dns/kube_dns_objects.h"

#include <algorithm>

namespace berth::dns {
namespace {

using nlohmann::json;

constexpr const char* kNamespace = "kube-system";
constexpr const char* kName = "kube-dns";

// The port names and labels a CoreDNS install gives them, which tools look for.
json dnsPorts(int port, bool service) {
  json out = json::array();
  for (const char* protocol : {"UDP", "TCP"}) {
    json p = {{"name", std::string(protocol) == "UDP" ? "dns" : "dns-tcp"},
              {"protocol", protocol},
              {"port", service ? 53 : port}};
    if (service) p["targetPort"] = port;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

json kubeDnsService(const std::vector<std::string>& clusterIps, int targetPort) {
  json spec = {{"type", "ClusterIP"},
               {"ipFamilyPolicy", clusterIps.size() > 1 ? "RequireDualStack" : "SingleStack"},
               {"ports", dnsPorts(targetPort, true)}};
  if (!clusterIps.empty()) {
    spec["clusterIP"] = clusterIps.front();
    spec["clusterIPs"] = clusterIps;
  }
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata",
           {{"name", kName},
            {"namespace", kNamespace},
            {"labels",
             {{"k8s-app", "kube-dns"},
              {"kubernetes.io/cluster-service", "true"},
              {"kubernetes.io/name", "CoreDNS"}}}}},
          {"spec", std::move(spec)}};
}

json kubeDnsEndpointSlice(const std::string& nodeName, const std::string& addressType,
                          const std::string& nodeAddress, int port) {
  std::string family = addressType;
  std::ranges::transform(family, family.begin(), [](unsigned char c) { return std::tolower(c); });
  return {{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata",
           {{"name", std::string(kName) + "-" + nodeName + "-" + family},
            {"namespace", kNamespace},
            {"labels",
             {{"kubernetes.io/service-name", kName},
              {"endpointslice.kubernetes.io/managed-by", "berth-cluster-dns"}}}}},
          {"addressType", addressType},
          {"endpoints",
           {{{"addresses", {nodeAddress}},
             {"conditions", {{"ready", true}, {"serving", true}, {"terminating", false}}},
             {"nodeName", nodeName}}}},
          {"ports", dnsPorts(port, false)}};
}

}  // namespace berth::dns
