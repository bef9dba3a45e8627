#include "common/http/websocket_handshake.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/base64.h"

namespace berth::http {
namespace {

std::unexpected<HandshakeRefusal> refuse(int status, std::string message, Headers headers = {}) {
  return std::unexpected(HandshakeRefusal{status, std::move(message), std::move(headers)});
}

bool hasToken(const Headers& headers, std::string_view name, std::string_view token) {
  auto values = headers.values(name);
  return std::any_of(values.begin(), values.end(),
                     [&](const std::string& v) { return Headers::nameEquals(v, token); });
}

}  // namespace

std::expected<std::string, HandshakeRefusal> negotiateWebSocket(std::string_view method,
                                                                const Headers& headers,
                                                                std::span<const std::string> ours,
                                                                bool allowNone) {
  if (method != "GET") return refuse(405, fmt::format("websocket: method {} is not GET", method));
  if (!hasToken(headers, "Connection", "upgrade") || !hasToken(headers, "Upgrade", "websocket"))
    return refuse(400, "websocket: missing upgrade headers in request");
  auto version = headers.get("Sec-WebSocket-Version");
  if (version != "13")
    return refuse(426,
                  fmt::format("websocket: unsupported Sec-WebSocket-Version \"{}\", want 13",
                              version.value_or("")),
                  {{"Sec-WebSocket-Version", "13"}});
  std::string key(headers.get("Sec-WebSocket-Key").value_or(""));
  auto nonce = base64Decode(key);
  if (key.size() != 24 || !nonce || nonce->size() != 16)
    return refuse(
        400, fmt::format("websocket: Sec-WebSocket-Key \"{}\" is not 16 bytes in base64", key));
  auto offered = headers.values("Sec-WebSocket-Protocol");
  for (const auto& p : offered)
    if (std::find(ours.begin(), ours.end(), p) != ours.end()) return p;
  if (offered.empty() && allowNone) return std::string();
  std::vector<std::string> supported(ours.begin(), ours.end());
  if (allowNone) supported.emplace_back();
  return refuse(403, fmt::format("websocket: requested protocol(s) are not supported: [{}]; "
                                 "supports [{}]",
                                 fmt::join(offered, " "), fmt::join(supported, " ")));
}

}  // namespace berth::http
