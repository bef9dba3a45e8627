#pragma once
// An unsigned integer of any size (base 10^9 limbs), for resource.Quantity: upstream keeps
// values that overflow int64 (and up to 10^±2^31 exponents) exactly with inf.Dec, and prints
// them exactly, so we need the same range. Only the operations quantities use.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::kubeapi {

class BigUint {
 public:
  BigUint() = default;
  explicit BigUint(std::uint64_t v);
  // Decimal digits only (leading zeros allowed); nullopt for anything else or "".
  static std::optional<BigUint> fromDigits(std::string_view digits);

  bool isZero() const { return limbs_.empty(); }
  std::string str() const;
  std::optional<std::uint64_t> toUint64() const;

  // Returns -1, 0, 1.
  static int cmp(const BigUint& a, const BigUint& b);
  BigUint operator+(const BigUint& o) const;
  // Requires *this >= o.
  BigUint operator-(const BigUint& o) const;

  void mulSmall(std::uint32_t m);
  // Divides in place; returns the remainder.
  std::uint32_t divSmall(std::uint32_t d);
  void mulPow10(std::int64_t n);
  void mulPow2(std::int64_t n);

 private:
  void trim();
  std::vector<std::uint32_t> limbs_;  // little-endian, base 1e9, no leading zero limbs
};

}  // namespace berth::kubeapi
