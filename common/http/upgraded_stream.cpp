#include "common/http/upgraded_stream.h"

#include <cstring>

namespace berth::http {

Result<std::size_t> UpgradedStream::read(std::span<char> buffer,
                                         std::optional<std::chrono::milliseconds> timeout) {
  std::lock_guard lock(readMu_);
  if (buffer.empty()) return std::size_t{0};
  if (staged_.empty() && !ended_) {
    if (closed_) return fail(Code::kCancelled, "upgraded stream: closed");
    auto got = pending_->await(
        [this](PendingOp<Result<std::string>>::Complete complete) {
          auto channel = channel_.lock();
          if (!channel)
            return complete(fail(Code::kUnavailable, "upgraded stream: connection closed"));
          channel->readSome(std::move(complete));
        },
        timeout);
    if (!got)
      return fail(Code::kDeadlineExceeded, "upgraded stream: no data within {} ms",
                  timeout ? timeout->count() : 0);
    if (!*got) return std::unexpected(got->error());
    if (got->value().empty()) ended_ = true;
    staged_ = std::move(got->value());
  }
  std::size_t n = std::min(buffer.size(), staged_.size());
  std::memcpy(buffer.data(), staged_.data(), n);
  staged_.erase(0, n);
  return n;
}

Status UpgradedStream::writeAll(std::string_view data) {
  std::lock_guard lock(writeMu_);
  if (closed_ || writeShut_)
    return fail(Code::kFailedPrecondition, "upgraded stream: write side closed");
  if (data.empty()) return {};
  return awaitDone<Status>([&](PendingOp<Status>::Complete complete) {
    auto channel = channel_.lock();
    if (!channel) return complete(fail(Code::kUnavailable, "upgraded stream: connection closed"));
    channel->writeAll(data, std::move(complete));
  });
}

void UpgradedStream::shutdownWrite() {
  std::lock_guard lock(writeMu_);  // after the writes in flight
  if (closed_ || writeShut_.exchange(true)) return;
  awaitDone<bool>([&](PendingOp<bool>::Complete complete) {
    auto channel = channel_.lock();
    if (!channel) return complete(true);
    channel->shutdownWrite([complete] { complete(true); });
  });
}

void UpgradedStream::close() {
  if (closed_.exchange(true)) return;
  if (auto channel = channel_.lock()) channel->closeChannel();
}

}  // namespace berth::http
