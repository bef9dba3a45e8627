#pragma once
// Set and map elements that carry their owner (an attachment, "<containerID>/<ifname>") in an
// nft comment, read back from `nft -j list table` output: how DEL without prevResult and GC find
// what an attachment added.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cni-plugins/cni/types.h"

namespace berth::cni {

struct OwnedElement {
  std::string family;  // "inet", "bridge", ...
  std::string table;
  std::string set;
  std::string key;  // in nft syntax: "tcp . 8080", "10.0.0.0/24 . 10.0.0.2"
  std::string owner;
};

// The commented elements of the sets and maps `ours` accepts.
std::vector<OwnedElement> ownedElements(const Json& listing,
                                        const std::function<bool(std::string_view)>& ours);
// One "delete element" per element (each must exist).
std::string deleteElements(const std::vector<OwnedElement>& elements);

inline std::string attachmentOwner(std::string_view containerId, std::string_view ifname) {
  return std::string(containerId) + "/" + std::string(ifname);
}

}  // namespace berth::cni
