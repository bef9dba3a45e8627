#include "kubeapi/quantity.h"

#include <array>
#include <cctype>
#include <limits>

namespace berth::kubeapi {
namespace {

constexpr std::string_view kErrFormatWrong =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
constexpr std::string_view kErrNumeric = "unable to parse numeric part of quantity";
constexpr std::string_view kErrSuffix = "unable to parse quantity's suffix";
constexpr std::int64_t kMaxExponent = 100000;

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

struct Parts {
  bool positive = true;
  std::string_view num, denom, suffix;
};

// parseQuantityString: sign, numerator without leading zeros ("0" when empty), denominator,
// suffix. False where upstream returns ErrFormatWrong.
bool splitQuantity(std::string_view s, Parts& p) {
  size_t pos = 0, end = s.size();
  if (pos < end && (s[0] == '-' || s[0] == '+')) {
    p.positive = s[0] != '-';
    ++pos;
  }
  while (pos < end && s[pos] == '0')
    ++pos;
  if (pos >= end) {
    p.num = "0";
    return true;
  }
  size_t numStart = pos;
  while (pos < end && isDigit(s[pos]))
    ++pos;
  p.num = s.substr(numStart, pos - numStart);
  if (pos >= end) return true;
  if (p.num.empty()) p.num = "0";
  if (s[pos] == '.') {
    ++pos;
    size_t denomStart = pos;
    while (pos < end && isDigit(s[pos]))
      ++pos;
    p.denom = s.substr(denomStart, pos - denomStart);
    if (pos >= end) return true;
  }
  size_t suffixStart = pos;
  while (pos < end && std::string_view("eEinumkKMGTP").find(s[pos]) != std::string_view::npos)
    ++pos;
  if (pos >= end) {
    p.suffix = s.substr(suffixStart);
    return true;
  }
  if (s[pos] == '-' || s[pos] == '+') ++pos;
  while (pos < end && isDigit(s[pos]))
    ++pos;
  if (pos < end) return false;
  p.suffix = s.substr(suffixStart);
  return true;
}

struct Suffix {
  int base;
  std::int64_t exponent;
  Quantity::Format format;
};

constexpr std::array<std::pair<std::string_view, int>, 10> kDecimalSuffixes = {{
    {"n", -9},
    {"u", -6},
    {"m", -3},
    {"", 0},
    {"k", 3},
    {"M", 6},
    {"G", 9},
    {"T", 12},
    {"P", 15},
    {"E", 18},
}};
constexpr std::array<std::pair<std::string_view, int>, 7> kBinarySuffixes = {{
    {"", 0},
    {"Ki", 10},
    {"Mi", 20},
    {"Gi", 30},
    {"Ti", 40},
    {"Pi", 50},
    {"Ei", 60},
}};

std::optional<Suffix> interpretSuffix(std::string_view s) {
  for (const auto& [text, exp] : kDecimalSuffixes)
    if (text == s) return Suffix{10, exp, Quantity::Format::kDecimalSI};
  for (const auto& [text, exp] : kBinarySuffixes)
    if (!text.empty() && text == s) return Suffix{2, exp, Quantity::Format::kBinarySI};
  if (s.size() > 1 && (s[0] == 'e' || s[0] == 'E')) {
    std::string_view digits = s.substr(1);
    bool neg = false;
    if (digits[0] == '+' || digits[0] == '-') {
      neg = digits[0] == '-';
      digits.remove_prefix(1);
    }
    if (digits.empty() || digits.size() > 18) return std::nullopt;
    std::int64_t v = 0;
    for (char c : digits) {
      if (!isDigit(c)) return std::nullopt;
      v = v * 10 + (c - '0');
    }
    // Upstream keeps the low 32 bits of the parsed exponent.
    auto exp = static_cast<std::int32_t>(static_cast<std::uint32_t>(neg ? -v : v));
    return Suffix{10, exp, Quantity::Format::kDecimalExponent};
  }
  return std::nullopt;
}

size_t digitCount(const BigUint& v) {
  return v.isZero() ? 0 : v.str().size();
}

// Whole value of mag*10^scale, or nullopt when it has a fraction.
std::optional<BigUint> wholeValue(BigUint mag, std::int64_t scale) {
  if (scale >= 0) {
    mag.mulPow10(scale);
    return mag;
  }
  for (std::int64_t i = 0; i < -scale; ++i)
    if (mag.divSmall(10) != 0) return std::nullopt;
  return mag;
}

// ceil(mag / 10^n) for n > 0.
BigUint divPow10Up(BigUint mag, std::int64_t n) {
  if (mag.isZero()) return mag;
  if (static_cast<std::int64_t>(digitCount(mag)) <= n) return BigUint(1);
  bool fraction = false;
  for (; n >= 9; n -= 9)
    fraction = mag.divSmall(1000000000) != 0 || fraction;
  std::uint32_t d = 1;
  for (; n > 0; --n)
    d *= 10;
  if (d > 1) fraction = mag.divSmall(d) != 0 || fraction;
  return fraction ? mag + BigUint(1) : mag;
}

}  // namespace

Quantity Quantity::fromInt64(std::int64_t value, Format format) {
  Quantity q = fromScaled(value, 0);
  q.format_ = format;
  return q;
}

Quantity Quantity::fromMilli(std::int64_t milli, Format format) {
  Quantity q = fromScaled(milli, -3);
  q.format_ = format;
  return q;
}

Quantity Quantity::fromScaled(std::int64_t value, int scale) {
  Quantity q;
  q.negative_ = value < 0;
  std::uint64_t mag = value < 0 ? 0 - static_cast<std::uint64_t>(value) : value;
  q.mag_ = BigUint(mag);
  q.scale_ = scale;
  return q;
}

Result<Quantity> Quantity::parse(std::string_view str) {
  if (str.empty()) return fail(Code::kInvalidArgument, std::string(kErrFormatWrong));
  Quantity q;
  if (str == "0") {
    q.cached_ = "0";
    return q;
  }
  Parts p;
  if (!splitQuantity(str, p)) return fail(Code::kInvalidArgument, std::string(kErrFormatWrong));
  auto suffix = interpretSuffix(p.suffix);
  if (!suffix) return fail(Code::kInvalidArgument, std::string(kErrSuffix));
  if (suffix->exponent > kMaxExponent || suffix->exponent < -kMaxExponent)
    return fail(Code::kInvalidArgument, std::string(kErrNumeric));
  auto digits = static_cast<std::int64_t>(p.num.size() + p.denom.size());

  // Upstream's int64 fast path: where it applies, a canonical input string is kept as is.
  std::int64_t precision = 0, scale = 0;
  std::uint64_t mantissa = 1;
  if (suffix->format == Format::kBinarySI) {
    if (suffix->exponent >= 0 && p.denom.empty()) {
      mantissa <<= suffix->exponent;
      precision = 15 - static_cast<std::int64_t>(p.num.size()) -
                  static_cast<std::int64_t>(static_cast<float>(suffix->exponent) * 3 / 10) - 1;
    } else {
      precision = -1;
    }
  } else {
    scale = suffix->exponent;
    precision = 18 - digits;
  }
  if (precision >= 0) {
    scale -= static_cast<std::int64_t>(p.denom.size());
    if (scale >= -9) {
      std::string shifted = std::string(p.num) + std::string(p.denom);
      auto value = BigUint::fromDigits(shifted)->toUint64();
      if (!value || *value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return fail(Code::kInvalidArgument, std::string(kErrNumeric));
      unsigned __int128 product = static_cast<unsigned __int128>(*value) * mantissa;
      if (product <= static_cast<unsigned __int128>(std::numeric_limits<std::int64_t>::max())) {
        q.mag_ = BigUint(static_cast<std::uint64_t>(product));
        q.negative_ = !p.positive && !q.mag_.isZero();
        q.scale_ = scale;
        q.format_ = suffix->format;
        bool canonical;
        if (suffix->format == Format::kBinarySI) {
          canonical = suffix->exponent % 10 == 0 && (*value & 0x07) != 0;
        } else {
          canonical = scale % 3 == 0 && !shifted.ends_with("000") && shifted[0] != '0';
        }
        if (canonical) q.cached_ = str;
        return q;
      }
    }
  }

  // The exact path (upstream's inf.Dec): scale by the suffix, round up to nano, cap binary
  // values at the int64 maximum.
  q.mag_ = *BigUint::fromDigits(std::string(p.num) + std::string(p.denom));
  q.scale_ = -static_cast<std::int64_t>(p.denom.size());
  if (suffix->base == 10) {
    q.scale_ += suffix->exponent;
  } else {
    q.mag_.mulPow2(suffix->exponent);
  }
  if (!q.mag_.isZero() && q.scale_ < -9) {
    q.mag_ = divPow10Up(std::move(q.mag_), -9 - q.scale_);
    q.scale_ = -9;
  }
  q.format_ = suffix->format;
  if (q.format_ == Format::kBinarySI) {
    Quantity max = fromInt64(std::numeric_limits<std::int64_t>::max());
    Quantity abs = q;
    if (abs.cmp(max) > 0) {
      q.mag_ = max.mag_;
      q.scale_ = 0;
    }
    if (abs.cmp(fromInt64(1024)) < 0) q.format_ = Format::kDecimalSI;
  }
  q.negative_ = !p.positive && !q.mag_.isZero();
  return q;
}

Result<Quantity> Quantity::fromJson(const nlohmann::json& j) {
  if (j.is_null()) return Quantity();
  if (j.is_string()) {
    std::string_view s = j.get_ref<const std::string&>();
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
      s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
      s.remove_suffix(1);
    return parse(s);
  }
  if (j.is_number()) return parse(j.dump());
  return fail(Code::kInvalidArgument, "a quantity must be a string or a number");
}

std::string Quantity::str() const {
  if (!cached_.empty()) return cached_;
  if (isZero()) return "0";
  Format format = format_;
  std::optional<BigUint> whole;
  if (format == Format::kBinarySI) {
    Quantity abs = *this;
    abs.negative_ = false;
    if (abs.cmp(fromInt64(1024)) < 0) {
      format = Format::kDecimalSI;
    } else if (whole = wholeValue(mag_, scale_); !whole) {
      format = Format::kDecimalSI;  // don't lose precision
    }
  }
  std::string out = negative_ ? "-" : "";
  if (format == Format::kBinarySI) {
    BigUint amount = *whole;
    int exponent = 0;
    while (true) {
      BigUint probe = amount;
      if (BigUint::cmp(probe, BigUint(1024)) < 0 || probe.divSmall(1024) != 0) break;
      amount = probe;
      ++exponent;
    }
    out += amount.str();
    for (const auto& [text, exp] : kBinarySuffixes)
      if (exp == exponent * 10) out += text;
    return out;
  }
  BigUint amount = mag_;
  std::int64_t exponent = scale_;
  while (true) {
    BigUint probe = amount;
    if (BigUint::cmp(probe, BigUint(10)) < 0 || probe.divSmall(10) != 0) break;
    amount = probe;
    ++exponent;
  }
  while (exponent % 3 != 0) {
    amount.mulSmall(10);
    --exponent;
  }
  out += amount.str();
  if (format == Format::kDecimalExponent) {
    if (exponent != 0) out += "e" + std::to_string(exponent);
  } else {
    // A decimal exponent without an SI suffix (beyond "E") prints bare, as upstream does.
    for (const auto& [text, exp] : kDecimalSuffixes)
      if (exp == exponent) out += text;
  }
  return out;
}

int Quantity::cmp(const Quantity& o) const {
  if (sign() != o.sign()) return sign() < o.sign() ? -1 : 1;
  if (sign() == 0) return 0;
  int magnitude;
  auto orderA = static_cast<std::int64_t>(digitCount(mag_)) + scale_;
  auto orderB = static_cast<std::int64_t>(digitCount(o.mag_)) + o.scale_;
  if (orderA != orderB) {
    magnitude = orderA < orderB ? -1 : 1;
  } else {
    BigUint a = mag_, b = o.mag_;
    if (scale_ > o.scale_) a.mulPow10(scale_ - o.scale_);
    if (o.scale_ > scale_) b.mulPow10(o.scale_ - scale_);
    magnitude = BigUint::cmp(a, b);
  }
  return negative_ ? -magnitude : magnitude;
}

void Quantity::add(const Quantity& y) {
  cached_.clear();
  if (isZero()) format_ = y.format_;
  if (y.isZero()) return;
  BigUint a = mag_, b = y.mag_;
  std::int64_t scale = std::min(scale_, y.scale_);
  a.mulPow10(scale_ - scale);
  b.mulPow10(y.scale_ - scale);
  if (negative_ == y.negative_ || isZero()) {
    negative_ = y.negative_;
    mag_ = a + b;
  } else if (BigUint::cmp(a, b) >= 0) {
    mag_ = a - b;
  } else {
    mag_ = b - a;
    negative_ = y.negative_;
  }
  scale_ = scale;
  if (mag_.isZero()) negative_ = false;
}

void Quantity::sub(const Quantity& y) {
  add(y.neg());
}

Quantity Quantity::neg() const {
  Quantity q = *this;
  q.cached_.clear();
  q.negative_ = !q.isZero() && !negative_;
  return q;
}

std::int64_t Quantity::scaledValue(int scale) const {
  if (isZero()) return 0;
  std::int64_t shift = scale_ - scale;
  BigUint mag = mag_;
  if (shift >= 0) {
    if (shift > 19 && !mag.isZero()) {
      mag = BigUint(UINT64_MAX);
    } else {
      mag.mulPow10(shift);
    }
  } else {
    mag = divPow10Up(std::move(mag), -shift);
  }
  auto v = mag.toUint64();
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!v || *v > kMax)
    return negative_ ? std::numeric_limits<std::int64_t>::min()
                     : std::numeric_limits<std::int64_t>::max();
  return negative_ ? -static_cast<std::int64_t>(*v) : static_cast<std::int64_t>(*v);
}

}  // namespace berth::kubeapi
