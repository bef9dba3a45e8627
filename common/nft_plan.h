#pragma once
// The difference between the tables last applied and the desired ones, as the ordered list of
// operations one nftables transaction carries: creations before the rules and elements that refer
// to them, deletions of elements and rules before the chains and sets they refer to. Pure, so
// what a sync sends is unit-tested without privileges.

#include <span>
#include <string>
#include <utility>
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

// One independent part of a table (the proxy's ServicePortRules: one Service port's chains, its
// own sets, and its elements in the table's shared maps), planned on its own so that one change
// among 50,000 costs the size of that part, not of the table. A part refers to its own chains
// and sets and to the table's shared ones, never to another part's.
struct PartView {
  std::span<const Chain> chains;
  std::span<const Set> sets;
  std::span<const std::pair<std::string, Element>> elements;  // (shared map, element)
};

// The operations that turn part `have` into part `want` inside `table` (which holds the shared
// maps the elements go to; the part's own chains and sets need not be in it). `want` empty adds
// nothing, `have` empty creates the part. Pointers borrow from the arguments. With
// deferChainDeletion, the chains that go are flushed and named in `deferredOut` (when given): the
// caller deletes them in a later transaction.
std::vector<Op> planPartChanges(const Table& table, const PartView& want, const PartView& have,
                                const PlanOptions& options = {},
                                std::vector<std::string>* deferredOut = nullptr);

// Splits `ops` into transactions of at most `maxMessages` operations (an element operation
// counts once per element and is itself split), each one the kernel can commit on its own, so a
// large cold start never holds the nftables commit mutex for long. It splits only while every
// operation so far adds (an element deleted or a chain flushed is re-added in the same
// transaction, so no existing Service stops answering in between). A leading replacement of a
// whole table (add, delete, add) splits only with `tableAbsent`: the caller checked that the
// kernel holds no such table (NftWriter::hasTable), else the old table's Services would stop
// answering until the last transaction; restart adoption is then one transaction.
std::vector<std::vector<Op>> splitTransactions(std::span<const Op> ops, size_t maxMessages,
                                               bool tableAbsent = false);

// "add element ip berth-proxy service-ips { 10.0.0.1 . tcp . 80 : goto x }", for tests and logs.
std::string describe(const Op& op);

}  // namespace berth::nft
