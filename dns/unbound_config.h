#pragma once
// The Unbound configuration berth renders for cluster DNS: one file holding the server settings
// (one thread, small caches, no DNSSEC module: a few MiB resident), the cluster records as
// local-data in a static zone (so unknown names under the domain are NXDOMAIN, never
// forwarded), and a forward zone for everything else to the node's resolvers. berth rewrites it
// and has Unbound reload it (reload_keep_cache keeps the forwarded answers cached).
#include <string>
#include <string_view>
#include <vector>

#include "dns/records.h"

namespace berth::dns {

struct UnboundSettings {
  std::string domain = "cluster.local";
  std::string listenAddress = "127.0.0.1";
  int port = 53;
  std::string stateDir;       // Unbound's directory; the control socket lives there
  std::string controlSocket;  // absolute path of the unix control socket
  // Client CIDRs answered (Unbound refuses the others, loopback aside); empty: everyone. On a
  // node address, the pod and Service CIDRs keep it from being an open resolver.
  std::vector<std::string> allowFrom;
};

// The nameservers of a resolv.conf, in order, without those in `self` (the addresses that reach
// cluster DNS at port 53: forwarding there would loop, as CoreDNS's loop plugin guards against).
std::vector<std::string> upstreamsOf(std::string_view resolvConf,
                                     const std::vector<std::string>& self);

// The whole unbound.conf. No upstreams: names outside the cluster are refused rather than
// resolved from the root servers behind the node's back.
std::string renderUnboundConfig(const UnboundSettings& settings, const RecordSet& records,
                                const std::vector<std::string>& upstreams);

}  // namespace berth::dns
