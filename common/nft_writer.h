#pragma once
// Sends nftables changes to the kernel as one netlink transaction built with libnftnl: the
// difference between two desired-table snapshots (nft_plan.h), or element additions and deletions
// alone. One socket, bound in the network namespace the calling thread is in at open().

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/nft_element.h"
#include "common/nft_plan.h"
#include "common/nft_ruleset.h"
#include "common/result.h"

struct mnl_socket;
struct nlmsghdr;

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

  // Element changes of existing sets of one table, keys already in the kernel's layout (what
  // the CNI plugins send per pod), as one transaction: one message per set, in the order the
  // sets first appear. Adding an identical element succeeds; deleting an absent one is ENOENT.
  [[nodiscard]] Status sendElements(bool add, Family family, const std::string& table,
                                    std::span<const NftElement> elements);
  // Whether the kernel holds the table (a cold start may then be split: splitTransactions).
  [[nodiscard]] Result<bool> hasTable(Family family, const std::string& table);
  // Whether the set holds an element with exactly this key (and interval-end flag).
  [[nodiscard]] Result<bool> hasElement(Family family, const std::string& table,
                                        const NftElement& element);

 private:
  explicit NftWriter(mnl_socket* sock);
  template <class Encode>
  Status sendBatch(Encode&& encode);
  // Sends the GET request `nlh` (built in `buf`) and reads its answer: whether any message of it
  // `matches`; false when the kernel says ENOENT.
  Result<bool> query(nlmsghdr* nlh, std::vector<char>& buf, std::string_view what,
                     const std::function<bool(const nlmsghdr*)>& matches);
  mnl_socket* sock_;
  uint32_t seq_;
};

}  // namespace berth::nft
