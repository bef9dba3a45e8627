#pragma once
// A server-side SPDY connection over an upgraded socket: one reader (serve(), on its own thread)
// dispatching frames to handlers, and thread-safe senders.
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <span>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"
#include "shim/streaming/http_request.h"
#include "shim/streaming/spdy.h"

namespace berth::shim {

// Answers an HTTP Upgrade to SPDY/3.1 on fd: the first protocol the client offers in
// X-Stream-Protocol-Version that `supported` holds (none offered: ""), with a 101 response; or an
// HTTP error (400 without the upgrade headers, 403 when no protocol is in common) and an error.
[[nodiscard]] Result<std::string> acceptSpdyUpgrade(int fd, const HttpRequest& request,
                                                    std::span<const std::string_view> supported);

class SpdyConnection {
 public:
  struct Handlers {
    std::function<void(const spdy::Frame& synStream)> onStream;
    std::function<void(std::uint32_t streamId, std::string_view data, bool fin)> onData;
    std::function<void(std::uint32_t streamId)> onReset;
  };

  // `pending` holds bytes already read past the HTTP request head.
  SpdyConnection(UniqueFd socket, std::string pending);

  // Reads and dispatches frames until the peer closes, sends GOAWAY, breaks the protocol, or
  // closeAfter() passes its deadline. PING is answered here.
  [[nodiscard]] Status serve(const Handlers& handlers);

  [[nodiscard]] Status reply(std::uint32_t streamId);
  [[nodiscard]] Status send(std::uint32_t streamId, std::string_view data, bool fin = false);
  [[nodiscard]] Status reset(std::uint32_t streamId, std::uint32_t status);
  // Sends GOAWAY and half-closes: serve() then returns once the peer closes or after `grace`.
  void closeAfter(std::chrono::milliseconds grace);

 private:
  [[nodiscard]] Status write(std::string_view bytes);

  UniqueFd socket_;
  std::string pending_;
  spdy::FrameReader reader_;
  std::mutex writeMu_;
  spdy::FrameWriter writer_;
  std::uint32_t lastStreamId_ = 0;
  std::atomic<std::int64_t> closeDeadlineMs_{0};  // steady clock ms; 0: not closing
};

}  // namespace berth::shim
