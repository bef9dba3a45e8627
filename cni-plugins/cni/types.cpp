#include "cni-plugins/cni/types.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "cni-plugins/cni/config_json.h"
#include "ocispec/json_reader.h"

namespace berth::cni {

using ocispec::JsonReader;

namespace {

constexpr std::array<std::string_view, 7> kSupported = {"0.1.0", "0.2.0", "0.3.0", "0.3.1",
                                                        "0.4.0", "1.0.0", "1.1.0"};

bool parseVersion(std::string_view v, std::array<int, 3>& out) {
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    auto end = v.find('.', pos);
    if (i < 2 && end == std::string_view::npos) return false;
    auto part = v.substr(pos, (i < 2 ? end : v.size()) - pos);
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), out[i]);
    if (ec != std::errc() || p != part.data() + part.size() || part.empty()) return false;
    pos = end + 1;
  }
  return true;
}

// A berth::Error from JsonReader (path-prefixed) as a CNI error with the given code.
template <class T>
CniResult<T> withCode(Result<T>&& r, int code) {
  if (!r) return std::unexpected(CniError{code, r.error().message(), {}});
  if constexpr (std::is_void_v<T>) {
    return {};
  } else {
    return std::move(r).value();
  }
}

Status readIp(const JsonReader& r, std::string_view key, std::optional<IpAddr>& out) {
  std::optional<std::string> s;
  BERTH_TRY(r.optional(key, s));
  // An empty string is no address, as Go's net.IP decodes it.
  if (!s || s->empty()) return {};
  auto ip = IpAddr::parse(*s);
  if (!ip) return r.invalid(key, "invalid IP address \"{}\"", *s);
  out = *ip;
  return {};
}

Status readNet(const JsonReader& r, std::string_view key, IpNet& out) {
  std::string s;
  BERTH_TRY(r.required(key, s));
  auto n = IpNet::parse(s);
  if (!n) return r.invalid(key, "invalid CIDR address \"{}\"", s);
  out = *n;
  return {};
}

Status readRoute(const JsonReader& r, Route& out) {
  BERTH_TRY(readNet(r, "dst", out.dst));
  BERTH_TRY(readIp(r, "gw", out.gw));
  BERTH_TRY(r.optional("mtu", out.mtu));
  BERTH_TRY(r.optional("advmss", out.advmss));
  BERTH_TRY(r.optional("priority", out.priority));
  BERTH_TRY(r.optional("table", out.table));
  BERTH_TRY(r.optional("scope", out.scope));
  return {};
}

Status readDns(const JsonReader& r, Dns& out) {
  BERTH_TRY(r.optional("nameservers", out.nameservers));
  BERTH_TRY(r.optional("domain", out.domain));
  BERTH_TRY(r.optional("search", out.search));
  BERTH_TRY(r.optional("options", out.options));
  return {};
}

Status readInterface(const JsonReader& r, Interface& out) {
  BERTH_TRY(r.required("name", out.name));
  BERTH_TRY(r.optional("mac", out.mac));
  BERTH_TRY(r.optional("mtu", out.mtu));
  BERTH_TRY(r.optional("sandbox", out.sandbox));
  BERTH_TRY(r.optional("socketPath", out.socketPath));
  BERTH_TRY(r.optional("pciID", out.pciID));
  return {};
}

Status readIpConfig(const JsonReader& r, IpConfig& out) {
  BERTH_TRY(readNet(r, "address", out.address));
  BERTH_TRY(readIp(r, "gateway", out.gateway));
  BERTH_TRY(r.optional("interface", out.interface));
  return {};
}

// 0.1.0/0.2.0: {"ip4": {"ip", "gateway", "routes"}, "ip6": {...}}.
Status readLegacyFamily(const JsonReader& r, std::string_view key, PluginResult& out) {
  if (!r.has(key)) return {};
  PluginResult family;
  BERTH_TRY(r.object(key, family, [](const JsonReader& f, PluginResult& res) -> Status {
    IpConfig ip;
    BERTH_TRY(readNet(f, "ip", ip.address));
    BERTH_TRY(readIp(f, "gateway", ip.gateway));
    res.ips.push_back(ip);
    std::vector<Route> routes;
    BERTH_TRY(f.objects("routes", routes, readRoute));
    res.routes.insert(res.routes.end(), routes.begin(), routes.end());
    return {};
  }));
  out.ips.insert(out.ips.end(), family.ips.begin(), family.ips.end());
  out.routes.insert(out.routes.end(), family.routes.begin(), family.routes.end());
  return {};
}

Status readResult(const JsonReader& r, PluginResult& out) {
  BERTH_TRY(r.optional("cniVersion", out.cniVersion));
  if (r.has("ip4") || r.has("ip6")) {
    PluginResult legacy;
    BERTH_TRY(readLegacyFamily(r, "ip4", legacy));
    BERTH_TRY(readLegacyFamily(r, "ip6", legacy));
    out.ips = std::move(legacy.ips);
    out.routes = std::move(legacy.routes);
  } else {
    BERTH_TRY(r.objects("interfaces", out.interfaces, readInterface));
    BERTH_TRY(r.objects("ips", out.ips, readIpConfig));
    BERTH_TRY(r.objects("routes", out.routes, readRoute));
  }
  BERTH_TRY(r.object("dns", out.dns, readDns));
  return {};
}

OrderedJson routeJson(const Route& rt, bool v11) {
  OrderedJson j;
  j["dst"] = rt.dst.str();
  if (rt.gw) j["gw"] = rt.gw->str();
  if (v11) {
    if (rt.mtu) j["mtu"] = *rt.mtu;
    if (rt.advmss) j["advmss"] = *rt.advmss;
    if (rt.priority) j["priority"] = *rt.priority;
    if (rt.table) j["table"] = *rt.table;
    if (rt.scope) j["scope"] = *rt.scope;
  }
  return j;
}

OrderedJson dnsJson(const Dns& d) {
  OrderedJson j = OrderedJson::object();
  if (!d.nameservers.empty()) j["nameservers"] = d.nameservers;
  if (!d.domain.empty()) j["domain"] = d.domain;
  if (!d.search.empty()) j["search"] = d.search;
  if (!d.options.empty()) j["options"] = d.options;
  return j;
}

CniResult<OrderedJson> legacyJson(const PluginResult& r, std::string_view version) {
  OrderedJson j;
  j["cniVersion"] = std::string(version);
  for (int family : {4, 6}) {
    const IpConfig* ip = nullptr;
    for (const auto& c : r.ips) {
      if (c.address.ip().family() != family) continue;
      if (ip != nullptr) {
        return cniFail(kIncompatibleVersion,
                       "cannot convert result to version {}: more than one IPv{} address", version,
                       family);
      }
      ip = &c;
    }
    if (ip == nullptr) continue;
    OrderedJson f;
    f["ip"] = ip->address.str();
    if (ip->gateway) f["gateway"] = ip->gateway->str();
    OrderedJson routes = OrderedJson::array();
    for (const auto& rt : r.routes) {
      if (rt.dst.ip().family() == family) routes.push_back(routeJson(rt, false));
    }
    if (!routes.empty()) f["routes"] = routes;
    j[family == 4 ? "ip4" : "ip6"] = f;
  }
  if (!r.dns.empty()) j["dns"] = dnsJson(r.dns);
  return j;
}

}  // namespace

std::span<const std::string_view> supportedVersions() {
  return kSupported;
}

bool isSupportedVersion(std::string_view v) {
  return std::find(kSupported.begin(), kSupported.end(), v) != kSupported.end();
}

int compareVersions(std::string_view a, std::string_view b) {
  std::array<int, 3> va{-1, -1, -1}, vb{-1, -1, -1};
  bool oka = parseVersion(a, va), okb = parseVersion(b, vb);
  if (!oka || !okb) return static_cast<int>(oka) - static_cast<int>(okb);
  return va < vb ? -1 : va > vb ? 1 : 0;
}

CniResult<PluginResult> parseResult(const Json& j) {
  auto reader = CNI_TRY(withCode(openConfig(j, "result"), kDecodeFailure));
  PluginResult out;
  CNI_TRY(withCode(readResult(reader, out), kDecodeFailure));
  return out;
}

CniResult<OrderedJson> resultToJson(const PluginResult& r, std::string_view version) {
  if (!isSupportedVersion(version)) {
    return cniFail(kIncompatibleVersion, "cannot convert result to unsupported version \"{}\"",
                   version);
  }
  if (compareVersions(version, "0.3.0") < 0) return legacyJson(r, version);
  bool v11 = compareVersions(version, "1.1.0") >= 0;
  bool v1 = compareVersions(version, "1.0.0") >= 0;
  OrderedJson j;
  j["cniVersion"] = std::string(version);
  if (!r.interfaces.empty()) {
    OrderedJson list = OrderedJson::array();
    for (const auto& i : r.interfaces) {
      OrderedJson o;
      o["name"] = i.name;
      if (!i.mac.empty()) o["mac"] = i.mac;
      if (v11 && i.mtu) o["mtu"] = *i.mtu;
      if (!i.sandbox.empty()) o["sandbox"] = i.sandbox;
      if (v11 && !i.socketPath.empty()) o["socketPath"] = i.socketPath;
      if (v11 && !i.pciID.empty()) o["pciID"] = i.pciID;
      list.push_back(o);
    }
    j["interfaces"] = list;
  }
  if (!r.ips.empty()) {
    OrderedJson list = OrderedJson::array();
    for (const auto& ip : r.ips) {
      OrderedJson o;
      // 0.3.x/0.4.0 name the family; 1.0 dropped the field.
      if (!v1) o["version"] = ip.address.ip().isV4() ? "4" : "6";
      if (ip.interface) o["interface"] = *ip.interface;
      o["address"] = ip.address.str();
      if (ip.gateway) o["gateway"] = ip.gateway->str();
      list.push_back(o);
    }
    j["ips"] = list;
  }
  if (!r.routes.empty()) {
    OrderedJson list = OrderedJson::array();
    for (const auto& rt : r.routes)
      list.push_back(routeJson(rt, v11));
    j["routes"] = list;
  }
  j["dns"] = dnsJson(r.dns);
  return j;
}

CniResult<RuntimeConfig> parseRuntimeConfig(const Json& j) {
  RuntimeConfig out;
  auto r = CNI_TRY(withCode(openConfig(j, "runtimeConfig"), kInvalidNetworkConfig));
  auto readMapping = [](const JsonReader& m, PortMapping& pm) -> Status {
    BERTH_TRY(m.required("hostPort", pm.hostPort));
    BERTH_TRY(m.required("containerPort", pm.containerPort));
    BERTH_TRY(m.optional("protocol", pm.protocol));
    BERTH_TRY(m.optional("hostIP", pm.hostIP));
    if (pm.hostPort < 1 || pm.hostPort > 65535) {
      return m.invalid("hostPort", "must be a port number (1-65535), not {}", pm.hostPort);
    }
    if (pm.containerPort < 1 || pm.containerPort > 65535) {
      return m.invalid("containerPort", "must be a port number (1-65535), not {}",
                       pm.containerPort);
    }
    std::transform(pm.protocol.begin(), pm.protocol.end(), pm.protocol.begin(), ::tolower);
    if (pm.protocol.empty()) pm.protocol = "tcp";
    if (pm.protocol != "tcp" && pm.protocol != "udp" && pm.protocol != "sctp") {
      return m.invalid("protocol", "unknown protocol \"{}\" (tcp, udp or sctp)", pm.protocol);
    }
    if (!pm.hostIP.empty() && !IpAddr::parse(pm.hostIP)) {
      return m.invalid("hostIP", "invalid IP address \"{}\"", pm.hostIP);
    }
    return {};
  };
  CNI_TRY(
      withCode(r.objects("portMappings", out.portMappings, readMapping), kInvalidNetworkConfig));
  std::vector<std::string> ips;
  CNI_TRY(withCode(r.optional("ips", ips), kInvalidNetworkConfig));
  for (size_t i = 0; i < ips.size(); ++i) {
    // An address with or without a prefix length, as the reference accepts.
    auto net = IpNet::parse(ips[i]);
    if (!net) {
      if (auto ip = IpAddr::parse(ips[i])) net = IpNet(*ip, ip->bits());
    }
    if (!net) {
      return cniFail(kInvalidNetworkConfig, "runtimeConfig.ips[{}]: invalid IP address \"{}\"", i,
                     ips[i]);
    }
    out.ips.push_back(*net);
  }
  CNI_TRY(withCode(r.optional("mac", out.mac), kInvalidNetworkConfig));
  return out;
}

CniResult<NetConf> parseNetConf(std::string_view stdinData, ParseMode mode) {
  NetConf c;
  c.raw = Json::parse(stdinData, nullptr, false);
  if (c.raw.is_discarded()) {
    return cniFail(kDecodeFailure, "failed to parse network configuration: invalid JSON");
  }
  auto r = CNI_TRY(withCode(openConfig(c.raw, ""), kDecodeFailure));
  // Each part is read on its own: for DEL, one that does not parse is left out (and noted), so
  // that DEL still releases what it can find (CNI spec: DEL must complete even when resources
  // are missing; a config ADD refused is no reason to leak the attachment).
  auto part = [&](CniStatus s) -> CniStatus {
    if (s || mode == ParseMode::kStrict) return s;
    c.ignored.push_back(s.error().msg);
    return {};
  };
  auto wrap = [&](Status s) { return part(withCode(std::move(s), kInvalidNetworkConfig)); };
  CNI_TRY(wrap(r.optional("cniVersion", c.cniVersion)));
  CNI_TRY(wrap(r.optional("name", c.name)));
  CNI_TRY(wrap(r.required("type", c.type)));
  if (r.has("ipam")) {
    CNI_TRY(wrap(r.object("ipam", c.ipamType, [](const JsonReader& ipam, std::string& t) {
      return ipam.optional("type", t);
    })));
  }
  CNI_TRY(wrap(r.object("dns", c.dns, readDns)));
  if (const Json* rc = member(c.raw, "runtimeConfig")) {
    auto runtimeConfig = parseRuntimeConfig(*rc);
    if (runtimeConfig) c.runtimeConfig = std::move(*runtimeConfig);
    CNI_TRY(part(runtimeConfig ? CniStatus() : std::unexpected(runtimeConfig.error())));
  }
  if (const Json* prevJson = member(c.raw, "prevResult")) {
    auto prev = parseResult(*prevJson);
    if (prev) c.prevResult = std::move(*prev);
    CNI_TRY(part(prev ? CniStatus() : cniFail(kDecodeFailure, "prevResult: {}", prev.error().msg)));
  }
  auto readAttachment = [](const JsonReader& a, Attachment& out) -> Status {
    BERTH_TRY(a.required("containerID", out.containerID));
    BERTH_TRY(a.required("ifname", out.ifname));
    return {};
  };
  CNI_TRY(wrap(r.objects("cni.dev/valid-attachments", c.validAttachments, readAttachment)));
  return c;
}

CniResult<std::map<std::string, std::string>> parseCniArgs(std::string_view args) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= args.size() && !args.empty()) {
    auto end = args.find(';', pos);
    auto pair =
        args.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        return cniFail(kInvalidEnvironment, "CNI_ARGS: invalid pair \"{}\" (want KEY=VALUE)", pair);
      }
      out[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
    }
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return out;
}

CniStatus validateContainerId(std::string_view id) {
  if (id.empty()) return cniFail(kInvalidEnvironment, "CNI_CONTAINERID: missing containerID");
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  bool ok = alnum(id[0]) && std::all_of(id.begin(), id.end(), [&](char c) {
              return alnum(c) || c == '_' || c == '.' || c == '-';
            });
  if (!ok) {
    return cniFail(kInvalidEnvironment, "CNI_CONTAINERID: invalid characters in containerID \"{}\"",
                   id);
  }
  return {};
}

CniStatus validateInterfaceName(std::string_view name) {
  if (name.empty()) return cniFail(kInvalidEnvironment, "CNI_IFNAME: interface name is empty");
  if (name.size() > 15) {
    return cniFail(kInvalidEnvironment, "CNI_IFNAME: interface name \"{}\" is longer than 15",
                   name);
  }
  if (name == "." || name == "..") {
    return cniFail(kInvalidEnvironment, "CNI_IFNAME: interface name \"{}\" is not allowed", name);
  }
  for (char c : name) {
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c))) {
      return cniFail(kInvalidEnvironment,
                     "CNI_IFNAME: interface name \"{}\" contains '/', ':' or whitespace", name);
    }
  }
  return {};
}

}  // namespace berth::cni
