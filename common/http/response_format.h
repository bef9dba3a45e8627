#pragma once
// The bytes of HTTP/1.x responses: the status line and fields, the Date field's format, chunks.
// CR and LF in a field become spaces, so no handler can split a response (as Go's net/http).
#include <chrono>
#include <string>
#include <string_view>

#include "common/http/headers.h"

namespace berth::http {

// The reason phrase of a status ("Not Found"); empty for a code without one.
std::string_view statusText(int status);
// IMF-fixdate (RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string httpDate(std::chrono::system_clock::time_point when);
// "HTTP/1.1 404 Not Found\r\n" + fields + "\r\n". `version` is 10 or 11.
std::string formatHead(int version, int status, const Headers& headers);
// One chunk of a chunked body (RFC 9112 7.1); never empty data (that is the last chunk).
std::string formatChunk(std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace berth::http
