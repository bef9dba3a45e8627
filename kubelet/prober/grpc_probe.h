#pragma once
// grpc (pkg/probe/grpc): grpc.health.v1.Health/Check on host:port with the probe's service name;
// SERVING is a success. Plain-text HTTP/2 (the probe has no TLS), the kubelet's User-Agent.
#include <chrono>
#include <string>

#include "kubelet/prober/probe_types.h"

namespace berth::kubelet::prober {

// Connects and calls Check within `timeout` (both count against it). Every way of not getting
// SERVING (no connection, no health service, an RPC error, another status) is a failure whose
// output says which, in upstream's words.
ProbeOutcome grpcProbe(const std::string& host, int port, const std::string& service,
                       std::chrono::milliseconds timeout);

}  // namespace berth::kubelet::prober
