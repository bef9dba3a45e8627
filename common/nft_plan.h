#pragma once
// The difference between the tables last applied and the desired ones, as the ordered list of
// operations one nftables transaction carries: creations before the rules and elements that refer
// to them, deletions of elements and rules before the chains and sets they refer to. Pure, so
// what a sync sends is unit-tested without privileges.

#include <string>
#include <vector>

#include "common/nft_ruleset.h"

namespace berth::nft {

struct Op {
  enum class Kind : uint8_t {
    kAddTable,
    kDeleteTable,
    kAddChain,
    kDeleteChain,
    kFlushChain,  // deletes the chain's rules
    kAddRule,
    kAddSet,
    kDeleteSet,
    kAddElements,
    kDeleteElements,
  };
  Kind kind;
  const Table* table;  // family and name; the pointers borrow from planChanges' arguments
  const Chain* chain = nullptr;
  const Rule* rule = nullptr;
  const Set* set = nullptr;
  std::vector<const Element*> elements;
};

struct PlanOptions {
  // Chains that go away are flushed but left in place, for a later transaction to delete: the
  // kernel may still count a reference from a map element deleted in the same transaction
  // (kube-proxy waits a second before deleting stale chains: "Device or resource busy" on kernels
  // before 6.2, and under load after). appliedAfter() keeps them, empty; a chain that is already
  // empty when it goes is deleted at once.
  bool deferChainDeletion = false;
};

// `applied` lists the tables as this writer last left them. A desired table missing from it is
// (re)created from scratch in the same transaction (add, delete, add: whatever a previous run
// left is replaced atomically); an applied table missing from `desired` is deleted.
std::vector<Op> planChanges(const std::vector<Table>& desired, const std::vector<Table>& applied,
                            const PlanOptions& options = {});

// The tables as the kernel holds them once planChanges' operations are applied: `desired`, plus
// the deferred chains (empty).
std::vector<Table> appliedAfter(const std::vector<Table>& desired,
                                const std::vector<Table>& applied, const PlanOptions& options);

// "add element ip berth-proxy service-ips { 10.0.0.1 . tcp . 80 : goto x }", for tests and logs.
std::string describe(const Op& op);

}  // namespace berth::nft
