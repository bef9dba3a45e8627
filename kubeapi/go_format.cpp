#include "kubeapi/go_format.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace berth::kubeapi {
namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length (0: invalid byte).
size_t decodeRune(std::string_view s, size_t i, char32_t& r) {
  auto b = static_cast<unsigned char>(s[i]);
  size_t n;
  char32_t min;
  if (b < 0x80) {
    r = b;
    return 1;
  } else if ((b & 0xE0) == 0xC0) {
    n = 2, r = b & 0x1F, min = 0x80;
  } else if ((b & 0xF0) == 0xE0) {
    n = 3, r = b & 0x0F, min = 0x800;
  } else if ((b & 0xF8) == 0xF0) {
    n = 4, r = b & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    r = (r << 6) | (c & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return 0;
  return n;
}

bool isPrintable(char32_t r) {
  if (r < 0x20 || r == 0x7F) return false;
  if (r < 0x7F) return true;
  if (r >= 0x80 && r <= 0xA0) return false;  // C1 controls and NBSP (Go prints U+00A0 escaped)
  if (r == 0xAD || r == 0x2028 || r == 0x2029 || r == 0xFEFF) return false;
  if ((r & 0xFFFE) == 0xFFFE) return false;  // noncharacters
  return true;
}

}  // namespace

std::string goQuote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    char32_t r = 0;
    size_t n = decodeRune(s, i, r);
    if (n == 0) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    if (r == '"' || r == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(r));
    } else if (isPrintable(r)) {
      out.append(s.substr(i, n));
    } else {
      switch (r) {
        case '\a':
          out += "\\a";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\v':
          out += "\\v";
          break;
        default:
          if (r < 0x20 || r == 0x7F) {
            out += fmt::format("\\x{:02x}", static_cast<unsigned>(r));
          } else if (r < 0x10000) {
            out += fmt::format("\\u{:04x}", static_cast<unsigned>(r));
          } else {
            out += fmt::format("\\U{:08x}", static_cast<unsigned>(r));
          }
      }
    }
    i += n;
  }
  out.push_back('"');
  return out;
}

std::string goFloat(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  // The shortest representation that round-trips, as Go's 'g' with precision -1.
  std::string digits;
  int exp10 = 0;
  for (int prec = 1; prec <= 17; ++prec) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*e", prec - 1, f);
    if (std::strtod(buf, nullptr) == f) {
      std::string_view v(buf);
      auto e = v.find('e');
      std::string mant(v.substr(0, e));
      exp10 = std::atoi(buf + e + 1);
      for (char c : mant)
        if (c >= '0' && c <= '9') digits.push_back(c);
      break;
    }
  }
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();
  bool neg = std::signbit(f);
  std::string out = neg ? "-" : "";
  int n = static_cast<int>(digits.size());
  if (exp10 < -4 || exp10 >= 21) {
    out += digits[0];
    if (n > 1) out += "." + digits.substr(1);
    out += fmt::format("e{}{:02d}", exp10 < 0 ? '-' : '+', std::abs(exp10));
  } else if (exp10 < 0) {
    out += "0." + std::string(static_cast<size_t>(-exp10 - 1), '0') + digits;
  } else if (exp10 + 1 >= n) {
    out += digits + std::string(static_cast<size_t>(exp10 + 1 - n), '0');
  } else {
    out += digits.substr(0, static_cast<size_t>(exp10 + 1)) + "." +
           digits.substr(static_cast<size_t>(exp10 + 1));
  }
  return out;
}

}  // namespace berth::kubeapi
