#include "dns/unbound_config.h"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>

#include "common/ip.h"

namespace berth::dns {
namespace {

// CoreDNS's kubernetes plugin answers with a TTL of 5 s: changes reach clients fast.
constexpr int kTtl = 5;

std::string zoneName(std::string domain) {
  if (domain.empty() || domain.back() != '.') domain += '.';
  return domain;
}

// Names and data come from objects the API server validated as DNS names and addresses; one
// that slipped through with a quote, a backslash or a control character is dropped rather than
// let it reach the configuration's syntax.
bool plainText(std::string_view text) {
  return std::ranges::all_of(
      text, [](unsigned char c) { return c >= 0x20 && c < 0x7f && c != '\'' && c != '\\'; });
}

}  // namespace

std::vector<std::string> upstreamsOf(std::string_view resolvConf,
                                     const std::vector<std::string>& self) {
  std::vector<IpAddr> selfIps;
  for (const auto& a : self) {
    if (auto ip = IpAddr::parse(a)) selfIps.push_back(*ip);
  }
  std::vector<std::string> out;
  std::istringstream in{std::string(resolvConf)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string keyword, address;
    if (!(words >> keyword >> address) || keyword != "nameserver") continue;
    // glibc accepts an IPv6 nameserver with a zone ("fe80::1%eth0"); Unbound takes it as is.
    auto ip = IpAddr::parse(address.substr(0, address.find('%')));
    if (!ip) continue;
    if (std::ranges::find(selfIps, *ip) != selfIps.end()) continue;
    out.push_back(address);
  }
  return out;
}

std::string renderUnboundConfig(const UnboundSettings& s, const RecordSet& records,
                                const std::vector<std::string>& upstreams) {
  std::string out = fmt::format(
      R"(# Written by berth cluster DNS; rewritten on every change.
server:
  interface: {}@{}
  port: {}
  interface-automatic: no
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "{}"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 0
  log-servfail: yes
  num-threads: 1
  module-config: "iterator"
  msg-cache-size: 512k
  rrset-cache-size: 1m
  key-cache-size: 64k
  neg-cache-size: 64k
  infra-cache-numhosts: 128
  outgoing-range: 64
  num-queries-per-thread: 32
  so-reuseport: no
  do-not-query-localhost: no
  # Reverse lookups of private addresses outside the cluster's records go upstream, as
  # CoreDNS forwards them, instead of Unbound's built-in NXDOMAIN (RFC 6303).
  unblock-lan-zones: yes
  insecure-lan-zones: yes
  local-zone: "{}" static
)",
      s.listenAddress, s.port, s.port, s.stateDir, zoneName(s.domain));
  const std::vector<std::string> everyone = {"0.0.0.0/0", "::/0"};
  for (const auto& cidr : s.allowFrom.empty() ? everyone : s.allowFrom)
    out += fmt::format("  access-control: {} allow\n", cidr);
  for (const auto& r : records) {
    if (!plainText(r.name) || !plainText(r.data)) continue;
    // A CNAME (ExternalName) sits in a redirect zone of its own: there Unbound also resolves its
    // target and answers both, as a client expects of a recursive resolver.
    if (r.type == "CNAME") out += fmt::format("  local-zone: \"{}\" redirect\n", r.name);
    // Single quotes outside: a TXT record's data has double quotes of its own.
    out += fmt::format("  local-data: '{} {} IN {} {}'\n", r.name, kTtl, r.type, r.data);
  }
  if (upstreams.empty()) out += "  local-zone: \".\" refuse\n";
  out += fmt::format(R"(remote-control:
  control-enable: yes
  control-interface: "{}"
  control-use-cert: no
)",
                     s.controlSocket);
  if (!upstreams.empty()) {
    out += "forward-zone:\n  name: \".\"\n";
    for (const auto& u : upstreams)
      out += fmt::format("  forward-addr: {}\n", u);
  }
  return out;
}

}  // namespace berth::dns
