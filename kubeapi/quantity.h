#pragma once
// resource.Quantity as apimachinery parses, prints, compares and adds it:
//   "100m", "1.5" (prints "1500m"), "1Gi", "1024Mi" (prints "1Gi"), "1e3", "12E6", "0.1n"
//   (rounds up to "1n").
// Exact at any size (values beyond int64 are kept, as upstream's inf.Dec keeps them). A
// quantity parsed in canonical form prints as it was written; others print canonically
// (decimal SI, binary SI when the value is a whole multiple >= 1024, or decimal exponent).
// Deviation: exponents beyond +-100000 are rejected (upstream stores them; no real quantity
// has one, and aligning them would cost memory).
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubeapi/big_uint.h"

namespace berth::kubeapi {

class Quantity {
 public:
  enum class Format { kDecimalSI, kBinarySI, kDecimalExponent };

  Quantity() = default;  // zero, DecimalSI
  // resource.NewQuantity / NewMilliQuantity / NewScaledQuantity(value, scale): value*10^scale.
  static Quantity fromInt64(std::int64_t value, Format format = Format::kDecimalSI);
  static Quantity fromMilli(std::int64_t milli, Format format = Format::kDecimalSI);
  static Quantity fromScaled(std::int64_t value, int scale);

  // resource.ParseQuantity; errors carry upstream's messages ("quantities must match the
  // regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'", "unable to parse
  // quantity's suffix", "unable to parse numeric part of quantity").
  [[nodiscard]] static Result<Quantity> parse(std::string_view s);
  // From JSON: a string, or a number (as its text); null is zero.
  [[nodiscard]] static Result<Quantity> fromJson(const nlohmann::json& j);

  std::string str() const;
  nlohmann::json toJson() const { return str(); }
  Format format() const { return format_; }

  bool isZero() const { return mag_.isZero(); }
  int sign() const { return isZero() ? 0 : (negative_ ? -1 : 1); }
  // -1, 0, 1.
  int cmp(const Quantity& o) const;
  bool operator==(const Quantity& o) const { return cmp(o) == 0; }
  bool operator<(const Quantity& o) const { return cmp(o) < 0; }

  // q += y / q -= y; a zero q takes y's format, as upstream.
  void add(const Quantity& y);
  void sub(const Quantity& y);
  Quantity neg() const;

  // ceil(q / 10^scale), rounded away from zero for negative values as upstream's int64 path;
  // saturated at the int64 range.
  std::int64_t scaledValue(int scale) const;
  std::int64_t value() const { return scaledValue(0); }
  std::int64_t milliValue() const { return scaledValue(-3); }

 private:
  // value = (negative ? -1 : 1) * mag * 10^scale
  bool negative_ = false;
  BigUint mag_;
  std::int64_t scale_ = 0;
  Format format_ = Format::kDecimalSI;
  std::string cached_;  // the parsed string when it was canonical
};

}  // namespace berth::kubeapi
