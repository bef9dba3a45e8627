#include "common/netlink.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <functional>

#include <fmt/format.h>

#include "common/file_util.h"

namespace berth {

std::string formatMac(const MacAddr& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                     m[5]);
}

std::optional<MacAddr> parseMac(std::string_view text) {
  MacAddr m{};
  if (text.size() != 17) return std::nullopt;
  for (size_t i = 0; i < 6; ++i) {
    if (i > 0 && text[i * 3 - 1] != ':' && text[i * 3 - 1] != '-') return std::nullopt;
    unsigned v = 0;
    for (size_t k = 0; k < 2; ++k) {
      char c = text[i * 3 + k];
      int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
              : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
              : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                          : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + static_cast<unsigned>(d);
    }
    m[i] = static_cast<uint8_t>(v);
  }
  return m;
}

bool LinkInfo::up() const {
  return (flags & IFF_UP) != 0;
}

struct MnlNetlink::Request {
  std::vector<char> buf = std::vector<char>(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh;
  std::function<void(const nlmsghdr*)> onReply;

  Request(uint16_t type, uint16_t flags) {
    nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  }
  template <class T>
  T* extra() {
    return static_cast<T*>(mnl_nlmsg_put_extra_header(nlh, sizeof(T)));
  }
};

namespace {

using Request = MnlNetlink::Request;

int family(const IpAddr& ip) {
  return ip.isV4() ? AF_INET : AF_INET6;
}

// libmnl's iteration macros assign void* (C only); the same walk, typed.
template <class F>
void forEachAttr(const nlmsghdr* nlh, size_t offset, F&& f) {
  const auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, offset));
  const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  while (mnl_attr_ok(a, static_cast<int>(tail - reinterpret_cast<const char*>(a)))) {
    f(a);
    a = mnl_attr_next(a);
  }
}
template <class F>
void forEachNested(const nlattr* nest, F&& f) {
  const auto* a = static_cast<const nlattr*>(mnl_attr_get_payload(nest));
  const char* tail = reinterpret_cast<const char*>(nest) + nest->nla_len;
  while (mnl_attr_ok(a, static_cast<int>(tail - reinterpret_cast<const char*>(a)))) {
    f(a);
    a = mnl_attr_next(a);
  }
}

void putAddr(nlmsghdr* nlh, uint16_t type, const IpAddr& ip) {
  mnl_attr_put(nlh, type, ip.size(), ip.data());
}

std::optional<IpAddr> addrFrom(const nlattr* a, int fam) {
  auto len = mnl_attr_get_payload_len(a);
  const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
  if (fam == AF_INET && len == 4) {
    return IpAddr::v4((uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) |
                      p[3]);
  }
  if (fam == AF_INET6 && len == 16) {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, p, buf, sizeof buf);
    return IpAddr::parse(buf);
  }
  return std::nullopt;
}

LinkInfo parseLink(const nlmsghdr* nlh) {
  LinkInfo l;
  const auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  l.index = ifm->ifi_index;
  l.flags = ifm->ifi_flags;
  forEachAttr(nlh, sizeof(*ifm), [&](const nlattr* a) {
    switch (mnl_attr_get_type(a)) {
      case IFLA_IFNAME:
        l.name = mnl_attr_get_str(a);
        break;
      case IFLA_MTU:
        l.mtu = static_cast<int>(mnl_attr_get_u32(a));
        break;
      case IFLA_MASTER:
        l.master = static_cast<int>(mnl_attr_get_u32(a));
        break;
      case IFLA_ADDRESS:
        if (mnl_attr_get_payload_len(a) == 6) {
          std::memcpy(l.mac.data(), mnl_attr_get_payload(a), 6);
        }
        break;
      case IFLA_LINKINFO:
        forEachNested(a, [&](const nlattr* n) {
          if (mnl_attr_get_type(n) == IFLA_INFO_KIND) l.kind = mnl_attr_get_str(n);
        });
        break;
      default:
        break;
    }
  });
  return l;
}

int replyCb(const nlmsghdr* nlh, void* data) {
  auto* req = static_cast<Request*>(data);
  if (req->onReply) req->onReply(nlh);
  return MNL_CB_OK;
}

Request linkRequest(uint16_t type, uint16_t flags, int index) {
  Request r(type, flags);
  auto* ifm = r.extra<ifinfomsg>();
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = index;
  return r;
}

}  // namespace

MnlNetlink::MnlNetlink(mnl_socket* sock)
    : sock_(sock),
      portId_(mnl_socket_get_portid(sock)),
      seq_(static_cast<unsigned>(time(nullptr))) {}

MnlNetlink::~MnlNetlink() {
  mnl_socket_close(sock_);
}

Result<std::unique_ptr<MnlNetlink>> MnlNetlink::open() {
  mnl_socket* s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (s == nullptr) return failErrno("netlink socket");
  if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    mnl_socket_close(s);
    return failErrno(err, "netlink bind");
  }
  return std::unique_ptr<MnlNetlink>(new MnlNetlink(s));
}

Result<std::unique_ptr<MnlNetlink>> MnlNetlink::openIn(const NetNs& ns) {
  return inNetNs(ns, [] { return open(); });
}

Status MnlNetlink::transact(Request& req, std::string_view what, bool ignoreMissing) {
  bool dump = (req.nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  if (!dump) req.nlh->nlmsg_flags |= NLM_F_ACK;
  unsigned seq = ++seq_;
  req.nlh->nlmsg_seq = seq;
  if (mnl_socket_sendto(sock_, req.nlh, req.nlh->nlmsg_len) < 0) {
    return failErrno(fmt::format("netlink: {}", what));
  }
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 4);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sock_, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return failErrno(fmt::format("netlink: {}", what));
    }
    int ret = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portId_, replyCb, &req);
    if (ret < 0) {
      int err = errno;
      if (ignoreMissing &&
          (err == ENODEV || err == ENOENT || err == ESRCH || err == EADDRNOTAVAIL)) {
        return {};
      }
      return failErrno(err, fmt::format("netlink: {}", what));
    }
    if (ret == MNL_CB_STOP) return {};
  }
}

Result<std::optional<LinkInfo>> MnlNetlink::linkByName(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return fail(Code::kInvalidArgument, "invalid interface name \"{}\"", name);
  }
  auto req = linkRequest(RTM_GETLINK, 0, 0);
  mnl_attr_put_strz(req.nlh, IFLA_IFNAME, name.c_str());
  std::optional<LinkInfo> out;
  req.onReply = [&](const nlmsghdr* nlh) { out = parseLink(nlh); };
  auto s = transact(req, "get link " + name);
  if (!s) {
    if (s.error().sysErrno() == ENODEV) return std::nullopt;
    return std::unexpected(s.error());
  }
  return out;
}

Result<std::optional<LinkInfo>> MnlNetlink::linkByIndex(int index) {
  auto req = linkRequest(RTM_GETLINK, 0, index);
  std::optional<LinkInfo> out;
  req.onReply = [&](const nlmsghdr* nlh) { out = parseLink(nlh); };
  auto s = transact(req, fmt::format("get link {}", index));
  if (!s) {
    if (s.error().sysErrno() == ENODEV) return std::nullopt;
    return std::unexpected(s.error());
  }
  return out;
}

Result<std::vector<LinkInfo>> MnlNetlink::links() {
  auto req = linkRequest(RTM_GETLINK, NLM_F_DUMP, 0);
  std::vector<LinkInfo> out;
  req.onReply = [&](const nlmsghdr* nlh) { out.push_back(parseLink(nlh)); };
  BERTH_TRY(transact(req, "list links"));
  return out;
}

Status MnlNetlink::createVeth(const VethSpec& spec) {
  auto req = linkRequest(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
  mnl_attr_put_strz(req.nlh, IFLA_IFNAME, spec.name.c_str());
  if (spec.mtu > 0) mnl_attr_put_u32(req.nlh, IFLA_MTU, static_cast<uint32_t>(spec.mtu));
  nlattr* info = mnl_attr_nest_start(req.nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(req.nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(req.nlh, IFLA_INFO_DATA);
  nlattr* peer = mnl_attr_nest_start(req.nlh, VETH_INFO_PEER);
  // The peer's own ifinfomsg sits at the start of the VETH_INFO_PEER payload.
  auto* pifm = static_cast<ifinfomsg*>(mnl_nlmsg_get_payload_tail(req.nlh));
  std::memset(pifm, 0, sizeof(*pifm));
  req.nlh->nlmsg_len += MNL_ALIGN(sizeof(ifinfomsg));
  mnl_attr_put_strz(req.nlh, IFLA_IFNAME, spec.peerName.c_str());
  if (spec.mtu > 0) mnl_attr_put_u32(req.nlh, IFLA_MTU, static_cast<uint32_t>(spec.mtu));
  if (spec.peerMac) mnl_attr_put(req.nlh, IFLA_ADDRESS, 6, spec.peerMac->data());
  if (spec.peerNetnsFd >= 0) {
    mnl_attr_put_u32(req.nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(spec.peerNetnsFd));
  }
  mnl_attr_nest_end(req.nlh, peer);
  mnl_attr_nest_end(req.nlh, data);
  mnl_attr_nest_end(req.nlh, info);
  return transact(req, fmt::format("create veth {} (peer {})", spec.name, spec.peerName));
}

Status MnlNetlink::createBridge(const BridgeSpec& spec) {
  auto req = linkRequest(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
  mnl_attr_put_strz(req.nlh, IFLA_IFNAME, spec.name.c_str());
  if (spec.mtu > 0) mnl_attr_put_u32(req.nlh, IFLA_MTU, static_cast<uint32_t>(spec.mtu));
  nlattr* info = mnl_attr_nest_start(req.nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(req.nlh, IFLA_INFO_KIND, "bridge");
  if (spec.vlanFiltering) {
    nlattr* data = mnl_attr_nest_start(req.nlh, IFLA_INFO_DATA);
    mnl_attr_put_u8(req.nlh, IFLA_BR_VLAN_FILTERING, 1);
    mnl_attr_nest_end(req.nlh, data);
  }
  mnl_attr_nest_end(req.nlh, info);
  return transact(req, "create bridge " + spec.name);
}

Status MnlNetlink::createVxlan(const VxlanSpec& spec) {
  auto req = linkRequest(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
  mnl_attr_put_strz(req.nlh, IFLA_IFNAME, spec.name.c_str());
  if (spec.mtu > 0) mnl_attr_put_u32(req.nlh, IFLA_MTU, static_cast<uint32_t>(spec.mtu));
  nlattr* info = mnl_attr_nest_start(req.nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(req.nlh, IFLA_INFO_KIND, "vxlan");
  nlattr* data = mnl_attr_nest_start(req.nlh, IFLA_INFO_DATA);
  mnl_attr_put_u32(req.nlh, IFLA_VXLAN_ID, spec.vni);
  mnl_attr_put_u16(req.nlh, IFLA_VXLAN_PORT, htons(static_cast<uint16_t>(spec.port)));
  if (spec.local) {
    putAddr(req.nlh, spec.local->isV4() ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6, *spec.local);
  }
  if (spec.underlayIndex > 0) {
    mnl_attr_put_u32(req.nlh, IFLA_VXLAN_LINK, static_cast<uint32_t>(spec.underlayIndex));
  }
  mnl_attr_put_u8(req.nlh, IFLA_VXLAN_LEARNING, spec.learning ? 1 : 0);
  mnl_attr_nest_end(req.nlh, data);
  mnl_attr_nest_end(req.nlh, info);
  return transact(req, "create vxlan " + spec.name);
}

Status MnlNetlink::deleteLink(int index) {
  auto req = linkRequest(RTM_DELLINK, 0, index);
  return transact(req, fmt::format("delete link {}", index), true);
}

Status MnlNetlink::setUp(int index, bool up) {
  auto req = linkRequest(RTM_NEWLINK, 0, index);
  auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_get_payload(req.nlh));
  ifm->ifi_change = IFF_UP;
  ifm->ifi_flags = up ? IFF_UP : 0;
  return transact(req, fmt::format("set link {} {}", index, up ? "up" : "down"));
}

Status MnlNetlink::setPromisc(int index, bool on) {
  auto req = linkRequest(RTM_NEWLINK, 0, index);
  auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_get_payload(req.nlh));
  ifm->ifi_change = IFF_PROMISC;
  ifm->ifi_flags = on ? IFF_PROMISC : 0;
  return transact(req, fmt::format("set link {} promisc", index));
}

Status MnlNetlink::setMtu(int index, int mtu) {
  auto req = linkRequest(RTM_NEWLINK, 0, index);
  mnl_attr_put_u32(req.nlh, IFLA_MTU, static_cast<uint32_t>(mtu));
  return transact(req, fmt::format("set link {} mtu {}", index, mtu));
}

Status MnlNetlink::setMac(int index, const MacAddr& mac) {
  auto req = linkRequest(RTM_NEWLINK, 0, index);
  mnl_attr_put(req.nlh, IFLA_ADDRESS, 6, mac.data());
  return transact(req, fmt::format("set link {} address {}", index, formatMac(mac)));
}

Status MnlNetlink::setMaster(int index, int masterIndex) {
  auto req = linkRequest(RTM_NEWLINK, 0, index);
  mnl_attr_put_u32(req.nlh, IFLA_MASTER, static_cast<uint32_t>(masterIndex));
  return transact(req, fmt::format("set link {} master {}", index, masterIndex));
}

Status MnlNetlink::setNetns(int index, int netnsFd) {
  auto req = linkRequest(RTM_NEWLINK, 0, index);
  mnl_attr_put_u32(req.nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(netnsFd));
  return transact(req, fmt::format("move link {} to netns", index));
}

Status MnlNetlink::setHairpin(int index, bool on) {
  auto req = linkRequest(RTM_SETLINK, 0, index);
  static_cast<ifinfomsg*>(mnl_nlmsg_get_payload(req.nlh))->ifi_family = AF_BRIDGE;
  nlattr* prot = mnl_attr_nest_start(req.nlh, IFLA_PROTINFO | NLA_F_NESTED);
  mnl_attr_put_u8(req.nlh, IFLA_BRPORT_MODE, on ? 1 : 0);
  mnl_attr_nest_end(req.nlh, prot);
  return transact(req, fmt::format("set link {} hairpin", index));
}

Status MnlNetlink::setPortVlan(int index, int vid) {
  auto req = linkRequest(RTM_SETLINK, 0, index);
  static_cast<ifinfomsg*>(mnl_nlmsg_get_payload(req.nlh))->ifi_family = AF_BRIDGE;
  nlattr* spec = mnl_attr_nest_start(req.nlh, IFLA_AF_SPEC);
  bridge_vlan_info vinfo{};
  vinfo.flags = BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED;
  vinfo.vid = static_cast<uint16_t>(vid);
  mnl_attr_put(req.nlh, IFLA_BRIDGE_VLAN_INFO, sizeof(vinfo), &vinfo);
  mnl_attr_nest_end(req.nlh, spec);
  return transact(req, fmt::format("set link {} vlan {}", index, vid));
}

namespace {

Request addrRequest(uint16_t type, uint16_t flags, int index, const IpNet& addr) {
  Request r(type, flags);
  auto* ifa = r.extra<ifaddrmsg>();
  ifa->ifa_family = static_cast<uint8_t>(family(addr.ip()));
  ifa->ifa_prefixlen = static_cast<uint8_t>(addr.prefix());
  ifa->ifa_index = static_cast<uint32_t>(index);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  putAddr(r.nlh, IFA_LOCAL, addr.ip());
  putAddr(r.nlh, IFA_ADDRESS, addr.ip());
  if (addr.ip().isV4() && addr.prefix() < 31) putAddr(r.nlh, IFA_BROADCAST, addr.broadcast());
  return r;
}

}  // namespace

Status MnlNetlink::addAddress(int index, const IpNet& addr) {
  auto req = addrRequest(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, index, addr);
  if (addr.ip().isV6()) {
    // No duplicate address detection: the address is usable at once (as the reference plugins).
    mnl_attr_put_u32(req.nlh, IFA_FLAGS, IFA_F_NODAD);
  }
  return transact(req, fmt::format("add address {} to link {}", addr.str(), index));
}

Status MnlNetlink::deleteAddress(int index, const IpNet& addr) {
  auto req = addrRequest(RTM_DELADDR, 0, index, addr);
  return transact(req, fmt::format("delete address {} from link {}", addr.str(), index), true);
}

Result<std::vector<IpNet>> MnlNetlink::addresses(int index, int fam) {
  Request req(RTM_GETADDR, NLM_F_DUMP);
  auto* ifa = req.extra<ifaddrmsg>();
  ifa->ifa_family = fam == 4 ? AF_INET : fam == 6 ? AF_INET6 : AF_UNSPEC;
  std::vector<IpNet> out;
  req.onReply = [&](const nlmsghdr* nlh) {
    const auto* m = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
    if (index != 0 && static_cast<int>(m->ifa_index) != index) return;
    std::optional<IpAddr> local, address;
    forEachAttr(nlh, sizeof(*m), [&](const nlattr* a) {
      if (mnl_attr_get_type(a) == IFA_LOCAL) local = addrFrom(a, m->ifa_family);
      if (mnl_attr_get_type(a) == IFA_ADDRESS) address = addrFrom(a, m->ifa_family);
    });
    auto ip = local ? local : address;
    if (ip) out.emplace_back(*ip, m->ifa_prefixlen);
  };
  BERTH_TRY(transact(req, fmt::format("list addresses of link {}", index)));
  return out;
}

namespace {

Request routeRequest(uint16_t type, uint16_t flags, const RouteSpec& r) {
  Request req(type, flags);
  auto* rtm = req.extra<rtmsg>();
  rtm->rtm_family = static_cast<uint8_t>(family(r.dst.ip()));
  rtm->rtm_dst_len = static_cast<uint8_t>(r.dst.prefix());
  int table = r.table.value_or(RT_TABLE_MAIN);
  rtm->rtm_table = static_cast<uint8_t>(table < 256 ? table : int{RT_TABLE_UNSPEC});
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_scope = static_cast<uint8_t>(r.scope.value_or(r.gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK));
  rtm->rtm_type = RTN_UNICAST;
  if (r.onlink) rtm->rtm_flags |= RTNH_F_ONLINK;
  if (table >= 256) mnl_attr_put_u32(req.nlh, RTA_TABLE, static_cast<uint32_t>(table));
  putAddr(req.nlh, RTA_DST, r.dst.network());
  if (r.gw) putAddr(req.nlh, RTA_GATEWAY, *r.gw);
  if (r.oif > 0) mnl_attr_put_u32(req.nlh, RTA_OIF, static_cast<uint32_t>(r.oif));
  if (r.priority) mnl_attr_put_u32(req.nlh, RTA_PRIORITY, static_cast<uint32_t>(*r.priority));
  if (r.mtu || r.advmss) {
    nlattr* m = mnl_attr_nest_start(req.nlh, RTA_METRICS);
    if (r.mtu) mnl_attr_put_u32(req.nlh, RTAX_MTU, static_cast<uint32_t>(*r.mtu));
    if (r.advmss) mnl_attr_put_u32(req.nlh, RTAX_ADVMSS, static_cast<uint32_t>(*r.advmss));
    mnl_attr_nest_end(req.nlh, m);
  }
  return req;
}

std::string describe(const RouteSpec& r) {
  return fmt::format("route {}{}", r.dst.canonical().str(), r.gw ? " via " + r.gw->str() : "");
}

}  // namespace

Status MnlNetlink::addRoute(const RouteSpec& route) {
  auto req = routeRequest(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, route);
  return transact(req, "add " + describe(route));
}

Status MnlNetlink::deleteRoute(const RouteSpec& route) {
  auto req = routeRequest(RTM_DELROUTE, 0, route);
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_get_payload(req.nlh));
  rtm->rtm_scope = RT_SCOPE_NOWHERE;  // any scope
  rtm->rtm_protocol = 0;
  return transact(req, "delete " + describe(route), true);
}

Result<std::vector<RouteInfo>> MnlNetlink::routes(int fam) {
  Request req(RTM_GETROUTE, NLM_F_DUMP);
  auto* rtm = req.extra<rtmsg>();
  rtm->rtm_family = fam == 4 ? AF_INET : fam == 6 ? AF_INET6 : AF_UNSPEC;
  std::vector<RouteInfo> out;
  req.onReply = [&](const nlmsghdr* nlh) {
    const auto* m = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
    RouteInfo r;
    r.table = m->rtm_table;
    std::optional<IpAddr> dst;
    forEachAttr(nlh, sizeof(*m), [&](const nlattr* a) {
      switch (mnl_attr_get_type(a)) {
        case RTA_DST:
          dst = addrFrom(a, m->rtm_family);
          break;
        case RTA_GATEWAY:
          r.gw = addrFrom(a, m->rtm_family);
          break;
        case RTA_OIF:
          r.oif = static_cast<int>(mnl_attr_get_u32(a));
          break;
        case RTA_TABLE:
          r.table = static_cast<int>(mnl_attr_get_u32(a));
          break;
        default:
          break;
      }
    });
    if (!dst) dst = m->rtm_family == AF_INET ? *IpAddr::parse("0.0.0.0") : *IpAddr::parse("::");
    r.dst = IpNet(*dst, m->rtm_dst_len);
    out.push_back(r);
  };
  BERTH_TRY(transact(req, "list routes"));
  return out;
}

namespace {

Request neighRequest(uint16_t type, uint16_t flags, const NeighSpec& n) {
  Request req(type, flags);
  auto* ndm = req.extra<ndmsg>();
  ndm->ndm_ifindex = n.index;
  ndm->ndm_state = NUD_PERMANENT;
  if (n.fdb) {
    ndm->ndm_family = AF_BRIDGE;
    ndm->ndm_flags = NTF_SELF;
  } else {
    ndm->ndm_family = static_cast<uint8_t>(n.ip ? family(*n.ip) : AF_INET);
  }
  if (n.ip) putAddr(req.nlh, NDA_DST, *n.ip);
  mnl_attr_put(req.nlh, NDA_LLADDR, 6, n.mac.data());
  return req;
}

}  // namespace

Status MnlNetlink::addNeigh(const NeighSpec& n) {
  auto req = neighRequest(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, n);
  auto s =
      transact(req, fmt::format("add {} {}", n.fdb ? "fdb entry" : "neighbour", formatMac(n.mac)));
  if (!s && n.fdb && s.error().sysErrno() == EEXIST) return {};
  return s;
}

Status MnlNetlink::deleteNeigh(const NeighSpec& n) {
  auto req = neighRequest(RTM_DELNEIGH, 0, n);
  return transact(
      req, fmt::format("delete {} {}", n.fdb ? "fdb entry" : "neighbour", formatMac(n.mac)), true);
}

namespace {

std::string sysctlPath(std::string_view name) {
  std::string p = "/proc/sys/";
  for (char c : name)
    p += c == '.' ? '/' : c;
  return p;
}

}  // namespace

Status writeSysctl(std::string_view name, std::string_view value) {
  return writeKernelFile(sysctlPath(name), value);
}

Result<std::string> readSysctl(std::string_view name) {
  auto v = BERTH_TRY(readFile(sysctlPath(name)));
  while (!v.empty() && (v.back() == '\n' || v.back() == ' '))
    v.pop_back();
  return v;
}

}  // namespace berth
