#pragma once
// tcpSocket (pkg/probe/tcp): a connection within the timeout is a success; it is closed at once.
#include <chrono>
#include <string>

#include "kubelet/prober/probe_types.h"

namespace berth::kubelet::prober {

// Connects to host:port (an IP or a name, each resolved address tried in turn) within `timeout`.
// Refusal, unreachability and timeouts are failures with Go's dial message.
ProbeOutcome tcpProbe(const std::string& host, int port, std::chrono::milliseconds timeout);

}  // namespace berth::kubelet::prober
