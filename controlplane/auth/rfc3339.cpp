#include "controlplane/auth/rfc3339.h"

#include <cctype>
#include <ctime>

#include <fmt/format.h>

namespace berth::controlplane::auth {

namespace {

bool digits(std::string_view text, std::size_t at, std::size_t count, int& value) {
  if (at + count > text.size()) return false;
  value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
    value = value * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

Result<std::chrono::system_clock::time_point> parseRfc3339(std::string_view text) {
  auto bad = [&] { return fail(Code::kInvalidArgument, "\"{}\" is not an RFC 3339 time", text); };
  struct tm tm {};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' ||
      !digits(text, 5, 2, month) || text[7] != '-' || !digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't') || !digits(text, 11, 2, hour) || text[13] != ':' ||
      !digits(text, 14, 2, minute) || text[16] != ':' || !digits(text, 17, 2, second)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return bad();
  }
  std::size_t at = 19;
  std::chrono::nanoseconds fraction{0};
  if (at < text.size() && text[at] == '.') {
    ++at;
    std::int64_t nanos = 0;
    int count = 0;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) {
      if (count < 9) nanos = nanos * 10 + (text[at] - '0');
      ++count;
      ++at;
    }
    if (count == 0) return bad();
    for (int i = count; i < 9; ++i)
      nanos *= 10;
    fraction = std::chrono::nanoseconds(nanos);
  }
  int offsetSeconds = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int offsetHours = 0, offsetMinutes = 0;
    if (!digits(text, at + 1, 2, offsetHours) || at + 3 >= text.size() || text[at + 3] != ':' ||
        !digits(text, at + 4, 2, offsetMinutes)) {
      return bad();
    }
    offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (text[at] == '-' ? -1 : 1);
    at += 6;
  } else {
    return bad();
  }
  if (at != text.size()) return bad();
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t utc = timegm(&tm) - offsetSeconds;
  return std::chrono::system_clock::from_time_t(utc) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(fraction);
}

std::string formatRfc3339(std::chrono::system_clock::time_point time) {
  const std::time_t seconds =
      std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(time));
  struct tm tm {};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace berth::controlplane::auth
