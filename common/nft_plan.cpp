#include "common/nft_plan.h"

#include <algorithm>

#include <fmt/format.h>

namespace berth::nft {

namespace {

const Table* findTable(const std::vector<Table>& tables, const Table& like) {
  for (const Table& t : tables) {
    if (t.family == like.family && t.name == like.name) return &t;
  }
  return nullptr;
}

bool refersToSet(const Chain& chain, const std::string& set) {
  for (const Rule& r : chain.rules) {
    for (const Expr& e : r.exprs) {
      if (auto* l = std::get_if<Lookup>(&e); l && l->set == set) return true;
      if (auto* d = std::get_if<DynsetUpdate>(&e); d && d->set == set) return true;
    }
  }
  return false;
}

std::vector<const Element*> allElements(const Set& set) {
  std::vector<const Element*> out;
  out.reserve(set.elements.size());
  for (const auto& [k, e] : set.elements)
    out.push_back(&e);
  return out;
}

// Everything of `t` created in order: chains, sets, elements (verdicts name chains), rules
// (lookups name sets).
void planCreate(const Table& t, std::vector<Op>& ops) {
  for (const auto& [n, c] : t.chains)
    ops.push_back({Op::Kind::kAddChain, &t, &c});
  for (const auto& [n, s] : t.sets)
    ops.push_back({Op::Kind::kAddSet, &t, nullptr, nullptr, &s});
  for (const auto& [n, s] : t.sets) {
    if (!s.elements.empty())
      ops.push_back({Op::Kind::kAddElements, &t, nullptr, nullptr, &s, allElements(s)});
  }
  for (const auto& [n, c] : t.chains) {
    for (const Rule& r : c.rules)
      ops.push_back({Op::Kind::kAddRule, &t, &c, &r});
  }
}

// Whether a chain that goes away stays, flushed, until a later transaction.
bool deferred(const Chain& gone, const PlanOptions& options) {
  return options.deferChainDeletion && !gone.base && !gone.rules.empty();
}

void planUpdate(const Table& want, const Table& have, const PlanOptions& options,
                std::vector<Op>& ops) {
  std::vector<const Chain*> newChains, goneChains, rewritten;
  std::vector<const Set*> newSets, goneSets, redefined;  // redefined: the desired definition
  for (const auto& [n, c] : want.chains) {
    auto it = have.chains.find(n);
    if (it == have.chains.end()) {
      newChains.push_back(&c);
    } else if (it->second.base != c.base) {
      // A base chain's hook can't be changed in place.
      goneChains.push_back(&it->second);
      newChains.push_back(&c);
    } else if (it->second.rules != c.rules) {
      rewritten.push_back(&c);
    }
  }
  for (const auto& [n, c] : have.chains) {
    if (!want.chains.contains(n)) goneChains.push_back(&c);
  }
  for (const auto& [n, s] : want.sets) {
    auto it = have.sets.find(n);
    if (it == have.sets.end()) {
      newSets.push_back(&s);
    } else if (!it->second.sameDefinition(s)) {
      redefined.push_back(&s);
    }
  }
  for (const auto& [n, s] : have.sets) {
    if (!want.sets.contains(n)) goneSets.push_back(&s);
  }
  // Chains whose rules use a redefined set lose their rules while it is replaced.
  for (const Set* s : redefined) {
    for (const auto& [n, c] : want.chains) {
      if (refersToSet(c, s->name) &&
          std::find(rewritten.begin(), rewritten.end(), &c) == rewritten.end() &&
          std::find(newChains.begin(), newChains.end(), &c) == newChains.end())
        rewritten.push_back(&c);
    }
  }

  for (const Chain* c : newChains) {
    if (have.chains.contains(c->name)) continue;  // re-created after the old one goes
    ops.push_back({Op::Kind::kAddChain, &want, c});
  }
  for (const Set* s : newSets)
    ops.push_back({Op::Kind::kAddSet, &want, nullptr, nullptr, s});

  // Element changes in sets kept as they are: a changed value is a delete and an add.
  std::vector<Op> adds;
  for (const auto& [n, s] : want.sets) {
    auto it = have.sets.find(n);
    if (it == have.sets.end() || !it->second.sameDefinition(s)) continue;
    const Set& old = it->second;
    std::vector<const Element*> del, add;
    for (const auto& [k, e] : old.elements) {
      auto w = s.elements.find(k);
      if (w == s.elements.end() || !(w->second == e)) del.push_back(&e);
    }
    for (const auto& [k, e] : s.elements) {
      auto h = old.elements.find(k);
      if (h == old.elements.end() || !(h->second == e)) add.push_back(&e);
    }
    if (!del.empty())
      ops.push_back({Op::Kind::kDeleteElements, &have, nullptr, nullptr, &old, del});
    if (!add.empty()) adds.push_back({Op::Kind::kAddElements, &want, nullptr, nullptr, &s, add});
  }

  for (const Chain* c : rewritten)
    ops.push_back({Op::Kind::kFlushChain, &want, c});
  for (const Chain* c : goneChains)
    ops.push_back({Op::Kind::kFlushChain, &have, c});
  for (const Set* s : redefined) {
    ops.push_back({Op::Kind::kDeleteSet, &have, nullptr, nullptr, &have.sets.at(s->name)});
    ops.push_back({Op::Kind::kAddSet, &want, nullptr, nullptr, s});
    if (!s->elements.empty())
      adds.push_back({Op::Kind::kAddElements, &want, nullptr, nullptr, s, allElements(*s)});
  }
  for (const Set* s : newSets) {
    if (!s->elements.empty())
      adds.push_back({Op::Kind::kAddElements, &want, nullptr, nullptr, s, allElements(*s)});
  }
  // Sets go before chains: a map's verdicts may name a chain that goes too.
  for (const Set* s : goneSets)
    ops.push_back({Op::Kind::kDeleteSet, &have, nullptr, nullptr, s});
  for (const Chain* c : goneChains) {
    if (!deferred(*c, options) || want.chains.contains(c->name))
      ops.push_back({Op::Kind::kDeleteChain, &have, c});
  }
  for (const Chain* c : newChains) {
    if (have.chains.contains(c->name)) ops.push_back({Op::Kind::kAddChain, &want, c});
  }
  for (Op& a : adds)
    ops.push_back(std::move(a));
  for (const Chain* c : rewritten) {
    for (const Rule& r : c->rules)
      ops.push_back({Op::Kind::kAddRule, &want, c, &r});
  }
  for (const Chain* c : newChains) {
    for (const Rule& r : c->rules)
      ops.push_back({Op::Kind::kAddRule, &want, c, &r});
  }
}

}  // namespace

std::vector<Op> planChanges(const std::vector<Table>& desired, const std::vector<Table>& applied,
                            const PlanOptions& options) {
  std::vector<Op> ops;
  for (const Table& have : applied) {
    if (findTable(desired, have) == nullptr) ops.push_back({Op::Kind::kDeleteTable, &have});
  }
  for (const Table& want : desired) {
    const Table* have = findTable(applied, want);
    if (have == nullptr) {
      ops.push_back({Op::Kind::kAddTable, &want});
      ops.push_back({Op::Kind::kDeleteTable, &want});
      ops.push_back({Op::Kind::kAddTable, &want});
      planCreate(want, ops);
    } else {
      planUpdate(want, *have, options, ops);
    }
  }
  return ops;
}

std::vector<Table> appliedAfter(const std::vector<Table>& desired,
                                const std::vector<Table>& applied, const PlanOptions& options) {
  std::vector<Table> out = desired;
  for (Table& t : out) {
    const Table* have = findTable(applied, t);
    if (have == nullptr) continue;
    for (const auto& [name, c] : have->chains) {
      if (!t.chains.contains(name) && deferred(c, options)) t.chain(name);
    }
  }
  return out;
}

namespace {

template <class T>
const T* byName(std::span<const T> items, const std::string& name) {
  for (const T& item : items) {
    if (item.name == name) return &item;
  }
  return nullptr;
}

bool sameElement(const Element* a, const Element& b) {
  return a != nullptr && *a == b;
}

const Element* sharedElement(const PartView& part, const std::string& map, const Key& key) {
  for (const auto& [m, e] : part.elements) {
    if (m == map && e.key == key) return &e;
  }
  return nullptr;
}

}  // namespace

// A part is a handful of chains and sets: linear searches beat building indexes.
std::vector<Op> planPartChanges(const Table& table, const PartView& want, const PartView& have,
                                const PlanOptions& options, std::vector<std::string>* deferredOut) {
  std::vector<Op> ops;
  std::vector<const Chain*> newChains, goneChains, rewritten;
  std::vector<const Set*> newSets, goneSets, redefined;
  for (const Chain& c : want.chains) {
    const Chain* old = byName(have.chains, c.name);
    if (old == nullptr) {
      newChains.push_back(&c);
    } else if (old->rules != c.rules) {
      rewritten.push_back(&c);
    }
  }
  for (const Chain& c : have.chains) {
    if (byName(want.chains, c.name) == nullptr) goneChains.push_back(&c);
  }
  for (const Set& s : want.sets) {
    const Set* old = byName(have.sets, s.name);
    if (old == nullptr) {
      newSets.push_back(&s);
    } else if (!old->sameDefinition(s)) {
      redefined.push_back(&s);
    }
  }
  for (const Set& s : have.sets) {
    if (byName(want.sets, s.name) == nullptr) goneSets.push_back(&s);
  }
  for (const Set* s : redefined) {
    for (const Chain& c : want.chains) {
      if (refersToSet(c, s->name) &&
          std::find(rewritten.begin(), rewritten.end(), &c) == rewritten.end() &&
          std::find(newChains.begin(), newChains.end(), &c) == newChains.end())
        rewritten.push_back(&c);
    }
  }

  for (const Chain* c : newChains)
    ops.push_back({Op::Kind::kAddChain, &table, c});
  for (const Set* s : newSets)
    ops.push_back({Op::Kind::kAddSet, &table, nullptr, nullptr, s});
  // Element changes: the part's kept sets, then its elements in the shared maps.
  std::vector<Op> adds;
  auto diff = [&](const Set& setOf, const Set* old, const Set& now) {
    std::vector<const Element*> del, add;
    for (const auto& [k, e] : old->elements) {
      auto w = now.elements.find(k);
      if (w == now.elements.end() || !(w->second == e)) del.push_back(&e);
    }
    for (const auto& [k, e] : now.elements) {
      auto h = old->elements.find(k);
      if (h == old->elements.end() || !(h->second == e)) add.push_back(&e);
    }
    if (!del.empty())
      ops.push_back({Op::Kind::kDeleteElements, &table, nullptr, nullptr, &setOf, del});
    if (!add.empty())
      adds.push_back({Op::Kind::kAddElements, &table, nullptr, nullptr, &setOf, add});
  };
  for (const Set& s : want.sets) {
    const Set* old = byName(have.sets, s.name);
    if (old != nullptr && old->sameDefinition(s)) diff(s, old, s);
  }
  // Shared elements grouped by map, in the order the maps first appear.
  std::vector<std::string> maps;
  for (const auto* part : {&have, &want}) {
    for (const auto& [m, e] : part->elements) {
      if (std::find(maps.begin(), maps.end(), m) == maps.end()) maps.push_back(m);
    }
  }
  for (const std::string& m : maps) {
    auto it = table.sets.find(m);
    if (it == table.sets.end()) continue;  // not this table's map: nothing to refer to
    std::vector<const Element*> del, add;
    for (const auto& [name, e] : have.elements) {
      if (name == m && !sameElement(sharedElement(want, m, e.key), e)) del.push_back(&e);
    }
    for (const auto& [name, e] : want.elements) {
      if (name == m && !sameElement(sharedElement(have, m, e.key), e)) add.push_back(&e);
    }
    if (!del.empty())
      ops.push_back({Op::Kind::kDeleteElements, &table, nullptr, nullptr, &it->second, del});
    if (!add.empty())
      adds.push_back({Op::Kind::kAddElements, &table, nullptr, nullptr, &it->second, add});
  }

  for (const Chain* c : rewritten)
    ops.push_back({Op::Kind::kFlushChain, &table, c});
  for (const Chain* c : goneChains)
    ops.push_back({Op::Kind::kFlushChain, &table, c});
  for (const Set* s : redefined) {
    ops.push_back({Op::Kind::kDeleteSet, &table, nullptr, nullptr, byName(have.sets, s->name)});
    ops.push_back({Op::Kind::kAddSet, &table, nullptr, nullptr, s});
    if (!s->elements.empty())
      adds.push_back({Op::Kind::kAddElements, &table, nullptr, nullptr, s, allElements(*s)});
  }
  for (const Set* s : newSets) {
    if (!s->elements.empty())
      adds.push_back({Op::Kind::kAddElements, &table, nullptr, nullptr, s, allElements(*s)});
  }
  for (const Set* s : goneSets)
    ops.push_back({Op::Kind::kDeleteSet, &table, nullptr, nullptr, s});
  for (const Chain* c : goneChains) {
    if (deferred(*c, options)) {
      if (deferredOut != nullptr) deferredOut->push_back(c->name);
    } else {
      ops.push_back({Op::Kind::kDeleteChain, &table, c});
    }
  }
  // New chains get their rules before the elements that make them reachable.
  for (const Chain* c : newChains) {
    for (const Rule& r : c->rules)
      ops.push_back({Op::Kind::kAddRule, &table, c, &r});
  }
  for (Op& a : adds)
    ops.push_back(std::move(a));
  for (const Chain* c : rewritten) {
    for (const Rule& r : c->rules)
      ops.push_back({Op::Kind::kAddRule, &table, c, &r});
  }
  return ops;
}

std::vector<std::vector<Op>> splitTransactions(std::span<const Op> ops, size_t maxMessages,
                                               bool tableAbsent) {
  maxMessages = std::max<size_t>(maxMessages, 1);
  std::vector<std::vector<Op>> out(1);
  size_t used = 0;
  bool splittable = true;
  size_t i = 0;
  // A leading replacement of a table stays with what follows it.
  while (i < ops.size() &&
         (ops[i].kind == Op::Kind::kAddTable || ops[i].kind == Op::Kind::kDeleteTable)) {
    if (ops[i].kind == Op::Kind::kDeleteTable && !tableAbsent) splittable = false;
    out.back().push_back(ops[i++]);
    ++used;
  }
  for (; i < ops.size(); ++i) {
    const Op& op = ops[i];
    switch (op.kind) {
      case Op::Kind::kAddChain:
      case Op::Kind::kAddRule:
      case Op::Kind::kAddSet:
      case Op::Kind::kAddElements:
        break;
      default:
        splittable = false;
    }
    if (!splittable || op.kind != Op::Kind::kAddElements) {
      if (splittable && used >= maxMessages) {
        out.emplace_back();
        used = 0;
      }
      out.back().push_back(op);
      ++used;
      continue;
    }
    // Element additions fill what is left of the transaction, then start new ones.
    for (size_t from = 0; from < op.elements.size();) {
      if (used >= maxMessages) {
        out.emplace_back();
        used = 0;
      }
      size_t n = std::min(op.elements.size() - from, maxMessages - used);
      Op part = op;
      part.elements.assign(op.elements.begin() + static_cast<ptrdiff_t>(from),
                           op.elements.begin() + static_cast<ptrdiff_t>(from + n));
      out.back().push_back(std::move(part));
      used += n;
      from += n;
    }
  }
  if (out.back().empty()) out.pop_back();
  return out;
}

std::string describe(const Op& op) {
  std::string where = fmt::format("{} {}", familyName(op.table->family), op.table->name);
  switch (op.kind) {
    case Op::Kind::kAddTable:
      return "add table " + where;
    case Op::Kind::kDeleteTable:
      return "delete table " + where;
    case Op::Kind::kAddChain:
      return fmt::format("add chain {} {}", where, op.chain->name);
    case Op::Kind::kDeleteChain:
      return fmt::format("delete chain {} {}", where, op.chain->name);
    case Op::Kind::kFlushChain:
      return fmt::format("flush chain {} {}", where, op.chain->name);
    case Op::Kind::kAddRule:
      return fmt::format("add rule {} {} {}", where, op.chain->name,
                         describe(*op.rule, op.table->family));
    case Op::Kind::kAddSet:
      return fmt::format("add set {} {}", where, op.set->name);
    case Op::Kind::kDeleteSet:
      return fmt::format("delete set {} {}", where, op.set->name);
    case Op::Kind::kAddElements:
    case Op::Kind::kDeleteElements: {
      std::string els;
      for (const Element* e : op.elements)
        els += (els.empty() ? "" : ", ") + describe(*e);
      return fmt::format("{} element {} {} {{ {} }}",
                         op.kind == Op::Kind::kAddElements ? "add" : "delete", where, op.set->name,
                         els);
    }
  }
  return "?";
}

}  // namespace berth::nft
