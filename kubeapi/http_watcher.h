#pragma once
// The Watcher of a watch response streamed by the HttpEngine: the I/O thread decodes chunks
// into events queued here; a consumer that falls behind by `maxQueued` events pauses the
// stream until it catches up, so a slow consumer never grows our memory.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>

#include "kubeapi/http_engine.h"
#include "kubeapi/watch.h"
#include "kubeapi/watch_decoder.h"

namespace berth::kubeapi {

class HttpWatcher final : public Watcher {
 public:
  // Starts the transfer and waits for the response head. A non-2xx status (with its body) or a
  // transport failure is the error.
  [[nodiscard]] static ApiResult<std::unique_ptr<HttpWatcher>> start(HttpEngine& engine,
                                                                     EngineRequest request,
                                                                     const RequestTarget& target,
                                                                     size_t maxQueued = 1024);
  ~HttpWatcher() override;

  WatchNext next(std::chrono::milliseconds timeout) override;
  void stop() override;

 private:
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<WatchEvent> events;
    WatchDecoder decoder;
    size_t maxQueued = 1024;
    bool headers = false;
    long status = 0;
    bool paused = false;
    bool done = false;
    bool stopped = false;
    std::optional<Error> decodeError;
  };
  HttpWatcher(std::shared_ptr<Shared> shared, std::shared_ptr<HttpEngine::Transfer> transfer,
              RequestTarget target)
      : shared_(std::move(shared)), transfer_(std::move(transfer)), target_(std::move(target)) {}

  std::shared_ptr<Shared> shared_;
  std::shared_ptr<HttpEngine::Transfer> transfer_;
  RequestTarget target_;
};

}  // namespace berth::kubeapi
