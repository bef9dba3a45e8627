#include "common/ip.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace berth {

IpAddr IpAddr::v4(uint32_t hostOrder) {
  IpAddr a;
  a.family_ = 4;
  for (int i = 0; i < 4; ++i)
    a.bytes_[i] = static_cast<uint8_t>(hostOrder >> (24 - 8 * i));
  return a;
}

IpAddr IpAddr::fromBytes(int family, const uint8_t* bytes) {
  IpAddr a;
  a.family_ = static_cast<uint8_t>(family);
  std::memcpy(a.bytes_.data(), bytes, a.size());
  return a;
}

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN + 1];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddr a;
  if (inet_pton(AF_INET, buf, a.bytes_.data()) == 1) {
    a.family_ = 4;
    return a;
  }
  if (inet_pton(AF_INET6, buf, a.bytes_.data()) == 1) {
    a.family_ = 6;
    // An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 address, as Go's net.ParseIP treats it.
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a.bytes_.data(), kMapped, 12) == 0) {
      std::memmove(a.bytes_.data(), a.bytes_.data() + 12, 4);
      std::memset(a.bytes_.data() + 4, 0, 12);
      a.family_ = 4;
    }
    return a;
  }
  return std::nullopt;
}

std::string IpAddr::str() const {
  if (!valid()) return "";
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(isV4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

IpAddr IpAddr::next() const {
  IpAddr a = *this;
  for (int i = static_cast<int>(size()) - 1; i >= 0; --i) {
    if (++a.bytes_[i] != 0) break;
  }
  return a;
}

IpAddr IpAddr::prev() const {
  IpAddr a = *this;
  for (int i = static_cast<int>(size()) - 1; i >= 0; --i) {
    if (a.bytes_[i]-- != 0) break;
  }
  return a;
}

IpAddr IpAddr::masked(int prefix, bool ones) const {
  IpAddr a = *this;
  for (int i = 0; i < static_cast<int>(size()); ++i) {
    int keep = prefix - 8 * i;
    uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
    a.bytes_[i] = ones ? (a.bytes_[i] | static_cast<uint8_t>(~mask)) : (a.bytes_[i] & mask);
  }
  return a;
}

std::optional<IpNet> IpNet::parse(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = IpAddr::parse(text.substr(0, slash));
  if (!ip) return std::nullopt;
  auto len = text.substr(slash + 1);
  int prefix = -1;
  auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
  if (ec != std::errc() || p != len.data() + len.size() || len.empty()) return std::nullopt;
  // An IPv4-mapped IPv6 prefix was given in IPv6 bits.
  if (ip->isV4() && text.substr(0, slash).find(':') != std::string_view::npos) prefix -= 96;
  if (prefix < 0 || prefix > ip->bits()) return std::nullopt;
  return IpNet(*ip, prefix);
}

bool IpNet::contains(const IpAddr& a) const {
  return a.family() == ip_.family() && a.masked(prefix_) == network();
}

bool IpNet::overlaps(const IpNet& o) const {
  return contains(o.network()) || o.contains(network());
}

std::string IpNet::str() const {
  return ip_.str() + "/" + std::to_string(prefix_);
}

}  // namespace berth
