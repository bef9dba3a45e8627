#include "kubeapi/http_watcher.h"

namespace berth::kubeapi {

ApiResult<std::unique_ptr<HttpWatcher>> HttpWatcher::start(HttpEngine& engine,
                                                           EngineRequest request,
                                                           const RequestTarget& target,
                                                           size_t maxQueued) {
  auto shared = std::make_shared<Shared>();
  shared->maxQueued = maxQueued;
  request.onHeaders = [shared](long status) {
    {
      std::lock_guard lock(shared->mu);
      shared->headers = true;
      shared->status = status;
    }
    shared->cv.notify_all();
  };
  request.onData = [shared](std::string_view chunk) {
    {
      std::lock_guard lock(shared->mu);
      if (shared->decodeError) return true;  // drained to the end, ignored
      if (shared->events.size() >= shared->maxQueued) {
        shared->paused = true;
        return false;
      }
      auto events = shared->decoder.feed(chunk);
      if (!events) {
        shared->decodeError = std::move(events).error();
      } else {
        for (auto& e : *events)
          shared->events.push_back(std::move(e));
      }
    }
    shared->cv.notify_all();
    return true;
  };
  request.onDone = [shared] {
    {
      std::lock_guard lock(shared->mu);
      shared->done = true;
    }
    shared->cv.notify_all();
  };
  auto transfer = engine.start(std::move(request));
  {
    std::unique_lock lock(shared->mu);
    shared->cv.wait(lock, [&] { return shared->headers || shared->done || transfer->done(); });
  }
  long status = 0;
  bool headers = false;
  {
    std::lock_guard lock(shared->mu);
    status = shared->status;
    headers = shared->headers;
  }
  // A finished transfer, or an error status whose body is still coming: wait for the end.
  if (!headers || status < 200 || status > 299) {
    auto response = transfer->wait();
    if (!response) return std::unexpected(ApiError::transport(response.error(), target));
    if (response->status < 200 || response->status > 299)
      return std::unexpected(ApiError::fromResponse(static_cast<int>(response->status),
                                                    response->body,
                                                    response->header("content-type"), target));
  }
  return std::unique_ptr<HttpWatcher>(new HttpWatcher(shared, transfer, target));
}

HttpWatcher::~HttpWatcher() {
  stop();
  (void)transfer_->wait();
}

WatchNext HttpWatcher::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(shared_->mu);
  shared_->cv.wait_for(lock, timeout, [&] {
    return !shared_->events.empty() || shared_->done || shared_->stopped ||
           shared_->decodeError.has_value();
  });
  if (!shared_->events.empty()) {
    WatchNext n{WatchNext::Kind::kEvent, std::move(shared_->events.front()), std::nullopt};
    shared_->events.pop_front();
    if (shared_->paused && shared_->events.size() <= shared_->maxQueued / 2) {
      shared_->paused = false;
      transfer_->resume();
    }
    return n;
  }
  if (shared_->stopped) return {WatchNext::Kind::kClosed, {}, std::nullopt};
  if (shared_->decodeError) {
    auto error = *shared_->decodeError;
    lock.unlock();
    transfer_->cancel();
    return {WatchNext::Kind::kClosed, {}, ApiError::transport(error, target_)};
  }
  if (shared_->done) {
    lock.unlock();
    auto result = transfer_->wait();
    if (!result)
      return {WatchNext::Kind::kClosed, {}, ApiError::transport(result.error(), target_)};
    if (result->status < 200 || result->status > 299)
      return {WatchNext::Kind::kClosed,
              {},
              ApiError::fromResponse(static_cast<int>(result->status), result->body,
                                     result->header("content-type"), target_)};
    return {WatchNext::Kind::kClosed, {}, std::nullopt};
  }
  return {WatchNext::Kind::kTimeout, {}, std::nullopt};
}

void HttpWatcher::stop() {
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->stopped) return;
    shared_->stopped = true;
  }
  shared_->cv.notify_all();
  transfer_->cancel();
}

}  // namespace berth::kubeapi
