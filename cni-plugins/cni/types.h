#pragma once
// CNI 1.1 types (SPEC.md): the network configuration a plugin reads on stdin, the runtime's
// capability args (runtimeConfig), CNI_ARGS, and the Result with its conversion to every older
// version a runtime may ask for (1.0.0, 0.4.0, 0.3.1, 0.3.0, 0.2.0, 0.1.0).

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cni-plugins/cni/error.h"
#include "common/ip.h"

namespace berth::cni {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

inline constexpr std::string_view kCurrentVersion = "1.1.0";
// The versions our plugins accept and can write results in (VERSION's supportedVersions).
std::span<const std::string_view> supportedVersions();
bool isSupportedVersion(std::string_view v);
// Orders "x.y.z" numerically: <0, 0, >0. Unparseable versions sort first.
int compareVersions(std::string_view a, std::string_view b);

// ---- Result (SPEC.md "Success") ----
struct Interface {
  std::string name;
  std::string mac;
  std::optional<int> mtu;  // 1.1
  std::string sandbox;
  std::string socketPath;  // 1.1
  std::string pciID;       // 1.1
};

struct IpConfig {
  IpNet address;  // the address with its prefix length
  std::optional<IpAddr> gateway;
  std::optional<int> interface;  // index into interfaces
};

struct Route {
  IpNet dst;
  std::optional<IpAddr> gw;
  std::optional<int> mtu, advmss, priority, table, scope;  // 1.1
};

struct Dns {
  std::vector<std::string> nameservers;
  std::string domain;
  std::vector<std::string> search;
  std::vector<std::string> options;
  bool empty() const {
    return nameservers.empty() && domain.empty() && search.empty() && options.empty();
  }
};

struct CniResultData {
  std::string cniVersion{kCurrentVersion};
  std::vector<Interface> interfaces;
  std::vector<IpConfig> ips;
  std::vector<Route> routes;
  Dns dns;
};
using PluginResult = CniResultData;

// Reads a result written in any supported version (a prevResult, a cached result, a delegated
// IPAM plugin's output). Errors are kDecodeFailure naming the field.
[[nodiscard]] CniResult<PluginResult> parseResult(const Json& j);
// Writes the result in `version`; fails (kIncompatibleVersion) for an unsupported version or a
// result the old format can't hold (0.2.0: more than one address per family).
[[nodiscard]] CniResult<OrderedJson> resultToJson(const PluginResult& r, std::string_view version);

// ---- Network configuration (SPEC.md "Network configuration") ----
struct PortMapping {
  int hostPort = 0;
  int containerPort = 0;
  std::string protocol = "tcp";  // tcp, udp, sctp
  std::string hostIP;            // empty: every host address
};

// The runtimeConfig capability args the runtime filled in (conventions.md).
struct RuntimeConfig {
  std::vector<PortMapping> portMappings;
  std::vector<IpNet> ips;  // "ips": addresses requested for the attachment
  std::string mac;
};

// One attachment named by GC's cni.dev/valid-attachments.
struct Attachment {
  std::string containerID;
  std::string ifname;
  auto operator<=>(const Attachment&) const = default;
};

struct NetConf {
  std::string cniVersion;
  std::string name;
  std::string type;
  std::string ipamType;  // ipam.type, empty without ipam
  Dns dns;
  RuntimeConfig runtimeConfig;
  std::optional<PluginResult> prevResult;
  std::vector<Attachment> validAttachments;  // GC only
  Json raw;                                  // the whole document, for plugin-specific keys
  std::vector<std::string> ignored;          // kDel: the parts that did not parse, left out
};

enum class ParseMode {
  kStrict,
  // DEL: a part that does not parse (runtimeConfig, prevResult, dns, ipam, even the type) is left
  // out and its error kept in `ignored`; only a document that is not a JSON object is an error.
  kDel,
};

// Parses the config a plugin got on stdin. Errors: kDecodeFailure for bad JSON, otherwise
// kInvalidNetworkConfig naming the field ("runtimeConfig.portMappings[0].hostPort: ...").
[[nodiscard]] CniResult<NetConf> parseNetConf(std::string_view stdinData,
                                              ParseMode mode = ParseMode::kStrict);
[[nodiscard]] CniResult<RuntimeConfig> parseRuntimeConfig(const Json& j);

// CNI_ARGS "K1=V1;K2=V2" (IgnoreUnknown and friends are up to the plugin). Bad syntax fails with
// kInvalidEnvironment naming CNI_ARGS.
[[nodiscard]] CniResult<std::map<std::string, std::string>> parseCniArgs(std::string_view args);

// Validation of runtime-provided names, as the reference skel does it.
[[nodiscard]] CniStatus validateContainerId(std::string_view id);
[[nodiscard]] CniStatus validateInterfaceName(std::string_view name);

}  // namespace berth::cni
