#pragma once
// The Stream an HTTP/1.1 upgrade hands back: blocking calls for the thread that serves the
// upgraded connection, each done as an asynchronous operation on the connection's I/O thread
// (ByteChannel), so a TLS connection upgrades as a plain one does. Bytes the client sent past the
// request head come first.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/http/pending_op.h"
#include "common/http/server.h"

namespace berth::http {

// The socket side, implemented by the connection. Calls come from any thread; completions run on
// the connection's I/O thread.
class ByteChannel {
 public:
  virtual ~ByteChannel() = default;
  // What is available (at least a byte); "" at the end of the stream.
  virtual void readSome(std::function<void(Result<std::string>)> done) = 0;
  // `data` stays valid until `done`.
  virtual void writeAll(std::string_view data, std::function<void(Status)> done) = 0;
  virtual void shutdownWrite(std::function<void()> done) = 0;
  virtual void closeChannel() = 0;
};

class UpgradedStream final : public Stream {
 public:
  // The channel is held weakly: the connection owns its socket; the stream only drives it.
  UpgradedStream(std::weak_ptr<ByteChannel> channel, std::string leftover)
      : channel_(std::move(channel)), staged_(std::move(leftover)) {}
  ~UpgradedStream() override { close(); }

  [[nodiscard]] Result<std::size_t> read(std::span<char> buffer,
                                         std::optional<std::chrono::milliseconds> timeout) override;
  [[nodiscard]] Status writeAll(std::string_view data) override;
  void shutdownWrite() override;
  void close() override;

 private:
  std::weak_ptr<ByteChannel> channel_;
  std::mutex readMu_;   // one reader
  std::string staged_;  // read but not yet returned
  bool ended_ = false;  // EOF returned once stays EOF
  std::shared_ptr<PendingOp<Result<std::string>>> pending_ =
      PendingOp<Result<std::string>>::create();
  std::mutex writeMu_;  // one writer at a time, in order
  std::atomic<bool> writeShut_{false};
  std::atomic<bool> closed_{false};
};

}  // namespace berth::http
