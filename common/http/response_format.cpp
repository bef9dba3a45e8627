#include "common/http/response_format.h"

#include <ctime>

#include <fmt/format.h>
#include <boost/beast/http/status.hpp>

namespace berth::http {
namespace {

void appendClean(std::string& out, std::string_view s) {
  for (char c : s)
    out += (c == '\r' || c == '\n') ? ' ' : c;
}

}  // namespace

std::string_view statusText(int status) {
  namespace bhttp = boost::beast::http;
  if (status < 100 || status > 999) return {};
  auto reason = bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status)));
  std::string_view text(reason.data(), reason.size());
  return text == "<unknown-status>" ? std::string_view() : text;
}

std::string httpDate(std::chrono::system_clock::time_point when) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

std::string formatHead(int version, int status, const Headers& headers) {
  std::string out =
      fmt::format("HTTP/1.{} {} {}\r\n", version == 10 ? 0 : 1, status, statusText(status));
  for (const auto& [name, value] : headers.fields()) {
    appendClean(out, name);
    out += ": ";
    appendClean(out, value);
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

std::string formatChunk(std::string_view data) {
  std::string out = fmt::format("{:x}\r\n", data.size());
  out.reserve(out.size() + data.size() + 2);
  out += data;
  out += "\r\n";
  return out;
}

}  // namespace berth::http
