#pragma once
// Picks addresses from a range set as the reference allocator does: round-robin from the address
// after last_reserved_ip.<n>, across the set's ranges, skipping each range's gateway.

#include <optional>
#include <string>

#include "cni-plugins/cni/types.h"
#include "cni-plugins/host_local/config.h"
#include "cni-plugins/host_local/store.h"

namespace berth::cni::hostlocal {

// Allocates one address of range set `index` for id+ifname; `requested` asks for that address.
// The store must be locked (it is while it exists).
[[nodiscard]] CniResult<IpConfig> allocate(Store& store, const RangeSet& set, size_t index,
                                           const std::string& id, const std::string& ifname,
                                           std::optional<IpAddr> requested);

}  // namespace berth::cni::hostlocal
