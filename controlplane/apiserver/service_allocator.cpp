#include "controlplane/apiserver/service_allocator.h"
#include "controlplane/apiserver/json_fields.h"

#include <charconv>

#include <fmt/format.h>

#include "controlplane/storage/keys.h"

namespace berth::controlplane::apiserver {
namespace {

using kubeapi::FieldPath;
constexpr std::chrono::seconds kReservationTtl{60};

// The address `offset` places after the range's network address.
IpAddr nth(const IpNet& range, std::uint64_t offset) {
  IpAddr base = range.network();
  std::array<std::uint8_t, 16> bytes{};
  std::copy(base.data(), base.data() + base.size(), bytes.begin());
  std::size_t i = base.size();
  std::uint64_t carry = offset;
  while (carry && i > 0) {
    --i;
    std::uint64_t sum = bytes[i] + (carry & 0xff);
    bytes[i] = static_cast<std::uint8_t>(sum);
    carry = (carry >> 8) + (sum >> 8);
  }
  std::string text;
  if (base.isV4()) {
    text = fmt::format("{}.{}.{}.{}", bytes[0], bytes[1], bytes[2], bytes[3]);
  } else {
    for (int k = 0; k < 16; k += 2) {
      if (k) text += ':';
      text += fmt::format("{:x}", (bytes[k] << 8) | bytes[k + 1]);
    }
  }
  return *IpAddr::parse(text);
}

// Usable addresses after the network address (IPv4 also keeps its broadcast address out).
std::uint64_t rangeSize(const IpNet& range) {
  int hostBits = range.ip().bits() - range.prefix();
  if (hostBits >= 63) return std::uint64_t{1} << 62;
  std::uint64_t size = std::uint64_t{1} << hostBits;
  return range.ip().isV4() ? (size > 2 ? size - 2 : 0) : (size > 1 ? size - 1 : 0);
}

ApiError invalidService(const Json& svc, FieldPath path, Json value, std::string detail) {
  return kubeapi::invalidStatus({"", "Service"}, jsonString(jsonField(svc, "metadata"), "name"),
                                {FieldError::invalid(path, std::move(value), std::move(detail))});
}

bool usesNodePorts(const Json& spec) {
  std::string type = jsonString(spec, "type");
  if (type == "NodePort") return true;
  if (type != "LoadBalancer") return false;
  const Json& allocate = jsonField(spec, "allocateLoadBalancerNodePorts");
  return !allocate.is_boolean() || allocate.get<bool>();
}

}  // namespace

Result<ServiceAllocatorConfig> parseServiceAllocatorConfig(std::string_view clusterIpRange,
                                                           std::string_view nodePortRange) {
  ServiceAllocatorConfig config;
  std::size_t start = 0;
  while (start <= clusterIpRange.size()) {
    std::size_t comma = clusterIpRange.find(',', start);
    std::string_view part = clusterIpRange.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    auto net = IpNet::parse(part);
    if (!net) {
      return fail(Code::kInvalidArgument, "--service-cluster-ip-range: {} is not a CIDR", part);
    }
    int hostBits = net->ip().bits() - net->prefix();
    if (hostBits < 2 || (net->ip().isV6() && hostBits > 20)) {
      return fail(Code::kInvalidArgument,
                  "--service-cluster-ip-range: {} is too {} (IPv4 up to /30, IPv6 /108 to /126)",
                  part, hostBits < 2 ? "small" : "large");
    }
    if (!config.serviceCidrs.empty() &&
        config.serviceCidrs[0].ip().family() == net->ip().family()) {
      return fail(Code::kInvalidArgument,
                  "--service-cluster-ip-range: at most one range per IP family");
    }
    config.serviceCidrs.push_back(net->canonical());
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  std::size_t dash = nodePortRange.find('-');
  auto parsePort = [](std::string_view s, int& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size() && out > 0 && out < 65536;
  };
  if (dash == std::string_view::npos ||
      !parsePort(nodePortRange.substr(0, dash), config.nodePortMin) ||
      !parsePort(nodePortRange.substr(dash + 1), config.nodePortMax) ||
      config.nodePortMin > config.nodePortMax) {
    return fail(Code::kInvalidArgument,
                "--service-node-port-range: {} is not a port range like 30000-32767",
                nodePortRange);
  }
  return config;
}

ServiceAllocator::ServiceAllocator(ServiceAllocatorConfig config, const storage::WatchCache& cache)
    : config_(std::move(config)), cache_(cache), rng_(std::random_device{}()) {}

std::vector<IpAddr> kubernetesServiceIps(const ServiceAllocatorConfig& config) {
  std::vector<IpAddr> ips;
  for (const IpNet& range : config.serviceCidrs)
    ips.push_back(nth(range, 1));
  return ips;
}

ServiceAllocator::InUse ServiceAllocator::inUse(const std::string& exceptKey) const {
  InUse used;
  for (const auto& item : cache_.list(storage::resourcePrefix("", "services")).items) {
    if (item.key == exceptKey) continue;
    const Json& spec = jsonField(item.object->json(), "spec");
    const Json& ips = jsonField(spec, "clusterIPs");
    if (ips.is_array()) {
      for (const Json& ip : ips) {
        if (auto a = ip.is_string() ? IpAddr::parse(ip.get<std::string>()) : std::nullopt) {
          used.ips.insert(*a);
        }
      }
    }
    const Json& ports = jsonField(spec, "ports");
    if (ports.is_array()) {
      for (const Json& p : ports) {
        const Json& np = jsonField(p, "nodePort");
        if (np.is_number_integer()) used.ports.insert(np.get<int>());
      }
    }
    const Json& hc = jsonField(spec, "healthCheckNodePort");
    if (hc.is_number_integer()) used.ports.insert(hc.get<int>());
  }
  for (const auto& [ip, _] : reservedIps_)
    used.ips.insert(ip);
  for (const auto& [port, _] : reservedPorts_)
    used.ports.insert(port);
  return used;
}

void ServiceAllocator::expireReservations() {
  auto now = std::chrono::steady_clock::now();
  std::erase_if(reservedIps_, [&](const auto& r) { return now - r.second > kReservationTtl; });
  std::erase_if(reservedPorts_, [&](const auto& r) { return now - r.second > kReservationTtl; });
}

void ServiceAllocator::reserveIp(const IpAddr& ip) {
  reservedIps_[ip] = std::chrono::steady_clock::now();
}
void ServiceAllocator::reservePort(int port) {
  reservedPorts_[port] = std::chrono::steady_clock::now();
}

std::optional<IpAddr> ServiceAllocator::pickIp(const IpNet& range, const std::set<IpAddr>& used) {
  std::uint64_t size = rangeSize(range);
  if (size < 2) return std::nullopt;
  // Offset 1 is the kubernetes Service's; random picks from the rest, then a scan.
  std::uniform_int_distribution<std::uint64_t> dist(2, size);
  for (int attempt = 0; attempt < 32; ++attempt) {
    IpAddr ip = nth(range, dist(rng_));
    if (!used.contains(ip)) return ip;
  }
  for (std::uint64_t offset = 2; offset <= size && offset < (1u << 20); ++offset) {
    IpAddr ip = nth(range, offset);
    if (!used.contains(ip)) return ip;
  }
  return std::nullopt;
}

std::optional<int> ServiceAllocator::pickPort(const std::set<int>& used) {
  std::uniform_int_distribution<int> dist(config_.nodePortMin, config_.nodePortMax);
  for (int attempt = 0; attempt < 32; ++attempt) {
    int port = dist(rng_);
    if (!used.contains(port)) return port;
  }
  for (int port = config_.nodePortMin; port <= config_.nodePortMax; ++port) {
    if (!used.contains(port)) return port;
  }
  return std::nullopt;
}

std::optional<ApiError> ServiceAllocator::allocate(Json& service, const Json* old) {
  std::lock_guard lock(mu_);
  expireReservations();
  Json& spec = service["spec"];
  if (!spec.is_object()) return std::nullopt;  // validation reports the missing spec
  const Json oldSpec = old ? jsonField(*old, "spec") : Json();
  std::string key =
      storage::objectKey("", "services", jsonString(jsonField(service, "metadata"), "namespace"),
                         jsonString(jsonField(service, "metadata"), "name"));
  InUse used = inUse(key);
  std::string type = jsonString(spec, "type");

  if (type == "ExternalName") {
    for (const char* f : {"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"})
      spec.erase(f);
    return std::nullopt;
  }

  // What an update leaves unset stays as it was (the service REST's patchAllocatedValues).
  if (old && jsonString(oldSpec, "type") != "ExternalName") {
    for (const char* f : {"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"}) {
      if (!spec.contains(f) && oldSpec.contains(f)) spec[f] = oldSpec[f];
    }
  }

  // Families: the policy, then the families the ranges allow.
  if (!spec.contains("ipFamilyPolicy")) spec["ipFamilyPolicy"] = "SingleStack";
  std::string policy = jsonString(spec, "ipFamilyPolicy");
  if (policy != "SingleStack" && policy != "PreferDualStack" && policy != "RequireDualStack") {
    return kubeapi::invalidStatus(
        {"", "Service"}, jsonString(jsonField(service, "metadata"), "name"),
        {FieldError::notSupported(FieldPath("spec.ipFamilyPolicy"), policy,
                                  {"PreferDualStack", "RequireDualStack", "SingleStack"})});
  }
  if (policy == "RequireDualStack" && config_.serviceCidrs.size() < 2) {
    return invalidService(service, FieldPath("spec.ipFamilyPolicy"), policy,
                          "this cluster is not configured for dual-stack services");
  }
  Json& clusterIPs = spec["clusterIPs"];
  if (!clusterIPs.is_array()) clusterIPs = Json::array();
  if (clusterIPs.empty() && !jsonString(spec, "clusterIP").empty())
    clusterIPs.push_back(spec["clusterIP"]);
  Json& families = spec["ipFamilies"];
  if (!families.is_array() || families.empty()) {
    families = Json::array();
    if (!clusterIPs.empty() && clusterIPs[0] != "None") {
      auto ip = IpAddr::parse(clusterIPs[0].get<std::string>());
      if (ip) families.push_back(ip->isV4() ? "IPv4" : "IPv6");
    }
    for (const IpNet& range : config_.serviceCidrs) {
      std::string family = range.ip().isV4() ? "IPv4" : "IPv6";
      if (families.size() >= (policy == "SingleStack" ? 1u : 2u)) break;
      if (std::find(families.begin(), families.end(), family) == families.end()) {
        families.push_back(family);
      }
    }
  }

  if (!clusterIPs.empty() && clusterIPs[0] == "None") {
    spec["clusterIP"] = "None";
  } else {
    for (std::size_t i = 0; i < families.size(); ++i) {
      const IpNet* range = nullptr;
      for (const IpNet& r : config_.serviceCidrs) {
        if ((r.ip().isV4() ? "IPv4" : "IPv6") == families[i].get<std::string>()) range = &r;
      }
      FieldPath path = FieldPath("spec").child("clusterIPs").index(i);
      if (!range) {
        return invalidService(service, FieldPath("spec").child("ipFamilies").index(i), families[i],
                              "not configured on this cluster");
      }
      if (i < clusterIPs.size() && clusterIPs[i].is_string() &&
          !clusterIPs[i].get<std::string>().empty()) {
        std::string text = clusterIPs[i].get<std::string>();
        bool unchanged = old && jsonField(oldSpec, "clusterIPs").is_array() &&
                         jsonField(oldSpec, "clusterIPs").size() > i &&
                         jsonField(oldSpec, "clusterIPs")[i] == clusterIPs[i];
        if (unchanged) continue;
        auto ip = IpAddr::parse(text);
        if (!ip) return invalidService(service, path, text, "must be a valid IP address");
        if (!range->contains(*ip)) {
          return invalidService(
              service, path, text,
              fmt::format("failed to allocate IP {}: provided IP is not in the valid range. The "
                          "range of valid IPs is {}",
                          text, range->str()));
        }
        if (used.ips.contains(*ip)) {
          return invalidService(
              service, path, text,
              fmt::format("failed to allocate IP {}: provided IP is already allocated", text));
        }
        reserveIp(*ip);
        continue;
      }
      auto ip = pickIp(*range, used.ips);
      if (!ip) {
        return kubeapi::internalErrorStatus("failed to allocate a serviceIP: range is full");
      }
      reserveIp(*ip);
      used.ips.insert(*ip);
      if (i < clusterIPs.size()) {
        clusterIPs[i] = ip->str();
      } else {
        clusterIPs.push_back(ip->str());
      }
    }
    if (!clusterIPs.empty()) spec["clusterIP"] = clusterIPs[0];
  }

  // Node ports.
  Json& ports = spec["ports"];
  if (!ports.is_array()) return std::nullopt;
  const Json& oldPorts = jsonField(oldSpec, "ports");
  for (std::size_t i = 0; i < ports.size(); ++i) {
    Json& port = ports[i];
    if (!port.is_object()) continue;
    if (!usesNodePorts(spec)) {
      port.erase("nodePort");
      continue;
    }
    FieldPath path = FieldPath("spec").child("ports").index(i).child("nodePort");
    int requested = port.value("nodePort", 0);
    if (requested == 0 && oldPorts.is_array()) {
      for (const Json& o : oldPorts) {
        if (jsonField(o, "port") == jsonField(port, "port") &&
            jsonField(o, "nodePort").is_number_integer()) {
          requested = o["nodePort"].get<int>();
          port["nodePort"] = requested;
          used.ports.erase(requested);
        }
      }
    }
    if (requested == 0) {
      auto picked = pickPort(used.ports);
      if (!picked) {
        return kubeapi::internalErrorStatus("failed to allocate a nodePort: range is full");
      }
      port["nodePort"] = *picked;
      used.ports.insert(*picked);
      reservePort(*picked);
      continue;
    }
    if (requested < config_.nodePortMin || requested > config_.nodePortMax) {
      return invalidService(service, path, requested,
                            fmt::format("provided port is not in the valid range. The range of "
                                        "valid ports is {}-{}",
                                        config_.nodePortMin, config_.nodePortMax));
    }
    if (used.ports.contains(requested)) {
      return invalidService(service, path, requested, "provided port is already allocated");
    }
    used.ports.insert(requested);
    reservePort(requested);
  }
  bool needsHealthCheck = jsonString(spec, "type") == "LoadBalancer" &&
                          jsonString(spec, "externalTrafficPolicy") == "Local";
  if (!needsHealthCheck) {
    spec.erase("healthCheckNodePort");
  } else if (!spec.contains("healthCheckNodePort")) {
    const Json& before = jsonField(oldSpec, "healthCheckNodePort");
    if (before.is_number_integer()) {
      spec["healthCheckNodePort"] = before;
    } else if (auto picked = pickPort(used.ports)) {
      spec["healthCheckNodePort"] = *picked;
      reservePort(*picked);
    }
  }
  return std::nullopt;
}

}  // namespace berth::controlplane::apiserver
