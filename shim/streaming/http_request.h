#pragma once
// The head of one HTTP/1.1 request, as far as the streaming server needs it: the request line and
// the headers of an Upgrade request (RFC 9112). Bodies are not read: streaming requests have none.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace berth::shim {

struct HttpRequest {
  std::string method;
  std::string path;                                          // the target without the query
  std::string query;                                         // after '?', undecoded
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased, in order

  // The first value of a header, nullopt when absent.
  std::optional<std::string_view> header(std::string_view lowercaseName) const;
  // All values of a header: repeated headers and comma-separated lists, trimmed.
  std::vector<std::string> headerValues(std::string_view lowercaseName) const;
  // The values of a query parameter, percent-decoded ('+' is a space), in order.
  std::vector<std::string> queryValues(std::string_view name) const;
};

inline constexpr std::size_t kMaxRequestHead = 16 * 1024;

// Parses a request head ending in "\r\n\r\n" (the terminator included).
[[nodiscard]] Result<HttpRequest> parseHttpRequest(std::string_view head);

// Reads from fd until the end of the request head; bytes read past it (the client may already
// send SPDY frames) are returned in `rest`.
[[nodiscard]] Result<HttpRequest> readHttpRequest(int fd, std::string& rest);

// "HTTP/1.1 <code> <reason>\r\n" + headers + a text body.
std::string httpResponse(int code, std::string_view reason,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         std::string_view body = {});

}  // namespace berth::shim
