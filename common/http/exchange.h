#pragma once
// One request's response, as its ResponseWriter and its connection share it: which way it is
// written (whole, streamed, upgraded: the first call wins), the bytes a stream has queued (bounded,
// so a slow client is dropped instead of growing memory), and the onClose callback, fired once
// when the connection goes before the response was complete.
#include <cstddef>
#include <functional>
#include <mutex>

namespace berth::http {

class Exchange {
 public:
  enum class Kind { kNone, kWhole, kStream, kUpgrade };
  enum class Push { kOk, kClosed, kTooSlow };

  explicit Exchange(std::size_t maxQueuedBytes) : maxQueued_(maxQueuedBytes) {}

  // Writer side, any thread.
  // Takes the exchange for one way of answering; false when it was taken or the client is gone.
  bool claim(Kind kind);
  // Counts a stream write against the bound. kTooSlow marks the exchange closed.
  Push push(std::size_t bytes);
  // Marks the stream's end; false when not streaming, already finished or closed.
  bool finish();
  void setOnClose(std::function<void()> callback);
  bool closed() const;
  Kind kind() const;

  // Connection side, on its I/O thread.
  void drained(std::size_t bytes);
  // The response went out whole: onClose will never fire.
  void completed();
  // The connection is gone; fires onClose unless the response was complete.
  void connectionClosed();

 private:
  mutable std::mutex mu_;
  Kind kind_ = Kind::kNone;
  bool finished_ = false;
  bool completed_ = false;
  bool closed_ = false;
  std::size_t queued_ = 0;
  std::size_t maxQueued_;
  std::function<void()> onClose_;
};

}  // namespace berth::http
