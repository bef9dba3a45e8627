#include "kubeapi/go_duration.h"

#include <cstdint>

#include "kubeapi/go_format.h"

namespace berth::kubeapi {
namespace {

// Writes v's fraction of 10^prec (trailing zeros dropped, no '.' when zero) in front of out.
std::uint64_t prependFraction(std::string& out, std::uint64_t v, int prec) {
  std::string frac;
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    auto digit = static_cast<char>('0' + v % 10);
    print = print || digit != '0';
    if (print) frac.insert(frac.begin(), digit);
    v /= 10;
  }
  if (print) out.insert(0, "." + frac);
  return v;
}

constexpr std::uint64_t kSecond = 1000000000;

}  // namespace

std::string formatGoDuration(std::chrono::nanoseconds d) {
  std::int64_t n = d.count();
  bool neg = n < 0;
  std::uint64_t u = neg ? 0 - static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
  std::string out;
  if (u < kSecond) {
    if (u == 0) return "0s";
    int prec;
    std::string unit;
    if (u < 1000) {
      prec = 0, unit = "ns";
    } else if (u < 1000000) {
      prec = 3, unit = "\u00b5s";
    } else {
      prec = 6, unit = "ms";
    }
    out = unit;
    u = prependFraction(out, u, prec);
    out.insert(0, std::to_string(u));
  } else {
    out = "s";
    u = prependFraction(out, u, 9);
    out.insert(0, std::to_string(u % 60));
    u /= 60;
    if (u > 0) {
      out.insert(0, std::to_string(u % 60) + "m");
      u /= 60;
      if (u > 0) out.insert(0, std::to_string(u) + "h");
    }
  }
  if (neg) out.insert(0, "-");
  return out;
}

Result<std::chrono::nanoseconds> parseGoDuration(std::string_view orig) {
  auto invalid = [&] {
    return fail(Code::kInvalidArgument, "time: invalid duration {}", goQuote(orig));
  };
  std::string_view s = orig;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return invalid();
  constexpr std::uint64_t kLimit = std::uint64_t(1) << 63;
  std::uint64_t total = 0;
  auto isDigit = [](char c) { return c >= '0' && c <= '9'; };
  while (!s.empty()) {
    if (!(s[0] == '.' || isDigit(s[0]))) return invalid();
    std::uint64_t v = 0;
    size_t i = 0;
    for (; i < s.size() && isDigit(s[i]); ++i) {
      if (v > (kLimit - 1) / 10) return invalid();
      v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
      if (v > kLimit) return invalid();
    }
    bool pre = i > 0;
    s.remove_prefix(i);
    std::uint64_t f = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t k = 0;
      bool overflow = false;
      for (; k < s.size() && isDigit(s[k]); ++k) {
        if (overflow) continue;
        if (f > (kLimit - 1) / 10) {
          overflow = true;  // further digits no longer matter
          continue;
        }
        std::uint64_t y = f * 10 + static_cast<std::uint64_t>(s[k] - '0');
        if (y > kLimit) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = k > 0;
      s.remove_prefix(k);
    }
    if (!pre && !post) return invalid();
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !isDigit(s[u]))
      ++u;
    if (u == 0)
      return fail(Code::kInvalidArgument, "time: missing unit in duration {}", goQuote(orig));
    std::string_view unitText = s.substr(0, u);
    s.remove_prefix(u);
    std::uint64_t unit;
    if (unitText == "ns")
      unit = 1;
    else if (unitText == "us" || unitText == "\u00b5s" || unitText == "\u03bcs")
      unit = 1000;
    else if (unitText == "ms")
      unit = 1000000;
    else if (unitText == "s")
      unit = kSecond;
    else if (unitText == "m")
      unit = 60 * kSecond;
    else if (unitText == "h")
      unit = 3600 * kSecond;
    else
      return fail(Code::kInvalidArgument, "time: unknown unit {} in duration {}", goQuote(unitText),
                  goQuote(orig));
    if (v > kLimit / unit) return invalid();
    v *= unit;
    if (f > 0) {
      v += static_cast<std::uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > kLimit) return invalid();
    }
    total += v;
    if (total > kLimit) return invalid();
  }
  if (neg) return std::chrono::nanoseconds(static_cast<std::int64_t>(0 - total));
  if (total > kLimit - 1) return invalid();
  return std::chrono::nanoseconds(static_cast<std::int64_t>(total));
}

}  // namespace berth::kubeapi
