#pragma once
// A pod's network counters: every interface of its network namespace (the pinned one,
// /run/berth/ns/net/<pod-id>), the CNI interface eth0 as the default one, as containerd's CRI
// plugin reports it.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "shim/stats/usage.h"

namespace berth::cri::stats {

// The interface the CNI plugins create in a pod (containerd's defaultIfName).
inline constexpr std::string_view kDefaultInterface = "eth0";

// /proc/net/dev's table: per interface the same 64-bit counters RTM_GETLINK's IFLA_STATS64
// carries (rx_errors, tx_errors; "drop" adds rx_missed_errors to rx_dropped).
[[nodiscard]] Result<std::vector<NetworkInterfaceUsage>> parseProcNetDev(std::string_view text);

// Reads the counters inside the network namespace at `netnsPath`. The calling thread enters it
// with setns and comes back (common/netns NetNsGuard) and reads /proc/thread-self/net/dev, which
// shows the thread's namespace; other threads are not affected. Loopback is left out.
[[nodiscard]] Result<NetworkUsage> readNetworkStats(const std::string& netnsPath,
                                                    int64_t timestamp);

}  // namespace berth::cri::stats
