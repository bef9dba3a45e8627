#include "shim/streaming/websocket.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

#include "common/base64.h"
#include "common/file_util.h"

namespace berth::shim::ws {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::size_t kMaxControlPayload = 125;

std::unexpected<Violation> violation(std::uint16_t code, std::string reason) {
  return std::unexpected(Violation{code, std::move(reason)});
}

bool isControl(std::uint8_t opcode) {
  return opcode & 0x8;
}

bool knownOpcode(std::uint8_t opcode) {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xa);
}

// RFC 6455 7.4: the codes a peer may send.
bool sendableCloseCode(std::uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}

// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
bool validUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<std::uint8_t>(s[i]);
    int extra;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= static_cast<std::size_t>(extra)) return false;
    for (int k = 1; k <= extra; ++k) {
      auto cc = static_cast<std::uint8_t>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3f);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::unexpected<Error> refuse(int fd, int code, std::string_view reason, const std::string& message,
                              std::vector<std::pair<std::string, std::string>> headers = {}) {
  (void)writeAll(fd, httpResponse(code, reason, headers, message));
  return std::unexpected(Error(Code::kInvalidArgument, message));
}

}  // namespace

std::expected<std::optional<Message>, Violation> MessageReader::next() {
  while (true) {
    if (buf_.size() < 2) return std::nullopt;
    auto b0 = static_cast<std::uint8_t>(buf_[0]);
    auto b1 = static_cast<std::uint8_t>(buf_[1]);
    bool fin = b0 & 0x80;
    std::uint8_t opcode = b0 & 0x0f;
    bool masked = b1 & 0x80;
    std::uint64_t length = b1 & 0x7f;
    if (b0 & 0x70) return violation(kCloseProtocolError, "reserved bits set without an extension");
    if (!knownOpcode(opcode))
      return violation(kCloseProtocolError, fmt::format("unknown opcode {:#x}", opcode));
    if (masked != peerMasks_)
      return violation(kCloseProtocolError,
                       peerMasks_ ? "unmasked frame from a client" : "masked frame from a server");
    std::size_t header = 2;
    if (length == 126) {
      header += 2;
      if (buf_.size() < header) return std::nullopt;
      length = static_cast<std::uint64_t>(static_cast<std::uint8_t>(buf_[2])) << 8 |
               static_cast<std::uint8_t>(buf_[3]);
    } else if (length == 127) {
      header += 8;
      if (buf_.size() < header) return std::nullopt;
      length = 0;
      for (int i = 0; i < 8; ++i)
        length = length << 8 | static_cast<std::uint8_t>(buf_[2 + i]);
      if (length >> 63) return violation(kCloseProtocolError, "frame length with its top bit set");
    }
    if (isControl(opcode)) {
      if (!fin) return violation(kCloseProtocolError, "fragmented control frame");
      if (length > kMaxControlPayload)
        return violation(kCloseProtocolError, "control frame payload over 125 bytes");
    } else {
      if (opcode == 0 && !fragmented_)
        return violation(kCloseProtocolError, "continuation frame without a message to continue");
      if (opcode != 0 && fragmented_)
        return violation(kCloseProtocolError, "new message before the last one's final fragment");
      if (length > maxMessage_ || partial_.size() + length > maxMessage_)
        return violation(kCloseTooBig, fmt::format("message over {} bytes", maxMessage_));
    }
    if (masked) header += 4;
    if (buf_.size() < header || buf_.size() - header < length) return std::nullopt;
    std::string payload = buf_.substr(header, length);
    if (masked) {
      const char* key = buf_.data() + header - 4;
      for (std::size_t i = 0; i < payload.size(); ++i)
        payload[i] = static_cast<char>(payload[i] ^ key[i % 4]);
    }
    buf_.erase(0, header + length);

    if (isControl(opcode)) {
      if (opcode == static_cast<std::uint8_t>(Opcode::kClose)) {
        if (payload.size() == 1) return violation(kCloseProtocolError, "close payload of one byte");
        if (payload.size() >= 2 && !sendableCloseCode(closeCode(payload)))
          return violation(kCloseProtocolError,
                           fmt::format("invalid close code {}", closeCode(payload)));
        if (!validUtf8(std::string_view(payload).substr(std::min<std::size_t>(2, payload.size()))))
          return violation(kCloseInvalidPayload, "close reason is not UTF-8");
      }
      return Message{static_cast<Opcode>(opcode), std::move(payload)};
    }
    if (opcode != 0) fragmented_ = static_cast<Opcode>(opcode);
    partial_ += payload;
    if (fin) {
      if (*fragmented_ == Opcode::kText && !validUtf8(partial_))
        return violation(kCloseInvalidPayload, "text message is not UTF-8");
      Message m{*fragmented_, std::move(partial_)};
      fragmented_.reset();
      partial_.clear();
      return m;
    }
  }
}

std::string frame(Opcode opcode, std::string_view payload, bool fin,
                  std::optional<std::array<std::uint8_t, 4>> mask) {
  std::string out;
  out.reserve(payload.size() + 14);
  out += static_cast<char>((fin ? 0x80 : 0) | static_cast<std::uint8_t>(opcode));
  std::uint8_t maskBit = mask ? 0x80 : 0;
  std::uint64_t n = payload.size();
  if (n < 126) {
    out += static_cast<char>(maskBit | n);
  } else if (n <= 0xffff) {
    out += static_cast<char>(maskBit | 126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  } else {
    out += static_cast<char>(maskBit | 127);
    for (int shift = 56; shift >= 0; shift -= 8)
      out += static_cast<char>((n >> shift) & 0xff);
  }
  if (!mask) {
    out += payload;
    return out;
  }
  for (std::uint8_t b : *mask)
    out += static_cast<char>(b);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out += static_cast<char>(payload[i] ^ (*mask)[i % 4]);
  return out;
}

std::string closePayload(std::uint16_t code, std::string_view reason) {
  std::string out;
  out += static_cast<char>(code >> 8);
  out += static_cast<char>(code & 0xff);
  out += reason.substr(0, kMaxControlPayload - 2);
  return out;
}

std::uint16_t closeCode(std::string_view payload) {
  if (payload.size() < 2) return kCloseNoStatus;
  return static_cast<std::uint16_t>(static_cast<std::uint8_t>(payload[0]) << 8 |
                                    static_cast<std::uint8_t>(payload[1]));
}

std::string acceptKey(std::string_view key) {
  std::string input = std::string(key) + std::string(kGuid);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha1(), nullptr) != 1) return {};
  return base64Encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

bool isWebSocketRequest(const HttpRequest& request) {
  if (lower(request.header("upgrade").value_or("")) != "websocket") return false;
  auto tokens = request.headerValues("connection");
  return std::any_of(tokens.begin(), tokens.end(),
                     [](const std::string& t) { return lower(t) == "upgrade"; });
}

Result<std::string> acceptUpgrade(int fd, const HttpRequest& request,
                                  std::span<const std::string_view> supported) {
  if (request.method != "GET")
    return refuse(fd, 405, "Method Not Allowed",
                  fmt::format("websocket: method {} is not GET", request.method));
  if (!isWebSocketRequest(request))
    return refuse(fd, 400, "Bad Request", "websocket: missing upgrade headers in request");
  auto version = request.header("sec-websocket-version");
  if (version != "13")
    return refuse(fd, 426, "Upgrade Required",
                  fmt::format("websocket: unsupported Sec-WebSocket-Version \"{}\", want 13",
                              version.value_or("")),
                  {{"Sec-WebSocket-Version", "13"}});
  // RFC 6455 4.2.1: the key is 16 random bytes in base64.
  std::string key(request.header("sec-websocket-key").value_or(""));
  auto nonce = base64Decode(key);
  if (key.size() != 24 || !nonce || nonce->size() != 16)
    return refuse(
        fd, 400, "Bad Request",
        fmt::format("websocket: Sec-WebSocket-Key \"{}\" is not 16 bytes in base64", key));
  auto offered = request.headerValues("sec-websocket-protocol");
  if (offered.empty()) offered.emplace_back();
  std::optional<std::string> protocol;
  for (const auto& p : offered) {
    if (std::find(supported.begin(), supported.end(), p) != supported.end()) {
      protocol = p;
      break;
    }
  }
  if (!protocol)
    return refuse(fd, 403, "Forbidden",
                  fmt::format("websocket: requested protocol(s) are not supported: [{}]; "
                              "supports [{}]",
                              fmt::join(offered, " "), fmt::join(supported, " ")));
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Upgrade", "websocket"},
      {"Connection", "Upgrade"},
      {"Sec-WebSocket-Accept", acceptKey(key)}};
  if (!protocol->empty()) headers.emplace_back("Sec-WebSocket-Protocol", *protocol);
  BERTH_TRY(writeAll(fd, httpResponse(101, "Switching Protocols", headers)));
  return *protocol;
}

bool isBase64Protocol(std::string_view protocol) {
  return protocol.find("base64.") != std::string_view::npos;
}

Message encodeChannel(bool base64, std::uint8_t channel, std::string_view data) {
  if (base64) return {Opcode::kText, static_cast<char>('0' + channel) + base64Encode(data)};
  std::string payload;
  payload.reserve(data.size() + 1);
  payload += static_cast<char>(channel);
  payload += data;
  return {Opcode::kBinary, std::move(payload)};
}

std::optional<ChannelMessage> decodeChannel(bool base64, std::string_view payload) {
  if (payload.empty()) return std::nullopt;
  auto channel = static_cast<std::uint8_t>(payload[0]);
  if (!base64) return ChannelMessage{channel, std::string(payload.substr(1))};
  auto data = base64Decode(payload.substr(1));
  if (!data) return std::nullopt;
  return ChannelMessage{static_cast<std::uint8_t>(channel - '0'), std::move(*data)};
}

}  // namespace berth::shim::ws
