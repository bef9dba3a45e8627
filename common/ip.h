#pragma once
// IPv4/IPv6 addresses and prefixes as CNI writes them ("10.1.0.5", "10.1.0.5/16", "fd00::1/64"),
// with the arithmetic an IPAM needs (next address, containment, network and broadcast).

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth {

class IpAddr {
 public:
  IpAddr() = default;
  static IpAddr v4(uint32_t hostOrder);
  // Parses dotted IPv4 or IPv6 text; nullopt if it is neither.
  static std::optional<IpAddr> parse(std::string_view text);
  // From 4 (family 4) or 16 (family 6) bytes in network order.
  static IpAddr fromBytes(int family, const uint8_t* bytes);

  bool isV4() const { return family_ == 4; }
  bool isV6() const { return family_ == 6; }
  bool valid() const { return family_ != 0; }
  int family() const { return family_; }  // 4, 6, or 0 when unset
  int bits() const { return isV4() ? 32 : 128; }
  // 4 or 16 bytes, network order.
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return isV4() ? 4 : 16; }

  std::string str() const;
  // +1 / -1, wrapping within the family.
  IpAddr next() const;
  IpAddr prev() const;
  // Keeps the first `prefix` bits, clears the rest (or sets them with ones=true).
  IpAddr masked(int prefix, bool ones = false) const;

  auto operator<=>(const IpAddr&) const = default;

 private:
  uint8_t family_ = 0;
  std::array<uint8_t, 16> bytes_{};
};

class IpNet {
 public:
  IpNet() = default;
  IpNet(IpAddr ip, int prefix) : ip_(ip), prefix_(prefix) {}
  // "addr/len"; the address keeps its host bits (10.1.0.5/16 stays as written).
  static std::optional<IpNet> parse(std::string_view text);

  const IpAddr& ip() const { return ip_; }
  int prefix() const { return prefix_; }
  IpAddr network() const { return ip_.masked(prefix_); }
  IpAddr broadcast() const { return ip_.masked(prefix_, true); }
  // The same prefix with host bits cleared.
  IpNet canonical() const { return IpNet(network(), prefix_); }
  bool contains(const IpAddr& a) const;
  bool overlaps(const IpNet& o) const;
  std::string str() const;

  auto operator<=>(const IpNet&) const = default;

 private:
  IpAddr ip_;
  int prefix_ = 0;
};

}  // namespace berth
