#pragma once
// The storage part of bench.server: SQLite vs Debian's etcd under berth-server's write path.

namespace berth::bench {

// Prints write throughput and latency (1 and 16 writers) for SQLite and etcd, and the SQLite
// file's size after 1k writes vs after 100k updates to 1k objects. 0, or 1 when a backend fails
// outright; never judges the numbers.
int runStorageBench();

}  // namespace berth::bench
