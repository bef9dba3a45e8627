#include "controlplane/controllers/cidr_set.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace berth::controlplane::controllers {

namespace {

int bitAt(const IpAddr& a, int pos) {
  return (a.data()[pos / 8] >> (7 - pos % 8)) & 1;
}

}  // namespace

Result<CidrSet> CidrSet::create(const IpNet& cluster, int nodeMaskSize) {
  if (nodeMaskSize < cluster.prefix() || nodeMaskSize > cluster.ip().bits())
    return fail(Code::kInvalidArgument, "node CIDR mask size /{} does not fit cluster CIDR {}",
                nodeMaskSize, cluster.str());
  // Upstream's ErrCIDRSetSubNetTooBig.
  if (nodeMaskSize - cluster.prefix() > kMaxSubnetBits)
    return fail(Code::kInvalidArgument,
                "New CIDR set failed; the node CIDR size is too big: cluster {} node mask /{}",
                cluster.str(), nodeMaskSize);
  return CidrSet(cluster.canonical(), nodeMaskSize);
}

CidrSet::CidrSet(const IpNet& cluster, int nodeMaskSize)
    : cluster_(cluster),
      nodeMaskSize_(nodeMaskSize),
      used_(size_t{1} << (nodeMaskSize - cluster.prefix())) {}

IpNet CidrSet::subnet(uint32_t index) const {
  std::array<uint8_t, 16> bytes{};
  const IpAddr& base = cluster_.ip();
  std::memcpy(bytes.data(), base.data(), base.size());
  int width = nodeMaskSize_ - cluster_.prefix();
  for (int b = 0; b < width; ++b) {
    int pos = nodeMaskSize_ - 1 - b;
    if ((index >> b) & 1) bytes[pos / 8] |= static_cast<uint8_t>(0x80 >> (pos % 8));
  }
  return IpNet(IpAddr::fromBytes(base.family(), bytes.data()), nodeMaskSize_);
}

uint32_t CidrSet::indexOf(const IpAddr& addr) const {
  uint32_t index = 0;
  for (int pos = cluster_.prefix(); pos < nodeMaskSize_; ++pos)
    index = (index << 1) | static_cast<uint32_t>(bitAt(addr, pos));
  return index;
}

Result<IpNet> CidrSet::allocateNext() {
  size_t n = used_.size();
  for (size_t i = 0; i < n; ++i) {
    uint32_t candidate = static_cast<uint32_t>((nextCandidate_ + i) % n);
    if (used_[candidate]) continue;
    used_[candidate] = true;
    ++allocated_;
    nextCandidate_ = static_cast<uint32_t>((candidate + 1) % n);
    return subnet(candidate);
  }
  // Upstream's ErrCIDRRangeNoCIDRsRemaining.
  return fail(Code::kResourceExhausted,
              "CIDR allocation failed; there are no remaining CIDRs left to allocate in the "
              "accepted range {}",
              cluster_.str());
}

Status CidrSet::mark(const IpNet& cidr, bool used) {
  if (cidr.ip().family() != cluster_.ip().family() || !cluster_.overlaps(cidr))
    return fail(Code::kInvalidArgument, "CIDR {} is out of the range of cluster CIDR {}",
                cidr.str(), cluster_.str());
  IpAddr lo = std::max(cidr.network(), cluster_.network());
  IpAddr hi = std::min(cidr.broadcast(), cluster_.broadcast());
  for (uint32_t i = indexOf(lo); i <= indexOf(hi); ++i) {
    if (used_[i] == used) continue;
    used_[i] = used;
    used ? ++allocated_ : --allocated_;
  }
  return {};
}

}  // namespace berth::controlplane::controllers
