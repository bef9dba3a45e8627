#pragma once
// The gRPC server of berth-cri on its unix socket. The socket appears at its path only once it is
// bound and chmod'ed 0660 (bound under a temporary name, then renamed), a stale socket file is
// replaced, and a second berth-cri on the same path is refused (a lock file beside the socket,
// then a connect probe for a server that holds no lock).

#include <chrono>
#include <memory>

#include <grpcpp/server.h>

#include "common/file_lock.h"
#include "common/unix_socket.h"
#include "shim/cri_config.h"
#include "shim/image_service.h"
#include "shim/runtime_service.h"

namespace berth::cri {

class CriServer {
 public:
  // Creates root, state and the socket's directory, then serves. `config` must outlive the server.
  [[nodiscard]] static Result<std::unique_ptr<CriServer>> start(const CriConfig& config);
  ~CriServer();

  // Stops accepting calls, lets running ones finish within `grace` (then cancels them) and removes
  // the socket. Idempotent.
  void shutdown(std::chrono::milliseconds grace);

 private:
  CriServer(const CriConfig& config, FileLock lock, std::unique_ptr<Engine> engine)
      : config_(config),
        lock_(std::move(lock)),
        engine_(std::move(engine)),
        runtime_(config, *engine_),
        images_(config) {}

  const CriConfig& config_;
  FileLock lock_;
  std::unique_ptr<Engine> engine_;
  RuntimeService runtime_;
  ImageService images_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace berth::cri
