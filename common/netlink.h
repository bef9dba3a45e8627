#pragma once
// rtnetlink through libmnl: links (veth, bridge, vxlan), addresses, routes, neighbours and bridge
// FDB entries. `Netlink` is the seam plugin logic is written against (fakes in unit tests);
// `MnlNetlink` talks to the kernel over a socket bound to one network namespace.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/netns.h"
#include "common/result.h"

struct mnl_socket;

namespace berth {

using MacAddr = std::array<uint8_t, 6>;
std::string formatMac(const MacAddr& mac);
std::optional<MacAddr> parseMac(std::string_view text);

struct LinkInfo {
  int index = 0;
  std::string name;
  std::string kind;  // "bridge", "veth", "vxlan", "" for a physical or loopback device
  int mtu = 0;
  MacAddr mac{};
  unsigned flags = 0;  // IFF_UP, IFF_PROMISC, ...
  int master = 0;      // the bridge a port is enslaved to, or 0
  bool up() const;
};

struct VethSpec {
  std::string name;      // in this socket's namespace
  std::string peerName;  // created directly in peerNetns
  int mtu = 0;           // 0: the kernel's default
  std::optional<MacAddr> peerMac;
  int peerNetnsFd = -1;  // -1: the peer stays in this namespace
};

struct BridgeSpec {
  std::string name;
  int mtu = 0;
  bool vlanFiltering = false;
};

struct VxlanSpec {
  std::string name;
  uint32_t vni = 1;
  int port = 8472;
  std::optional<IpAddr> local;
  int underlayIndex = 0;  // the device VXLAN packets leave by, or 0
  int mtu = 0;
  bool learning = false;
};

struct RouteSpec {
  IpNet dst;
  std::optional<IpAddr> gw;
  int oif = 0;
  std::optional<int> scope;  // RT_SCOPE_*, default universe (link when there is no gateway)
  std::optional<int> table;
  std::optional<int> priority;
  std::optional<int> mtu;
  std::optional<int> advmss;
  bool onlink = false;
};

struct RouteInfo {
  IpNet dst;
  std::optional<IpAddr> gw;
  int oif = 0;
  int table = 0;
};

struct NeighSpec {
  int index = 0;
  std::optional<IpAddr> ip;  // absent for a bridge FDB entry keyed by MAC only
  MacAddr mac{};
  bool fdb = false;  // AF_BRIDGE entry (with `ip` as the VXLAN remote)
};

class Netlink {
 public:
  virtual ~Netlink() = default;

  [[nodiscard]] virtual Result<std::optional<LinkInfo>> linkByName(const std::string& name) = 0;
  [[nodiscard]] virtual Result<std::optional<LinkInfo>> linkByIndex(int index) = 0;
  [[nodiscard]] virtual Result<std::vector<LinkInfo>> links() = 0;
  [[nodiscard]] virtual Status createVeth(const VethSpec& spec) = 0;
  [[nodiscard]] virtual Status createBridge(const BridgeSpec& spec) = 0;
  [[nodiscard]] virtual Status createVxlan(const VxlanSpec& spec) = 0;
  // A deleted or absent link is success.
  [[nodiscard]] virtual Status deleteLink(int index) = 0;
  [[nodiscard]] virtual Status setUp(int index, bool up) = 0;
  [[nodiscard]] virtual Status setMtu(int index, int mtu) = 0;
  [[nodiscard]] virtual Status setMac(int index, const MacAddr& mac) = 0;
  [[nodiscard]] virtual Status setPromisc(int index, bool on) = 0;
  // 0 detaches from the bridge.
  [[nodiscard]] virtual Status setMaster(int index, int masterIndex) = 0;
  [[nodiscard]] virtual Status setNetns(int index, int netnsFd) = 0;
  [[nodiscard]] virtual Status setHairpin(int index, bool on) = 0;
  // The port's VLAN on a vlan_filtering bridge (pvid, untagged).
  [[nodiscard]] virtual Status setPortVlan(int index, int vid) = 0;

  // Existing address is success (replace semantics).
  [[nodiscard]] virtual Status addAddress(int index, const IpNet& addr) = 0;
  [[nodiscard]] virtual Status deleteAddress(int index, const IpNet& addr) = 0;
  // family: 4, 6 or 0 for both.
  [[nodiscard]] virtual Result<std::vector<IpNet>> addresses(int index, int family) = 0;

  [[nodiscard]] virtual Status addRoute(const RouteSpec& route) = 0;     // replace semantics
  [[nodiscard]] virtual Status deleteRoute(const RouteSpec& route) = 0;  // absent is success
  [[nodiscard]] virtual Result<std::vector<RouteInfo>> routes(int family) = 0;

  [[nodiscard]] virtual Status addNeigh(const NeighSpec& neigh) = 0;     // replace semantics
  [[nodiscard]] virtual Status deleteNeigh(const NeighSpec& neigh) = 0;  // absent is success
};

class MnlNetlink final : public Netlink {
 public:
  // A socket in the calling thread's namespace.
  [[nodiscard]] static Result<std::unique_ptr<MnlNetlink>> open();
  // A socket in `ns` (created there, used from anywhere).
  [[nodiscard]] static Result<std::unique_ptr<MnlNetlink>> openIn(const NetNs& ns);
  ~MnlNetlink() override;

  Result<std::optional<LinkInfo>> linkByName(const std::string& name) override;
  Result<std::optional<LinkInfo>> linkByIndex(int index) override;
  Result<std::vector<LinkInfo>> links() override;
  Status createVeth(const VethSpec& spec) override;
  Status createBridge(const BridgeSpec& spec) override;
  Status createVxlan(const VxlanSpec& spec) override;
  Status deleteLink(int index) override;
  Status setUp(int index, bool up) override;
  Status setMtu(int index, int mtu) override;
  Status setMac(int index, const MacAddr& mac) override;
  Status setPromisc(int index, bool on) override;
  Status setMaster(int index, int masterIndex) override;
  Status setNetns(int index, int netnsFd) override;
  Status setHairpin(int index, bool on) override;
  Status setPortVlan(int index, int vid) override;
  Status addAddress(int index, const IpNet& addr) override;
  Status deleteAddress(int index, const IpNet& addr) override;
  Result<std::vector<IpNet>> addresses(int index, int family) override;
  Status addRoute(const RouteSpec& route) override;
  Status deleteRoute(const RouteSpec& route) override;
  Result<std::vector<RouteInfo>> routes(int family) override;
  Status addNeigh(const NeighSpec& neigh) override;
  Status deleteNeigh(const NeighSpec& neigh) override;

  struct Request;

 private:
  explicit MnlNetlink(mnl_socket* sock);
  // Sends the message and runs `cb` on each reply; errors from the kernel's ACK come back with
  // their errno. `what` prefixes error messages.
  Status transact(Request& req, std::string_view what, bool ignoreMissing = false);

  mnl_socket* sock_;
  unsigned portId_;
  unsigned seq_;
};

// Writes a sysctl under /proc/sys (net.ipv4.ip_forward) in the calling thread's namespace.
[[nodiscard]] Status writeSysctl(std::string_view name, std::string_view value);
[[nodiscard]] Result<std::string> readSysctl(std::string_view name);

}  // namespace berth
