#include "kubeapi/big_uint.h"

#include <algorithm>

#include <fmt/format.h>

namespace berth::kubeapi {
namespace {
constexpr std::uint32_t kBase = 1000000000;
}

BigUint::BigUint(std::uint64_t v) {
  while (v) {
    limbs_.push_back(static_cast<std::uint32_t>(v % kBase));
    v /= kBase;
  }
}

std::optional<BigUint> BigUint::fromDigits(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  BigUint r;
  for (size_t end = digits.size(); end > 0;) {
    size_t start = end >= 9 ? end - 9 : 0;
    std::uint32_t limb = 0;
    for (size_t i = start; i < end; ++i) {
      char c = digits[i];
      if (c < '0' || c > '9') return std::nullopt;
      limb = limb * 10 + static_cast<std::uint32_t>(c - '0');
    }
    r.limbs_.push_back(limb);
    end = start;
  }
  r.trim();
  return r;
}

void BigUint::trim() {
  while (!limbs_.empty() && limbs_.back() == 0)
    limbs_.pop_back();
}

std::string BigUint::str() const {
  if (limbs_.empty()) return "0";
  std::string out = fmt::format("{}", limbs_.back());
  for (size_t i = limbs_.size() - 1; i-- > 0;)
    out += fmt::format("{:09d}", limbs_[i]);
  return out;
}

std::optional<std::uint64_t> BigUint::toUint64() const {
  unsigned __int128 v = 0;
  for (size_t i = limbs_.size(); i-- > 0;) {
    v = v * kBase + limbs_[i];
    if (v > UINT64_MAX) return std::nullopt;
  }
  return static_cast<std::uint64_t>(v);
}

int BigUint::cmp(const BigUint& a, const BigUint& b) {
  if (a.limbs_.size() != b.limbs_.size()) return a.limbs_.size() < b.limbs_.size() ? -1 : 1;
  for (size_t i = a.limbs_.size(); i-- > 0;) {
    if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] < b.limbs_[i] ? -1 : 1;
  }
  return 0;
}

BigUint BigUint::operator+(const BigUint& o) const {
  BigUint r;
  std::uint32_t carry = 0;
  for (size_t i = 0; i < std::max(limbs_.size(), o.limbs_.size()) || carry; ++i) {
    std::uint64_t sum = carry;
    if (i < limbs_.size()) sum += limbs_[i];
    if (i < o.limbs_.size()) sum += o.limbs_[i];
    r.limbs_.push_back(static_cast<std::uint32_t>(sum % kBase));
    carry = static_cast<std::uint32_t>(sum / kBase);
  }
  r.trim();
  return r;
}

BigUint BigUint::operator-(const BigUint& o) const {
  BigUint r = *this;
  std::int64_t borrow = 0;
  for (size_t i = 0; i < r.limbs_.size(); ++i) {
    std::int64_t d = static_cast<std::int64_t>(r.limbs_[i]) - borrow -
                     (i < o.limbs_.size() ? static_cast<std::int64_t>(o.limbs_[i]) : 0);
    borrow = d < 0 ? 1 : 0;
    if (d < 0) d += kBase;
    r.limbs_[i] = static_cast<std::uint32_t>(d);
  }
  r.trim();
  return r;
}

void BigUint::mulSmall(std::uint32_t m) {
  std::uint64_t carry = 0;
  for (auto& limb : limbs_) {
    std::uint64_t v = static_cast<std::uint64_t>(limb) * m + carry;
    limb = static_cast<std::uint32_t>(v % kBase);
    carry = v / kBase;
  }
  while (carry) {
    limbs_.push_back(static_cast<std::uint32_t>(carry % kBase));
    carry /= kBase;
  }
  trim();
}

std::uint32_t BigUint::divSmall(std::uint32_t d) {
  std::uint64_t rem = 0;
  for (size_t i = limbs_.size(); i-- > 0;) {
    std::uint64_t cur = rem * kBase + limbs_[i];
    limbs_[i] = static_cast<std::uint32_t>(cur / d);
    rem = cur % d;
  }
  trim();
  return static_cast<std::uint32_t>(rem);
}

void BigUint::mulPow10(std::int64_t n) {
  if (isZero()) return;
  for (; n >= 9; n -= 9)
    limbs_.insert(limbs_.begin(), 0);
  std::uint32_t m = 1;
  for (; n > 0; --n)
    m *= 10;
  mulSmall(m);
}

void BigUint::mulPow2(std::int64_t n) {
  for (; n >= 16; n -= 16)
    mulSmall(1u << 16);
  if (n > 0) mulSmall(1u << n);
}

}  // namespace berth::kubeapi
