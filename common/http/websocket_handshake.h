#pragma once
// The checks of a WebSocket opening handshake (RFC 6455 4.2.1) that come before Beast completes
// it, with the answers the kubelet's wsstream server gives: 405 for a method other than GET, 400
// without the upgrade headers or a Sec-WebSocket-Key of 16 bytes in base64, 426 naming version 13
// for another Sec-WebSocket-Version, 403 when no subprotocol is in common.
#include <expected>
#include <span>
#include <string>
#include <string_view>

#include "common/http/headers.h"

namespace berth::http {

struct HandshakeRefusal {
  int status = 400;
  std::string message;
  Headers headers;  // 426: Sec-WebSocket-Version: 13
};

// The subprotocol to agree on: the client's first offer that `ours` holds; "" when the client
// offers none and `allowNone`.
std::expected<std::string, HandshakeRefusal> negotiateWebSocket(std::string_view method,
                                                                const Headers& headers,
                                                                std::span<const std::string> ours,
                                                                bool allowNone);

}  // namespace berth::http
