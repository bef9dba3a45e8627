// Request's accessors (the struct is declared in server.h).
#include <algorithm>

#include "common/http/server.h"

namespace berth::http {

std::optional<std::string_view> Request::queryParam(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

std::vector<std::string_view> Request::queryParams(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : query)
    if (k == name) out.emplace_back(v);
  return out;
}

bool Request::isWebSocketUpgrade() const {
  auto has = [&](std::string_view header, std::string_view token) {
    auto values = headers.values(header);
    return std::any_of(values.begin(), values.end(),
                       [&](const std::string& v) { return Headers::nameEquals(v, token); });
  };
  return has("Connection", "upgrade") && has("Upgrade", "websocket");
}

}  // namespace berth::http
