#include "kubeapi/meta_time.h"

#include <fmt/format.h>

#include "kubeapi/go_format.h"

namespace berth::kubeapi {
namespace {

using namespace std::chrono;

std::string formatWith(Time t, bool micro) {
  auto secs = floor<seconds>(t);
  auto days = floor<std::chrono::days>(secs);
  year_month_day ymd{days};
  hh_mm_ss<seconds> hms{secs - days};
  std::string out = fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}", int(ymd.year()),
                                unsigned(ymd.month()), unsigned(ymd.day()), hms.hours().count(),
                                hms.minutes().count(), hms.seconds().count());
  if (micro) out += fmt::format(".{:06d}", duration_cast<microseconds>(t - secs).count());
  return out + "Z";
}

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::string formatTime(Time t) {
  return formatWith(t, false);
}
std::string formatMicroTime(Time t) {
  return formatWith(t, true);
}

Result<Time> parseTime(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return fail(Code::kInvalidArgument, "parsing time {} as \"2006-01-02T15:04:05Z07:00\": {}",
                goQuote(s), why);
  };
  int y, mo, d, h, mi, sec;
  if (!digits(s, 0, 4, y) || s.size() < 5 || s[4] != '-' || !digits(s, 5, 2, mo) || s.size() < 8 ||
      s[7] != '-' || !digits(s, 8, 2, d) || s.size() < 11 || s[10] != 'T' || !digits(s, 11, 2, h) ||
      s.size() < 14 || s[13] != ':' || !digits(s, 14, 2, mi) || s.size() < 17 || s[16] != ':' ||
      !digits(s, 17, 2, sec))
    return bad("not an RFC 3339 time");
  if (mo < 1 || mo > 12) return bad("month out of range");
  year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return bad("day out of range");
  if (h > 23) return bad("hour out of range");
  if (mi > 59) return bad("minute out of range");
  if (sec > 59) return bad("second out of range");
  size_t pos = 19;
  nanoseconds frac{0};
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    size_t start = ++pos;
    std::int64_t ns = 0;
    int n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 9) {
        ns = ns * 10 + (s[pos] - '0');
        ++n;
      }
      ++pos;
    }
    if (pos == start) return bad("missing fraction digits");
    for (; n < 9; ++n)
      ns *= 10;
    frac = nanoseconds(ns);
  }
  seconds offset{0};
  if (pos < s.size() && s[pos] == 'Z') {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om))
      return bad("bad time zone offset");
    if (oh > 24 || om > 59) return bad("time zone offset out of range");
    offset = hours(oh) + minutes(om);
    if (s[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return bad("missing time zone");
  }
  if (pos != s.size()) return bad(fmt::format("extra text: {}", goQuote(s.substr(pos))));
  Time t = sys_days(ymd) + hours(h) + minutes(mi) + seconds(sec) + frac;
  return t - offset;
}

nlohmann::json timeToJson(const std::optional<Time>& t) {
  return t ? nlohmann::json(formatTime(*t)) : nlohmann::json(nullptr);
}

nlohmann::json microTimeToJson(const std::optional<Time>& t) {
  return t ? nlohmann::json(formatMicroTime(*t)) : nlohmann::json(nullptr);
}

Result<std::optional<Time>> timeFromJson(const nlohmann::json& j) {
  if (j.is_null()) return std::optional<Time>();
  if (!j.is_string()) return fail(Code::kInvalidArgument, "a time must be a string");
  const auto& s = j.get_ref<const std::string&>();
  if (s.empty()) return std::optional<Time>();
  return std::optional<Time>(BERTH_TRY(parseTime(s)));
}

}  // namespace berth::kubeapi
