#pragma once
// What every connection of a server shares: the options, the handler, the worker pool, the
// registry of open connections (the maxConnections bound, and what shutdown walks) and the count
// of upgraded connections. Owned by the server; outlives every connection.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/http/server.h"
#include "common/http/worker_pool.h"

namespace berth::http {

// A connection as the server sees it.
class Connection {
 public:
  virtual ~Connection() = default;
  // Shutdown began: close if no request is in flight, else close once the response is out.
  virtual void beginShutdown() = 0;
  // Close now (streams get onClose).
  virtual void forceClose() = 0;
};

class ConnectionRegistry {
 public:
  explicit ConnectionRegistry(std::size_t max) : max_(max) {}
  // Counts a new connection and holds it until remove(); 0 when full or no longer adding.
  std::uint64_t add(std::shared_ptr<Connection> connection);
  // Replaces the entry (a TLS connection that turned out to speak h2).
  void replace(std::uint64_t id, std::shared_ptr<Connection> connection);
  void remove(std::uint64_t id);
  void stopAdding();
  std::vector<std::shared_ptr<Connection>> snapshot();
  std::size_t size();
  // Whether every connection closed before the deadline.
  bool waitEmpty(std::chrono::steady_clock::time_point deadline);

 private:
  std::mutex mu_;
  std::condition_variable emptied_;
  std::map<std::uint64_t, std::shared_ptr<Connection>> open_;
  std::uint64_t nextId_ = 1;
  std::size_t max_;
  bool adding_ = true;
};

struct ServerContext {
  ServerContext(ServerOptions o, Handler h)
      : options(std::move(o)),
        handler(std::move(h)),
        pool(options.workerThreads),
        connections(options.maxConnections) {}

  // A slot for an upgraded connection; false when maxUpgradedConnections are in use.
  bool acquireUpgrade();
  void releaseUpgrade() { --upgraded; }

  ServerOptions options;
  Handler handler;
  WorkerPool pool;
  ConnectionRegistry connections;
  std::atomic<std::size_t> upgraded{0};
  std::shared_ptr<spdlog::logger> log;
};

}  // namespace berth::http
