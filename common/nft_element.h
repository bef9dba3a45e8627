#pragma once
// A set or map element already in the kernel's layout, as the CNI plugins build them.

#include <cstdint>
#include <string>
#include <vector>

namespace berth {

// One element of a set or map in the kernel's layout: each field of a concatenation padded to 4
// bytes, addresses and ports in network order (what `nft --debug=netlink` prints).
struct NftElement {
  std::string set;
  std::vector<uint8_t> key;
  std::vector<uint8_t> keyEnd;  // the interval's end for a concatenated interval set, or empty
  std::vector<uint8_t> data;    // a map's value, or empty
  std::string comment;
  bool intervalEnd = false;  // the end element of an interval in a plain interval set
};

}  // namespace berth
