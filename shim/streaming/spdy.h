#pragma once
// SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 / the SPDY/3 draft), as Kubernetes' streaming
// protocols use it over an upgraded HTTP/1.1 connection (moby/spdystream on the client side):
// control and data frames, and header blocks compressed with zlib and SPDY's dictionary, one
// compression context per direction for the whole connection. No flow control: spdystream
// neither sends nor honours WINDOW_UPDATE.
#include <zlib.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace berth::shim::spdy {

enum class FrameType : std::uint16_t {
  kData = 0,  // not a control frame type: data frames have no type field
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
};

inline constexpr std::uint8_t kFlagFin = 0x01;
inline constexpr std::uint8_t kFlagUnidirectional = 0x02;
// RST_STREAM status codes.
inline constexpr std::uint32_t kProtocolError = 1;
inline constexpr std::uint32_t kInvalidStream = 2;
inline constexpr std::uint32_t kRefusedStream = 3;
inline constexpr std::uint32_t kCancel = 5;
// The largest frame payload we accept (the format allows 16 MiB; spdystream writes less).
inline constexpr std::uint32_t kMaxFrameLength = 1 << 20;

// Header names are lowercase on the wire; a value holding several values separates them by NUL.
using Headers = std::vector<std::pair<std::string, std::string>>;
std::optional<std::string_view> findHeader(const Headers& headers, std::string_view name);

struct Frame {
  FrameType type = FrameType::kData;
  std::uint8_t flags = 0;
  std::uint32_t streamId = 0;  // data, SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE
  std::uint32_t associatedStreamId = 0;  // SYN_STREAM
  std::uint8_t priority = 0;             // SYN_STREAM, 0 (highest) to 7
  Headers headers;                       // SYN_STREAM, SYN_REPLY, HEADERS
  std::string data;                      // data frames
  std::uint32_t status = 0;              // RST_STREAM, GOAWAY
  std::uint32_t pingId = 0;              // PING
  std::uint32_t lastGoodStreamId = 0;    // GOAWAY
  std::uint32_t deltaWindowSize = 0;     // WINDOW_UPDATE
  bool fin() const { return (flags & kFlagFin) != 0; }
};

// The zlib dictionary every SPDY/3 header block is compressed with.
std::string_view headerDictionary();

// Turns bytes from the peer into frames. Header blocks share one inflate context.
class FrameReader {
 public:
  FrameReader();
  ~FrameReader();
  FrameReader(const FrameReader&) = delete;
  FrameReader& operator=(const FrameReader&) = delete;

  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete frame, nullopt when more bytes are needed; an error ends the session.
  [[nodiscard]] Result<std::optional<Frame>> next();

 private:
  [[nodiscard]] Result<Headers> decodeHeaders(std::string_view block);
  [[nodiscard]] Status parseControl(Frame& f, std::string_view payload);

  std::string buffer_;
  std::unique_ptr<z_stream> inflate_;
};

// Serializes frames. Header blocks share one deflate context.
class FrameWriter {
 public:
  FrameWriter();
  ~FrameWriter();
  FrameWriter(const FrameWriter&) = delete;
  FrameWriter& operator=(const FrameWriter&) = delete;

  std::string synStream(std::uint32_t streamId, const Headers& headers, std::uint8_t flags = 0);
  std::string synReply(std::uint32_t streamId, const Headers& headers, std::uint8_t flags = 0);
  std::string headers(std::uint32_t streamId, const Headers& headers, std::uint8_t flags = 0);
  static std::string data(std::uint32_t streamId, std::string_view bytes, std::uint8_t flags = 0);
  static std::string rstStream(std::uint32_t streamId, std::uint32_t status);
  static std::string ping(std::uint32_t id);
  static std::string goAway(std::uint32_t lastGoodStreamId, std::uint32_t status = 0);
  static std::string windowUpdate(std::uint32_t streamId, std::uint32_t delta);

 private:
  std::string encodeHeaders(const Headers& headers);

  std::unique_ptr<z_stream> deflate_;
};

}  // namespace berth::shim::spdy
