#include "shim/streaming/spdy_connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "common/file_util.h"
#include "shim/streaming/socket_read.h"

namespace berth::shim {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Sends an HTTP error and gives up the connection.
std::unexpected<Error> refuse(int fd, int code, std::string_view reason,
                              const std::string& message) {
  (void)writeAll(fd, httpResponse(code, reason, {}, message));
  return std::unexpected(Error(Code::kInvalidArgument, message));
}

}  // namespace

Result<std::string> acceptSpdyUpgrade(int fd, const HttpRequest& request,
                                      std::span<const std::string_view> supported) {
  auto connection = lower(request.header("connection").value_or(""));
  if (connection.find("upgrade") == std::string::npos ||
      lower(request.header("upgrade").value_or("")) != "spdy/3.1")
    return refuse(fd, 400, "Bad Request", "unable to upgrade: missing upgrade headers in request");
  auto offered = request.headerValues("x-stream-protocol-version");
  std::string protocol;
  for (const auto& p : offered) {
    if (std::find(supported.begin(), supported.end(), p) != supported.end()) {
      protocol = p;
      break;
    }
  }
  if (!offered.empty() && protocol.empty())
    return refuse(fd, 403, "Forbidden",
                  fmt::format("unable to upgrade: unable to negotiate protocol: client supports "
                              "[{}], server supports [{}]",
                              fmt::join(offered, " "), fmt::join(supported, " ")));
  std::vector<std::pair<std::string, std::string>> headers = {{"Connection", "Upgrade"},
                                                              {"Upgrade", "SPDY/3.1"}};
  if (!protocol.empty()) headers.emplace_back("X-Stream-Protocol-Version", protocol);
  BERTH_TRY(writeAll(fd, httpResponse(101, "Switching Protocols", headers)));
  return protocol;
}

SpdyConnection::SpdyConnection(UniqueFd socket, std::string pending)
    : socket_(std::move(socket)), pending_(std::move(pending)) {}

Status SpdyConnection::write(std::string_view bytes) {
  std::lock_guard lock(writeMu_);
  return writeAll(socket_.get(), bytes);
}

Status SpdyConnection::reply(std::uint32_t streamId) {
  std::lock_guard lock(writeMu_);
  return writeAll(socket_.get(), writer_.synReply(streamId, {}));
}

Status SpdyConnection::send(std::uint32_t streamId, std::string_view data, bool fin) {
  // Frames stay well under a peer's read buffer: spdystream reads whole frames.
  constexpr std::size_t kChunk = 32 * 1024;
  do {
    std::string_view part = data.substr(0, kChunk);
    data.remove_prefix(part.size());
    bool last = data.empty();
    BERTH_TRY(write(spdy::FrameWriter::data(streamId, part, last && fin ? spdy::kFlagFin : 0)));
  } while (!data.empty());
  return {};
}

Status SpdyConnection::reset(std::uint32_t streamId, std::uint32_t status) {
  return write(spdy::FrameWriter::rstStream(streamId, status));
}

void SpdyConnection::closeAfter(std::chrono::milliseconds grace) {
  (void)write(spdy::FrameWriter::goAway(lastStreamId_));
  ::shutdown(socket_.get(), SHUT_WR);
  closeDeadlineMs_ = steadyMs() + grace.count();
}

Status SpdyConnection::serve(const Handlers& h) {
  reader_.feed(pending_);
  pending_.clear();
  char buf[64 * 1024];
  while (true) {
    while (true) {
      auto frame = BERTH_TRY(reader_.next());
      if (!frame) break;
      spdy::Frame& f = *frame;
      switch (f.type) {
        case spdy::FrameType::kSynStream:
          lastStreamId_ = f.streamId;
          if (h.onStream) h.onStream(f);
          break;
        case spdy::FrameType::kData:
          if (h.onData) h.onData(f.streamId, f.data, f.fin());
          break;
        case spdy::FrameType::kRstStream:
          if (h.onReset) h.onReset(f.streamId);
          break;
        case spdy::FrameType::kPing:
          BERTH_TRY(write(spdy::FrameWriter::ping(f.pingId)));
          break;
        case spdy::FrameType::kGoAway:
          return {};
        default:  // SYN_REPLY, HEADERS, SETTINGS, WINDOW_UPDATE: nothing to do for a server here
          break;
      }
    }
    auto n = BERTH_TRY(readSocketStep(socket_.get(), buf, sizeof buf, closeDeadlineMs_));
    if (!n) continue;
    if (*n == 0) return {};
    reader_.feed(std::string_view(buf, *n));
  }
}

}  // namespace berth::shim
