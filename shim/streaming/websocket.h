#pragma once
// RFC 6455 for the streaming server: the server's side of the opening handshake, and frames
// reassembled into messages (either role, so tests can play the client). Kubernetes' channel
// framing on top (k8s.io/apiserver wsstream): every message starts with its channel number, a
// byte in binary messages, or an ASCII digit followed by base64 data in text messages
// (the base64.channel.k8s.io protocols).
#include <array>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "shim/streaming/http_request.h"

namespace berth::shim::ws {

enum class Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xa,
};

// RFC 6455 7.4.1.
enum CloseCode : std::uint16_t {
  kCloseNormal = 1000,
  kCloseGoingAway = 1001,
  kCloseProtocolError = 1002,
  kCloseUnsupportedData = 1003,
  kCloseNoStatus = 1005,  // never sent: an empty close payload
  kCloseInvalidPayload = 1007,
  kCloseTooBig = 1009,
  kCloseInternalError = 1011,
};

// A whole data message (fragments joined) or a control frame.
struct Message {
  Opcode opcode = Opcode::kBinary;
  std::string payload;
};

// Why a peer's bytes break the protocol, and the close code that says so.
struct Violation {
  std::uint16_t code = kCloseProtocolError;
  std::string reason;
};

// Reads one peer's frames. A server reads masked frames (RFC 6455 5.1: a client masks every
// frame), a client unmasked ones. Messages over maxMessage bytes are refused from their header.
class MessageReader {
 public:
  MessageReader(std::size_t maxMessage, bool peerMasks)
      : maxMessage_(maxMessage), peerMasks_(peerMasks) {}
  void feed(std::string_view bytes) { buf_.append(bytes); }
  // The next message; nullopt when more bytes are needed.
  std::expected<std::optional<Message>, Violation> next();

 private:
  std::string buf_;
  std::size_t maxMessage_;
  bool peerMasks_;
  std::optional<Opcode> fragmented_;  // the opcode of a message whose fragments are arriving
  std::string partial_;
};

// One frame. A server's frames go unmasked; a client passes its masking key.
std::string frame(Opcode opcode, std::string_view payload, bool fin = true,
                  std::optional<std::array<std::uint8_t, 4>> mask = std::nullopt);
// The payload of a close frame: the code big-endian, then the reason (at most 123 bytes).
std::string closePayload(std::uint16_t code, std::string_view reason = {});
// The code of a close payload (kCloseNoStatus when it has none).
std::uint16_t closeCode(std::string_view payload);

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)).
std::string acceptKey(std::string_view key);

// Upgrade: websocket and a Connection header naming upgrade (wsstream.IsWebSocketRequest).
bool isWebSocketRequest(const HttpRequest& request);

// Answers the opening handshake on fd: 101 with the first protocol the client offers in
// Sec-WebSocket-Protocol that `supported` holds ("" when it offers none and "" is supported).
// Otherwise an HTTP error and an error: 405 for a method other than GET, 400 without a valid
// Sec-WebSocket-Key, 426 with Sec-WebSocket-Version: 13 for another version, 403 when no
// protocol is in common.
[[nodiscard]] Result<std::string> acceptUpgrade(int fd, const HttpRequest& request,
                                                std::span<const std::string_view> supported);

// Kubernetes channel framing.
struct ChannelMessage {
  std::uint8_t channel = 0;
  std::string data;
};
bool isBase64Protocol(std::string_view protocol);
// The opcode and payload of data on a channel.
Message encodeChannel(bool base64, std::uint8_t channel, std::string_view data);
// nullopt for an empty message or invalid base64.
std::optional<ChannelMessage> decodeChannel(bool base64, std::string_view payload);

}  // namespace berth::shim::ws
