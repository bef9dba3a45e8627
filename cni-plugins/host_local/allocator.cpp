#include "cni-plugins/host_local/allocator.h"

#include <fmt/format.h>

namespace berth::cni::hostlocal {

namespace {

IpConfig configFor(const Range& r, const IpAddr& ip) {
  return IpConfig{IpNet(ip, r.subnet.prefix()), r.gateway, std::nullopt};
}

}  // namespace

CniResult<IpConfig> allocate(Store& store, const RangeSet& set, size_t index, const std::string& id,
                             const std::string& ifname, std::optional<IpAddr> requested) {
  // One address per range set per attachment.
  for (const auto& held : CNI_TRY(asCni(store.getById(id, ifname)))) {
    for (const auto& r : set) {
      if (r.contains(held)) {
        return cniFail(kInternal,
                       "{} has been allocated to {}, duplicate allocation is not allowed",
                       held.str(), id);
      }
    }
  }
  if (requested) {
    for (const auto& r : set) {
      if (!r.contains(*requested)) continue;
      if (*requested == r.gateway) {
        return cniFail(kInternal, "requested ip {} is subnet's gateway", requested->str());
      }
      if (!CNI_TRY(asCni(store.reserve(id, ifname, *requested, index)))) {
        return cniFail(kInternal, "requested IP address {} is not available in range set {}",
                       requested->str(), describe(set));
      }
      return configFor(r, *requested);
    }
    return cniFail(kInternal, "requested IP address {} is not in range set {}", requested->str(),
                   describe(set));
  }

  // The first candidate: the address after the last one reserved here if it is still in the set,
  // else the set's first address.
  size_t ri = 0;
  IpAddr cur = set[0].rangeStart;
  auto advance = [&] {
    if (cur == set[ri].rangeEnd) {
      ri = (ri + 1) % set.size();
      cur = set[ri].rangeStart;
    } else {
      cur = cur.next();
    }
  };
  if (auto last = store.lastReserved(index)) {
    for (size_t i = 0; i < set.size(); ++i) {
      if (set[i].contains(*last)) {
        ri = i;
        cur = *last;
        advance();
        break;
      }
    }
  }
  const size_t startRange = ri;
  const IpAddr start = cur;
  do {
    if (cur != set[ri].gateway && CNI_TRY(asCni(store.reserve(id, ifname, cur, index)))) {
      return configFor(set[ri], cur);
    }
    advance();
  } while (!(ri == startRange && cur == start));
  return cniFail(kInternal, "no IP addresses available in range set: {}", describe(set));
}

}  // namespace berth::cni::hostlocal
