#include "cni-plugins/host_local/config.h"

#include <algorithm>

#include <fmt/format.h>

#include "cni-plugins/cni/config_json.h"

namespace berth::cni::hostlocal {

using ocispec::JsonReader;

namespace {

std::unexpected<CniError> invalid(std::string_view field, std::string_view what) {
  return cniFail(kInvalidNetworkConfig, "{}: {}", field, what);
}

CniResult<std::optional<IpAddr>> optionalIp(const Json& obj, std::string_view key,
                                            const std::string& path) {
  const Json* it = member(obj, key);
  if (it == nullptr) return std::nullopt;
  auto field = fmt::format("{}.{}", path, key);
  if (!it->is_string()) return invalid(field, "must be a string");
  // An empty string is no address, as Go's net.IP decodes it (containerd sends "RangeStart": ""
  // for a range without one).
  if (it->get<std::string>().empty()) return std::nullopt;
  auto ip = IpAddr::parse(it->get<std::string>());
  if (!ip) return invalid(field, fmt::format("invalid IP address \"{}\"", it->get<std::string>()));
  return ip;
}

// Range.Canonicalize in the reference: subnet masked, defaults filled in, everything inside.
CniResult<Range> parseRange(const Json& obj, const std::string& path) {
  if (!obj.is_object()) return invalid(path, "must be an object");
  Range r;
  const Json* it = member(obj, "subnet");
  if (it == nullptr) return invalid(path + ".subnet", "required");
  if (!it->is_string()) return invalid(path + ".subnet", "must be a string");
  auto subnet = IpNet::parse(it->get<std::string>());
  if (!subnet) {
    return invalid(path + ".subnet",
                   fmt::format("invalid CIDR address \"{}\"", it->get<std::string>()));
  }
  r.subnet = subnet->canonical();
  int bits = r.subnet.ip().bits();
  if (r.subnet.prefix() > bits - 2) {
    return invalid(path + ".subnet",
                   fmt::format("network {} too small to allocate from", r.subnet.str()));
  }
  // The first address after the network; the last before the IPv4 broadcast.
  IpAddr first = r.subnet.network().next();
  IpAddr last = r.subnet.broadcast();
  if (r.subnet.ip().isV4()) last = last.prev();

  auto start = CNI_TRY(optionalIp(obj, "rangeStart", path));
  auto end = CNI_TRY(optionalIp(obj, "rangeEnd", path));
  auto gateway = CNI_TRY(optionalIp(obj, "gateway", path));
  r.gateway = gateway.value_or(first);
  if (gateway && !r.subnet.contains(*gateway)) {
    return invalid(path + ".gateway",
                   fmt::format("{} is not in network {}", gateway->str(), r.subnet.str()));
  }
  r.rangeStart = start.value_or(first);
  r.rangeEnd = end.value_or(last);
  if (start && !(r.subnet.contains(*start) && *start >= first && *start <= last)) {
    return invalid(path + ".rangeStart", fmt::format("{} is not a usable address of network {}",
                                                     start->str(), r.subnet.str()));
  }
  if (end && !(r.subnet.contains(*end) && *end >= first && *end <= last)) {
    return invalid(path + ".rangeEnd", fmt::format("{} is not a usable address of network {}",
                                                   end->str(), r.subnet.str()));
  }
  if (r.rangeStart > r.rangeEnd) {
    return invalid(path + ".rangeEnd",
                   fmt::format("{} is before rangeStart {}", r.rangeEnd.str(), r.rangeStart.str()));
  }
  return r;
}

bool overlaps(const Range& a, const Range& b) {
  return a.subnet.ip().family() == b.subnet.ip().family() && a.rangeStart <= b.rangeEnd &&
         b.rangeStart <= a.rangeEnd;
}

CniResult<RangeSet> parseRangeSet(const Json& arr, const std::string& path) {
  if (!arr.is_array() || arr.empty()) return invalid(path, "must be a non-empty array of ranges");
  RangeSet set;
  for (size_t i = 0; i < arr.size(); ++i) {
    auto rpath = fmt::format("{}[{}]", path, i);
    auto r = CNI_TRY(parseRange(arr[i], rpath));
    if (!set.empty() && r.subnet.ip().family() != set[0].subnet.ip().family()) {
      return invalid(rpath, "mixed address families in one range set");
    }
    for (size_t j = 0; j < set.size(); ++j) {
      if (overlaps(set[j], r)) return invalid(rpath, fmt::format("overlaps with range {}", j));
    }
    set.push_back(r);
  }
  return set;
}

CniStatus addRequested(IpamConfig& c, const Json& list, const std::string& path) {
  if (!list.is_array()) return invalid(path, "must be an array");
  for (size_t i = 0; i < list.size(); ++i) {
    auto field = fmt::format("{}[{}]", path, i);
    if (!list[i].is_string()) return invalid(field, "must be a string");
    auto s = list[i].get<std::string>();
    auto ip = IpAddr::parse(s);
    if (!ip) {
      if (auto net = IpNet::parse(s)) ip = net->ip();
    }
    if (!ip) return invalid(field, fmt::format("invalid IP address \"{}\"", s));
    c.requestedIps.push_back(*ip);
  }
  return {};
}

}  // namespace

std::string describe(const RangeSet& set) {
  std::string out;
  for (const auto& r : set) {
    if (!out.empty()) out += ',';
    out += r.rangeStart.str() + "-" + r.rangeEnd.str();
  }
  return out;
}

namespace {

CniStatus validateNetworkName(const std::string& name) {
  if (name.empty()) return invalid("name", "required: host-local keeps its store per network");
  if (name.find('/') != std::string::npos || name == "." || name == "..") {
    return invalid("name", fmt::format("\"{}\" can't name a directory", name));
  }
  return {};
}

}  // namespace

CniResult<IpamConfig> parseIpamStore(const NetConf& conf) {
  IpamConfig c;
  c.name = conf.name;
  c.cniVersion = conf.cniVersion;
  CNI_TRY(validateNetworkName(c.name));
  if (const Json* ipam = member(conf.raw, "ipam")) {
    const Json* dir = member(*ipam, "dataDir");
    if (dir && dir->is_string() && !dir->get<std::string>().empty()) {
      c.dataDir = dir->get<std::string>();
    }
  }
  return c;
}

CniResult<IpamConfig> parseIpamConfig(const NetConf& conf, std::string_view cniArgs) {
  IpamConfig c;
  c.name = conf.name;
  c.cniVersion = conf.cniVersion;
  const Json* ipamJson = member(conf.raw, "ipam");
  if (ipamJson == nullptr || !ipamJson->is_object()) {
    return invalid("ipam", "required (an object)");
  }
  const Json& ipam = *ipamJson;
  CNI_TRY(validateNetworkName(c.name));

  // Requested addresses: CNI_ARGS IP=, then args.cni.ips, then runtimeConfig.ips.
  auto args = CNI_TRY(parseCniArgs(cniArgs));
  // As the reference's types.LoadArgs: keys other than IP are an error unless IgnoreUnknown is
  // true (Kubernetes runtimes always set it).
  bool ignoreUnknown = false;
  if (auto it = args.find("IgnoreUnknown"); it != args.end()) {
    std::string v = it->second;
    std::transform(v.begin(), v.end(), v.begin(), ::tolower);
    if (v == "1" || v == "true") {
      ignoreUnknown = true;
    } else if (v != "0" && v != "false") {
      return cniFail(kInvalidEnvironment, "CNI_ARGS: IgnoreUnknown: not a boolean \"{}\"",
                     it->second);
    }
  }
  if (!ignoreUnknown) {
    std::vector<std::string> unknown;
    for (const auto& [k, v] : args) {
      if (k != "IP" && k != "IgnoreUnknown") unknown.push_back("\"" + k + "\"");
    }
    if (!unknown.empty()) {
      return cniFail(kInvalidEnvironment, "CNI_ARGS: unknown args [{}]", fmt::join(unknown, " "));
    }
  }
  if (auto it = args.find("IP"); it != args.end()) {
    auto ip = IpAddr::parse(it->second);
    if (!ip)
      return cniFail(kInvalidEnvironment, "CNI_ARGS: IP: invalid address \"{}\"", it->second);
    c.requestedIps.push_back(*ip);
  }
  if (const Json* a = member(conf.raw, "args")) {
    if (const Json* cni = member(*a, "cni")) {
      if (const Json* ips = member(*cni, "ips")) CNI_TRY(addRequested(c, *ips, "args.cni.ips"));
    }
  }
  for (const auto& n : conf.runtimeConfig.ips)
    c.requestedIps.push_back(n.ip());

  // The "ipRanges" capability goes first, then the legacy single range, then "ranges".
  if (const Json* rc = member(conf.raw, "runtimeConfig")) {
    if (const Json* it = member(*rc, "ipRanges")) {
      if (!it->is_array())
        return invalid("runtimeConfig.ipRanges", "must be an array of range sets");
      for (size_t i = 0; i < it->size(); ++i) {
        c.ranges.push_back(
            CNI_TRY(parseRangeSet((*it)[i], fmt::format("runtimeConfig.ipRanges[{}]", i))));
      }
    }
  }
  if (member(ipam, "subnet") != nullptr) {
    auto r = CNI_TRY(parseRange(ipam, "ipam"));
    c.ranges.push_back({r});
  }
  if (const Json* it = member(ipam, "ranges")) {
    if (!it->is_array()) return invalid("ipam.ranges", "must be an array of range sets");
    for (size_t i = 0; i < it->size(); ++i) {
      c.ranges.push_back(CNI_TRY(parseRangeSet((*it)[i], fmt::format("ipam.ranges[{}]", i))));
    }
  }
  if (c.ranges.empty()) return invalid("ipam", "no IP ranges specified (\"ranges\" or \"subnet\")");
  for (size_t i = 0; i < c.ranges.size(); ++i) {
    for (size_t j = i + 1; j < c.ranges.size(); ++j) {
      for (const auto& a : c.ranges[i]) {
        for (const auto& b : c.ranges[j]) {
          if (overlaps(a, b)) {
            return invalid("ipam.ranges", fmt::format("range set {} overlaps with {}", i, j));
          }
        }
      }
    }
  }
  if (compareVersions(c.cniVersion.empty() ? "0.1.0" : c.cniVersion, "0.3.0") < 0) {
    int v4 = 0, v6 = 0;
    for (const auto& s : c.ranges)
      (s[0].subnet.ip().isV4() ? v4 : v6)++;
    if (v4 > 1 || v6 > 1) {
      return cniFail(kInvalidNetworkConfig,
                     "ipam.ranges: CNI version {} does not support more than 1 address per family",
                     c.cniVersion);
    }
  }

  auto reader = CNI_TRY(asCni(openConfig(ipam, "ipam")));
  auto readRoute = [](const JsonReader& r, Route& out) -> Status {
    std::string dst;
    BERTH_TRY(r.required("dst", dst));
    auto n = IpNet::parse(dst);
    if (!n) return r.invalid("dst", "invalid CIDR address \"{}\"", dst);
    out.dst = *n;
    std::optional<std::string> gw;
    BERTH_TRY(r.optional("gw", gw));
    if (gw) {
      auto ip = IpAddr::parse(*gw);
      if (!ip) return r.invalid("gw", "invalid IP address \"{}\"", *gw);
      out.gw = *ip;
    }
    return {};
  };
  CNI_TRY(asCni(reader.objects("routes", c.routes, readRoute)));
  CNI_TRY(asCni(reader.optional("dataDir", c.dataDir)));
  if (c.dataDir.empty()) c.dataDir = "/var/lib/cni/networks";
  CNI_TRY(asCni(reader.optional("resolvConf", c.resolvConf)));
  return c;
}

}  // namespace berth::cni::hostlocal
