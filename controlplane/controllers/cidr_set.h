#pragma once
// nodeipam's CidrSet (pkg/controller/nodeipam/ipam/cidrset): the node-sized subnets of one
// cluster CIDR as a bitmap, handed out round-robin from after the last one allocated (a
// released CIDR is not reused at once), occupied again from existing Nodes after a restart.
#include <cstdint>
#include <vector>

#include "common/ip.h"
#include "common/result.h"

namespace berth::controlplane::controllers {

class CidrSet {
 public:
  // Upstream's limit: at most 2^16 subnets per cluster CIDR.
  static constexpr int kMaxSubnetBits = 16;

  [[nodiscard]] static Result<CidrSet> create(const IpNet& cluster, int nodeMaskSize);

  const IpNet& cluster() const { return cluster_; }
  // The next free subnet; kResourceExhausted when none is left.
  [[nodiscard]] Result<IpNet> allocateNext();
  // Marks every subnet `cidr` overlaps used (or free); an error when it is outside the cluster.
  [[nodiscard]] Status occupy(const IpNet& cidr) { return mark(cidr, true); }
  [[nodiscard]] Status release(const IpNet& cidr) { return mark(cidr, false); }
  size_t allocatedCount() const { return allocated_; }

 private:
  CidrSet(const IpNet& cluster, int nodeMaskSize);
  Status mark(const IpNet& cidr, bool used);
  IpNet subnet(uint32_t index) const;
  uint32_t indexOf(const IpAddr& addr) const;

  IpNet cluster_;
  int nodeMaskSize_;
  std::vector<bool> used_;
  size_t allocated_ = 0;
  uint32_t nextCandidate_ = 0;
};

}  // namespace berth::controlplane::controllers
