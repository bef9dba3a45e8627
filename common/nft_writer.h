#pragma once
// Sends nftables changes to the kernel as one netlink transaction built with libnftnl: the
// difference between two desired-table snapshots (nft_plan.h), or element additions and deletions
// alone. One socket, bound in the network namespace the calling thread is in at open().

#include <memory>
#include <span>
#include <vector>

#include "common/nft_plan.h"
#include "common/nft_ruleset.h"
#include "common/result.h"

struct mnl_socket;

namespace berth::nft {

class NftWriter {
 public:
  [[nodiscard]] static Result<std::unique_ptr<NftWriter>> open();
  ~NftWriter();
  NftWriter(const NftWriter&) = delete;
  NftWriter& operator=(const NftWriter&) = delete;

  // Makes the kernel's tables `desired`, given that they are `applied` now; all or nothing.
  [[nodiscard]] Status apply(const std::vector<Table>& desired, const std::vector<Table>& applied);
  // Sends `ops` as one transaction. An error names the operation the kernel refused.
  [[nodiscard]] Status send(std::span<const Op> ops);

 private:
  explicit NftWriter(mnl_socket* sock);
  mnl_socket* sock_;
  uint32_t seq_;
};

}  // namespace berth::nft
