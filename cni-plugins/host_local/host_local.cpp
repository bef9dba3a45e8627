#include "cni-plugins/host_local/host_local.h"

#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "cni-plugins/host_local/allocator.h"
#include "cni-plugins/host_local/config.h"
#include "cni-plugins/host_local/store.h"
#include "common/file_util.h"
#include "common/scope_guard.h"

namespace berth::cni::hostlocal {

Dns parseResolvConf(std::string_view text) {
  Dns dns;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key;
    if (!(words >> key) || key[0] == '#' || key[0] == ';') continue;
    std::vector<std::string> values;
    for (std::string w; words >> w;)
      values.push_back(w);
    if (key == "nameserver" && !values.empty()) {
      dns.nameservers.push_back(values[0]);
    } else if (key == "domain" && !values.empty()) {
      dns.domain = values[0];
    } else if (key == "search") {
      dns.search = values;
    } else if (key == "options") {
      dns.options.insert(dns.options.end(), values.begin(), values.end());
    }
  }
  return dns;
}

CniResult<PluginResult> cmdAdd(const CmdArgs& args) {
  auto cfg = CNI_TRY(parseIpamConfig(args.conf, args.args));
  PluginResult result;
  if (!cfg.resolvConf.empty()) {
    auto text = readFile(cfg.resolvConf);
    if (!text) {
      return cniFail(kIoFailure, "ipam.resolvConf: {}", text.error().message());
    }
    result.dns = parseResolvConf(*text);
  }
  auto store = CNI_TRY_ERR(Store::open(cfg.dataDir, cfg.name), kIoFailure);

  std::vector<IpAddr> taken;
  auto rollback = defer([&] {
    for (const auto& ip : taken)
      store.release(ip);
  });
  std::vector<IpAddr> requested = cfg.requestedIps;
  for (size_t i = 0; i < cfg.ranges.size(); ++i) {
    std::optional<IpAddr> want;
    for (auto it = requested.begin(); it != requested.end(); ++it) {
      if (std::any_of(cfg.ranges[i].begin(), cfg.ranges[i].end(),
                      [&](const Range& r) { return r.contains(*it); })) {
        want = *it;
        requested.erase(it);
        break;
      }
    }
    auto ip = allocate(store, cfg.ranges[i], i, args.containerId, args.ifName, want);
    if (!ip) {
      auto e = ip.error();
      e.msg = fmt::format("failed to allocate for range {}: {}", i, e.msg);
      return std::unexpected(e);
    }
    taken.push_back(ip->address.ip());
    result.ips.push_back(*ip);
  }
  if (!requested.empty()) {
    std::vector<std::string> left;
    for (const auto& ip : requested)
      left.push_back(ip.str());
    return cniFail(kInternal, "requested IPs [{}] not in any range of network {}",
                   fmt::join(left, " "), cfg.name);
  }
  rollback.cancel();
  result.routes = cfg.routes;
  return result;
}

CniStatus cmdDel(const CmdArgs& args) {
  // Only what finds the store: a DEL releases the attachment's addresses whatever else in its
  // config (ranges, CNI_ARGS) does not parse.
  auto cfg = CNI_TRY(parseIpamStore(args.conf));
  auto store = CNI_TRY_ERR(Store::open(cfg.dataDir, cfg.name), kIoFailure);
  return asCni(store.releaseById(args.containerId, args.ifName), kIoFailure);
}

CniStatus withStoreLocked(const CmdArgs& args, bool wantContents,
                          const std::function<CniStatus(const std::optional<StoreContents>&)>& fn) {
  auto full = parseIpamConfig(args.conf, args.args);
  auto cfg = full ? std::move(*full) : CNI_TRY(parseIpamStore(args.conf));
  auto store = CNI_TRY_ERR(Store::open(cfg.dataDir, cfg.name), kIoFailure);
  if (!wantContents) return fn(std::nullopt);
  StoreContents contents;
  for (const auto& a : CNI_TRY_ERR(store.list(), kIoFailure))
    contents.inUse.push_back(a.ip);
  for (const auto& set : cfg.ranges) {
    for (const auto& r : set) {
      if (std::find(contents.subnets.begin(), contents.subnets.end(), r.subnet) ==
          contents.subnets.end()) {
        contents.subnets.push_back(r.subnet);
      }
    }
  }
  return fn(contents);
}

CniStatus cmdCheck(const CmdArgs& args) {
  auto cfg = CNI_TRY(parseIpamConfig(args.conf, args.args));
  auto store = CNI_TRY_ERR(Store::open(cfg.dataDir, cfg.name), kIoFailure);
  auto held = CNI_TRY_ERR(store.getById(args.containerId, args.ifName), kIoFailure);
  if (held.empty()) {
    return cniFail(kInternal, "host-local: failed to find address added by container {}",
                   args.containerId);
  }
  // Every address the previous result names from our ranges must still be this attachment's.
  if (args.conf.prevResult) {
    for (const auto& ip : args.conf.prevResult->ips) {
      const auto& a = ip.address.ip();
      bool ours = std::any_of(cfg.ranges.begin(), cfg.ranges.end(), [&](const RangeSet& set) {
        return std::any_of(set.begin(), set.end(), [&](const Range& r) { return r.contains(a); });
      });
      if (ours && std::find(held.begin(), held.end(), a) == held.end()) {
        return cniFail(kInternal, "host-local: {} is not allocated to {}/{}", a.str(),
                       args.containerId, args.ifName);
      }
    }
  }
  return {};
}

CniStatus cmdGc(const CmdArgs& args) {
  auto cfg = CNI_TRY(parseIpamConfig(args.conf, ""));
  auto store = CNI_TRY_ERR(Store::open(cfg.dataDir, cfg.name), kIoFailure);
  const auto& valid = args.conf.validAttachments;
  for (const auto& a : CNI_TRY_ERR(store.list(), kIoFailure)) {
    bool keep = std::any_of(valid.begin(), valid.end(), [&](const Attachment& v) {
      return v.containerID == a.containerId && (a.ifname.empty() || v.ifname == a.ifname);
    });
    if (!keep) store.release(a.ip);
  }
  return {};
}

CniStatus cmdStatus(const CmdArgs& args) {
  auto cfg = CNI_TRY(parseIpamConfig(args.conf, ""));
  // Available when the store can be written.
  auto store = Store::open(cfg.dataDir, cfg.name);
  if (!store || ::access(store->dir().c_str(), W_OK) != 0) {
    return cniFail(kNotAvailable, "host-local: store {}/{} is not writable", cfg.dataDir, cfg.name);
  }
  return {};
}

Plugin plugin() {
  Plugin p;
  p.about = "berth host-local IPAM plugin " BERTH_VERSION " (CNI 1.1)";
  p.add = cmdAdd;
  p.del = cmdDel;
  p.check = cmdCheck;
  p.gc = cmdGc;
  p.status = cmdStatus;
  return p;
}

}  // namespace berth::cni::hostlocal
