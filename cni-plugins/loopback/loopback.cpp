#include "cni-plugins/loopback/loopback.h"

#include <cerrno>

namespace berth::cni::loopback {

namespace {

CniResult<LinkInfo> lo(Netlink& nl) {
  auto link = CNI_TRY(asCni(nl.linkByName("lo")));
  if (!link) return cniFail(kInternal, "no loopback interface in the container's namespace");
  return *link;
}

CniResult<std::unique_ptr<Netlink>> openIn(const std::string& path) {
  auto ns = CNI_TRY_ERR(NetNs::open(path), kInternal);
  auto nl = CNI_TRY(asCni(MnlNetlink::openIn(ns)));
  return std::unique_ptr<Netlink>(std::move(nl));
}

}  // namespace

CniResult<PluginResult> add(Netlink& nl, const CmdArgs& args) {
  auto link = CNI_TRY(lo(nl));
  CNI_TRY(asCni(nl.setUp(link.index, true)));
  // A chained loopback passes the previous result on.
  if (args.conf.prevResult) return *args.conf.prevResult;
  PluginResult r;
  r.interfaces.push_back({"lo", "00:00:00:00:00:00", std::nullopt, args.netns, "", ""});
  for (int family : {4, 6}) {
    auto addrs = CNI_TRY(asCni(nl.addresses(link.index, family)));
    if (!addrs.empty()) r.ips.push_back({addrs[0], std::nullopt, 0});
  }
  return r;
}

CniStatus del(Netlink& nl) {
  auto link = CNI_TRY(lo(nl));
  return asCni(nl.setUp(link.index, false));
}

CniStatus check(Netlink& nl) {
  auto link = CNI_TRY(lo(nl));
  if (!link.up()) return cniFail(kInternal, "loopback interface is down");
  return {};
}

Plugin plugin() {
  Plugin p;
  p.about = "berth loopback plugin " BERTH_VERSION " (CNI 1.1)";
  p.add = [](const CmdArgs& a) -> CniResult<PluginResult> {
    auto nl = CNI_TRY(openIn(a.netns));
    return add(*nl, a);
  };
  p.del = [](const CmdArgs& a) -> CniStatus {
    // Nothing to do without a namespace: it (and its lo) is gone, or was never given.
    if (a.netns.empty()) return {};
    auto ns = NetNs::open(a.netns);
    if (!ns && ns.error().sysErrno() == ENOENT) return {};
    auto nl = CNI_TRY(openIn(a.netns));
    return del(*nl);
  };
  p.check = [](const CmdArgs& a) -> CniStatus {
    auto nl = CNI_TRY(openIn(a.netns));
    return check(*nl);
  };
  return p;
}

}  // namespace berth::cni::loopback
