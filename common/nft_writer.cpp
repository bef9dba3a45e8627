#include "common/nft_writer.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <fmt/format.h>

namespace berth::nft {

namespace {

// Owners for libnftnl objects.
struct TableFree {
  void operator()(nftnl_table* t) const { nftnl_table_free(t); }
};
struct ChainFree {
  void operator()(nftnl_chain* c) const { nftnl_chain_free(c); }
};
struct RuleFree {
  void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};
struct SetFree {
  void operator()(nftnl_set* s) const { nftnl_set_free(s); }
};
struct UdataFree {
  void operator()(nftnl_udata_buf* u) const { nftnl_udata_buf_free(u); }
};

// nft's datatype ids (userspace only: `nft list` uses them to print keys); a concatenation
// packs 6 bits per field.
uint32_t nftTypeId(Type t) {
  switch (t) {
    case Type::kVerdict:
      return 1;
    case Type::kInteger:
      return 4;
    case Type::kIpv4Addr:
      return 7;
    case Type::kIpv6Addr:
      return 8;
    case Type::kInetProto:
      return 12;
    case Type::kInetService:
      return 13;
    case Type::kMark:
      return 19;
  }
  return 0;
}

// Element keys in the kernel's layout: concatenated fields padded to 4 bytes.
std::string keyBytes(const Set& set, const Key& key) {
  std::string out;
  for (const Datum& d : key) {
    out.append(reinterpret_cast<const char*>(d.data()), d.size());
    if (set.key.size() > 1) out.append((4 - d.size() % 4) % 4, '\0');
  }
  return out;
}

int verdictCode(Verdict::Kind k) {
  switch (k) {
    case Verdict::Kind::kAccept:
      return NF_ACCEPT;
    case Verdict::Kind::kDrop:
      return NF_DROP;
    case Verdict::Kind::kReturn:
      return NFT_RETURN;
    case Verdict::Kind::kJump:
      return NFT_JUMP;
    case Verdict::Kind::kGoto:
      return NFT_GOTO;
  }
  return NF_DROP;
}

nftnl_expr* newExpr(nftnl_rule* r, const char* name) {
  nftnl_expr* e = nftnl_expr_alloc(name);
  nftnl_rule_add_expr(r, e);  // the rule owns it from here
  return e;
}

void addLoad(nftnl_rule* r, const Load& x) {
  auto payload = [&](uint32_t base, uint32_t offset) {
    nftnl_expr* e = newExpr(r, "payload");
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, x.dreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, fieldLength(x.field));
  };
  auto meta = [&](uint32_t key) {
    nftnl_expr* e = newExpr(r, "meta");
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, x.dreg);
  };
  auto fib = [&](uint32_t flags) {
    nftnl_expr* e = newExpr(r, "fib");
    nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, flags);
    nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
    nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, x.dreg);
  };
  switch (x.field) {
    case Field::kIpSaddr:
      return payload(NFT_PAYLOAD_NETWORK_HEADER, 12);
    case Field::kIpDaddr:
      return payload(NFT_PAYLOAD_NETWORK_HEADER, 16);
    case Field::kIp6Saddr:
      return payload(NFT_PAYLOAD_NETWORK_HEADER, 8);
    case Field::kIp6Daddr:
      return payload(NFT_PAYLOAD_NETWORK_HEADER, 24);
    case Field::kThDport:
      return payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2);
    case Field::kL4Proto:
      return meta(NFT_META_L4PROTO);
    case Field::kNfProto:
      return meta(NFT_META_NFPROTO);
    case Field::kMark:
      return meta(NFT_META_MARK);
    case Field::kCtState: {
      nftnl_expr* e = newExpr(r, "ct");
      nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
      nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, x.dreg);
      return;
    }
    case Field::kFibDaddrType:
      return fib(NFTA_FIB_F_DADDR);
    case Field::kFibSaddrType:
      return fib(NFTA_FIB_F_SADDR);
  }
}

void addCmp(nftnl_rule* r, uint32_t sreg, bool equal, const void* data, uint32_t len) {
  nftnl_expr* e = newExpr(r, "cmp");
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, equal ? NFT_CMP_EQ : NFT_CMP_NEQ);
  nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

void addBitwise(nftnl_rule* r, uint32_t sreg, uint32_t dreg, const void* mask, const void* xorValue,
                uint32_t len) {
  nftnl_expr* e = newExpr(r, "bitwise");
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, sreg);
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, dreg);
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
  nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
  nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xorValue, len);
}

void addVerdictImmediate(nftnl_rule* r, uint32_t dreg, const Verdict& v) {
  nftnl_expr* e = newExpr(r, "immediate");
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, static_cast<uint32_t>(verdictCode(v.kind)));
  if (!v.chain.empty()) nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, v.chain.c_str());
}

void addExpr(nftnl_rule* r, Family family, const Expr& expr) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Load>) {
          addLoad(r, x);
        } else if constexpr (std::is_same_v<T, Cmp>) {
          addCmp(r, x.sreg, x.equal, x.value.data(), x.value.size());
        } else if constexpr (std::is_same_v<T, Bitwise>) {
          addBitwise(r, x.sreg, x.dreg, x.mask.data(), x.xorValue.data(), x.mask.size());
        } else if constexpr (std::is_same_v<T, TestBits>) {
          uint32_t zero = 0;
          addBitwise(r, x.sreg, x.sreg, &x.bits, &zero, 4);
          addCmp(r, x.sreg, false, &zero, 4);
        } else if constexpr (std::is_same_v<T, MetaSetMark>) {
          nftnl_expr* e = newExpr(r, "meta");
          nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
          nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, x.sreg);
        } else if constexpr (std::is_same_v<T, Lookup>) {
          nftnl_expr* e = newExpr(r, "lookup");
          nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, x.set.c_str());
          nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, x.sreg);
          if (x.dreg) nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, *x.dreg);
          if (x.invert) nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
        } else if constexpr (std::is_same_v<T, Immediate>) {
          addVerdictImmediate(r, NFT_REG_VERDICT, x.verdict);
        } else if constexpr (std::is_same_v<T, Numgen>) {
          nftnl_expr* e = newExpr(r, "numgen");
          nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, x.dreg);
          nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, x.modulus);
          nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_RANDOM);
        } else if constexpr (std::is_same_v<T, LoadConst>) {
          nftnl_expr* e = newExpr(r, "immediate");
          nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, x.dreg);
          nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, x.value.data(), x.value.size());
        } else if constexpr (std::is_same_v<T, Dnat>) {
          nftnl_expr* e = newExpr(r, "nat");
          nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
          nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, static_cast<uint32_t>(x.family));
          nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, x.addrReg);
          nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, x.portReg);
        } else if constexpr (std::is_same_v<T, Masquerade>) {
          nftnl_expr* e = newExpr(r, "masq");
          if (x.fullyRandom)
            nftnl_expr_set_u32(e, NFTNL_EXPR_MASQ_FLAGS, NF_NAT_RANGE_PROTO_RANDOM_FULLY);
        } else if constexpr (std::is_same_v<T, Reject>) {
          nftnl_expr* e = newExpr(r, "reject");
          if (x.tcpReset) {
            nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_TCP_RST);
            nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, 0);
          } else {
            nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMP_UNREACH);
            // ICMP_PORT_UNREACH / ICMPV6_PORT_UNREACH
            nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, family == Family::kIp6 ? 4 : 3);
          }
        } else if constexpr (std::is_same_v<T, DynsetUpdate>) {
          nftnl_expr* e = newExpr(r, "dynset");
          nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, x.set.c_str());
          nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, x.sreg);
          nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
        }
      },
      expr);
}

// A comment as nft stores it in user data, so `nft list` shows it.
std::unique_ptr<nftnl_udata_buf, UdataFree> comment(uint8_t type, const std::string& text) {
  std::unique_ptr<nftnl_udata_buf, UdataFree> u(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
  nftnl_udata_put_strz(u.get(), type, text.substr(0, NFTNL_UDATA_COMMENT_MAXLEN - 1).c_str());
  return u;
}

std::unique_ptr<nftnl_set, SetFree> setObject(const Table& t, const Set& s, bool definition) {
  std::unique_ptr<nftnl_set, SetFree> o(nftnl_set_alloc());
  nftnl_set_set_str(o.get(), NFTNL_SET_TABLE, t.name.c_str());
  nftnl_set_set_str(o.get(), NFTNL_SET_NAME, s.name.c_str());
  nftnl_set_set_u32(o.get(), NFTNL_SET_FAMILY, static_cast<uint32_t>(t.family));
  if (!definition) return o;
  uint32_t typeId = 0;
  for (Type k : s.key)
    typeId = (typeId << 6) | nftTypeId(k);
  uint32_t flags = 0;
  nftnl_set_set_u32(o.get(), NFTNL_SET_KEY_LEN, s.keyLength());
  nftnl_set_set_u32(o.get(), NFTNL_SET_KEY_TYPE, typeId);
  if (s.data) {
    flags |= NFT_SET_MAP;
    nftnl_set_set_u32(o.get(), NFTNL_SET_DATA_TYPE,
                      *s.data == Type::kVerdict ? NFT_DATA_VERDICT : nftTypeId(*s.data));
    if (*s.data != Type::kVerdict)
      nftnl_set_set_u32(o.get(), NFTNL_SET_DATA_LEN, typeLength(*s.data));
  }
  if (s.timeoutMs) {
    flags |= NFT_SET_TIMEOUT | NFT_SET_EVAL;
    nftnl_set_set_u64(o.get(), NFTNL_SET_TIMEOUT, *s.timeoutMs);
  }
  nftnl_set_set_u32(o.get(), NFTNL_SET_FLAGS, flags);
  // nft prints integer keys in the byte order user data says (numgen results are host order).
  std::unique_ptr<nftnl_udata_buf, UdataFree> u(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
  if (s.key.size() == 1 && (s.key[0] == Type::kInteger || s.key[0] == Type::kMark))
    nftnl_udata_put_u32(u.get(), NFTNL_UDATA_SET_KEYBYTEORDER, 1 /* host */);
  if (s.numgenModulus != 0) {
    // nft's typeof record: the expression's type (EXPR_NUMGEN, 23, a stored format) and its
    // own user data (numgen type random, modulus, offset), as nft 1.0.6 writes it.
    nftnl_udata* typeOf = nftnl_udata_nest_start(u.get(), NFTNL_UDATA_SET_KEY_TYPEOF);
    nftnl_udata_put_u32(u.get(), NFTNL_UDATA_SET_TYPEOF_EXPR, 23);
    nftnl_udata* data = nftnl_udata_nest_start(u.get(), NFTNL_UDATA_SET_TYPEOF_DATA);
    nftnl_udata_put_u32(u.get(), 0, NFT_NG_RANDOM);
    nftnl_udata_put_u32(u.get(), 1, s.numgenModulus);
    nftnl_udata_put_u32(u.get(), 2, 0);
    nftnl_udata_nest_end(u.get(), data);
    nftnl_udata_nest_end(u.get(), typeOf);
    // nft reads a map's typeof key only with a typeof value beside it: the verdict's (EXPR_VERDICT,
    // 1, no data of its own).
    nftnl_udata* value = nftnl_udata_nest_start(u.get(), NFTNL_UDATA_SET_DATA_TYPEOF);
    nftnl_udata_put_u32(u.get(), NFTNL_UDATA_SET_TYPEOF_EXPR, 1);
    nftnl_udata_put(u.get(), NFTNL_UDATA_SET_TYPEOF_DATA, 0, nullptr);
    nftnl_udata_nest_end(u.get(), value);
  }
  if (!s.comment.empty()) nftnl_udata_put_strz(u.get(), NFTNL_UDATA_SET_COMMENT, s.comment.c_str());
  if (nftnl_udata_buf_len(u.get()) > 0) {
    nftnl_set_set_data(o.get(), NFTNL_SET_USERDATA, nftnl_udata_buf_data(u.get()),
                       nftnl_udata_buf_len(u.get()));
  }
  return o;
}

void addElement(nftnl_set* o, const Set& s, const Element& e, bool withValue) {
  nftnl_set_elem* el = nftnl_set_elem_alloc();
  std::string key = keyBytes(s, e.key);
  nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key.data(), key.size());
  if (withValue && e.verdict) {
    nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT,
                           static_cast<uint32_t>(verdictCode(e.verdict->kind)));
    if (!e.verdict->chain.empty())
      nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, e.verdict->chain.c_str());
  }
  if (withValue && !e.comment.empty()) {
    auto u = comment(NFTNL_UDATA_SET_ELEM_COMMENT, e.comment);
    nftnl_set_elem_set(el, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(u.get()),
                       nftnl_udata_buf_len(u.get()));
  }
  nftnl_set_elem_add(o, el);  // the set owns it
}

// Elements per message: keeps each message well inside the scratch buffer (an element is at
// most a few hundred bytes: a 40-byte key, a chain name, a comment).
constexpr size_t kElementsPerMessage = 256;
constexpr size_t kScratchSize = 1 << 18;

// What a message of a batch does, described only when the kernel refuses it: an operation (or
// a slice of an element operation's elements), or a fixed text.
struct OpSlice {
  const Op* op;
  size_t from, count;
};
using Label = std::variant<std::string, OpSlice>;

std::string describe(const Label& label) {
  if (const auto* text = std::get_if<std::string>(&label)) return *text;
  const auto& slice = std::get<OpSlice>(label);
  if (slice.op->elements.empty()) return describe(*slice.op);
  Op part = *slice.op;
  part.elements.assign(
      slice.op->elements.begin() + static_cast<ptrdiff_t>(slice.from),
      slice.op->elements.begin() + static_cast<ptrdiff_t>(slice.from + slice.count));
  return describe(part);
}

// One batch being built: messages appended to `bytes`, each with a sequence number whose label
// names it in an error.
class Batch {
 public:
  explicit Batch(uint32_t firstSeq) : first_(firstSeq), scratch_(kScratchSize) {}

  template <class Build>
  void add(Label what, Build&& build) {
    nlmsghdr* nlh = build(scratch_.data(), first_ + static_cast<uint32_t>(what_.size()));
    bytes_.append(scratch_.data(), nlh->nlmsg_len);
    what_.push_back(std::move(what));
  }
  uint32_t nextSeq() const { return first_ + static_cast<uint32_t>(what_.size()); }
  std::string what(uint32_t seq) const {
    uint32_t i = seq - first_;
    return i < what_.size() ? describe(what_[i]) : "batch";
  }
  const std::string& bytes() const { return bytes_; }

 private:
  uint32_t first_;
  std::vector<char> scratch_;
  std::string bytes_;
  std::vector<Label> what_;
};

void encode(const Op& op, Batch& b) {
  const Table& t = *op.table;
  auto fam = static_cast<uint16_t>(t.family);
  switch (op.kind) {
    case Op::Kind::kAddTable:
    case Op::Kind::kDeleteTable: {
      bool add = op.kind == Op::Kind::kAddTable;
      b.add(OpSlice{&op, 0, 0}, [&](char* buf, uint32_t seq) {
        std::unique_ptr<nftnl_table, TableFree> o(nftnl_table_alloc());
        nftnl_table_set_str(o.get(), NFTNL_TABLE_NAME, t.name.c_str());
        nftnl_table_set_u32(o.get(), NFTNL_TABLE_FAMILY, fam);
        nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, add ? NFT_MSG_NEWTABLE : NFT_MSG_DELTABLE, fam,
                                              add ? NLM_F_CREATE : 0, seq);
        nftnl_table_nlmsg_build_payload(nlh, o.get());
        return nlh;
      });
      return;
    }
    case Op::Kind::kAddChain:
    case Op::Kind::kDeleteChain:
    case Op::Kind::kFlushChain: {
      b.add(OpSlice{&op, 0, 0}, [&](char* buf, uint32_t seq) {
        if (op.kind == Op::Kind::kFlushChain) {
          std::unique_ptr<nftnl_rule, RuleFree> r(nftnl_rule_alloc());
          nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, t.name.c_str());
          nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, op.chain->name.c_str());
          nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, fam);
          nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_DELRULE, fam, 0, seq);
          nftnl_rule_nlmsg_build_payload(nlh, r.get());
          return nlh;
        }
        bool add = op.kind == Op::Kind::kAddChain;
        std::unique_ptr<nftnl_chain, ChainFree> o(nftnl_chain_alloc());
        nftnl_chain_set_str(o.get(), NFTNL_CHAIN_TABLE, t.name.c_str());
        nftnl_chain_set_str(o.get(), NFTNL_CHAIN_NAME, op.chain->name.c_str());
        nftnl_chain_set_u32(o.get(), NFTNL_CHAIN_FAMILY, fam);
        if (add && op.chain->base) {
          nftnl_chain_set_u32(o.get(), NFTNL_CHAIN_HOOKNUM,
                              static_cast<uint32_t>(op.chain->base->hook));
          nftnl_chain_set_s32(o.get(), NFTNL_CHAIN_PRIO, op.chain->base->priority);
          nftnl_chain_set_str(o.get(), NFTNL_CHAIN_TYPE, op.chain->base->type.c_str());
        }
        nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, add ? NFT_MSG_NEWCHAIN : NFT_MSG_DELCHAIN, fam,
                                              add ? NLM_F_CREATE : 0, seq);
        nftnl_chain_nlmsg_build_payload(nlh, o.get());
        return nlh;
      });
      return;
    }
    case Op::Kind::kAddRule: {
      b.add(OpSlice{&op, 0, 0}, [&](char* buf, uint32_t seq) {
        std::unique_ptr<nftnl_rule, RuleFree> r(nftnl_rule_alloc());
        nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, t.name.c_str());
        nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, op.chain->name.c_str());
        nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, fam);
        for (const Expr& e : op.rule->exprs)
          addExpr(r.get(), t.family, e);
        if (!op.rule->comment.empty()) {
          auto u = comment(NFTNL_UDATA_RULE_COMMENT, op.rule->comment);
          nftnl_rule_set_data(r.get(), NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u.get()),
                              nftnl_udata_buf_len(u.get()));
        }
        nlmsghdr* nlh =
            nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, fam, NLM_F_CREATE | NLM_F_APPEND, seq);
        nftnl_rule_nlmsg_build_payload(nlh, r.get());
        return nlh;
      });
      return;
    }
    case Op::Kind::kAddSet:
    case Op::Kind::kDeleteSet: {
      bool add = op.kind == Op::Kind::kAddSet;
      b.add(OpSlice{&op, 0, 0}, [&](char* buf, uint32_t seq) {
        auto o = setObject(t, *op.set, add);
        if (add) nftnl_set_set_u32(o.get(), NFTNL_SET_ID, seq);
        nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, add ? NFT_MSG_NEWSET : NFT_MSG_DELSET, fam,
                                              add ? NLM_F_CREATE : 0, seq);
        nftnl_set_nlmsg_build_payload(nlh, o.get());
        return nlh;
      });
      return;
    }
    case Op::Kind::kAddElements:
    case Op::Kind::kDeleteElements: {
      bool add = op.kind == Op::Kind::kAddElements;
      for (size_t i = 0; i < op.elements.size(); i += kElementsPerMessage) {
        size_t end = std::min(op.elements.size(), i + kElementsPerMessage);
        b.add(OpSlice{&op, i, end - i}, [&](char* buf, uint32_t seq) {
          auto o = setObject(t, *op.set, false);
          for (size_t j = i; j < end; ++j)
            addElement(o.get(), *op.set, *op.elements[j], add);
          nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
                                                fam, add ? NLM_F_CREATE : 0, seq);
          nftnl_set_elems_nlmsg_build_payload(nlh, o.get());
          return nlh;
        });
      }
      return;
    }
  }
}

}  // namespace

Result<std::unique_ptr<NftWriter>> NftWriter::open() {
  mnl_socket* s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (s == nullptr) return failErrno("nftables: netlink socket");
  if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    mnl_socket_close(s);
    return failErrno(err, "nftables: netlink bind");
  }
  // Errors echo only the failed message's header, not the whole (large) message.
  int one = 1;
  mnl_socket_setsockopt(s, NETLINK_CAP_ACK, &one, sizeof one);
  return std::unique_ptr<NftWriter>(new NftWriter(s));
}

NftWriter::NftWriter(mnl_socket* sock)
    : sock_(sock), seq_(static_cast<uint32_t>(::time(nullptr))) {}

NftWriter::~NftWriter() {
  mnl_socket_close(sock_);
}

Status NftWriter::apply(const std::vector<Table>& desired, const std::vector<Table>& applied) {
  std::vector<Op> ops = planChanges(desired, applied);
  return send(ops);
}

Status NftWriter::send(std::span<const Op> ops) {
  if (ops.empty()) return {};
  return sendBatch([&](Batch& b) {
    for (const Op& op : ops)
      encode(op, b);
  });
}

template <class Encode>
Status NftWriter::sendBatch(Encode&& encodeAll) {
  Batch b(seq_);
  b.add("batch begin", [](char* buf, uint32_t seq) { return nftnl_batch_begin(buf, seq); });
  encodeAll(b);
  b.add("batch end", [](char* buf, uint32_t seq) { return nftnl_batch_end(buf, seq); });
  seq_ = b.nextSeq();

  // The whole batch is one datagram: the socket's send buffer must hold it.
  const std::string& bytes = b.bytes();
  int need = static_cast<int>(std::min<size_t>(bytes.size() + 4096, INT32_MAX / 2));
  int have = 0;
  socklen_t len = sizeof have;
  if (::getsockopt(mnl_socket_get_fd(sock_), SOL_SOCKET, SO_SNDBUF, &have, &len) == 0 &&
      have < need) {
    if (::setsockopt(mnl_socket_get_fd(sock_), SOL_SOCKET, SO_SNDBUFFORCE, &need, sizeof need) < 0)
      ::setsockopt(mnl_socket_get_fd(sock_), SOL_SOCKET, SO_SNDBUF, &need, sizeof need);
  }
  if (mnl_socket_sendto(sock_, bytes.data(), bytes.size()) < 0)
    return failErrno("nftables: netlink send");

  // The kernel processes a batch within sendmsg and queues an error per refused message (none
  // on success: no message asks for an ACK), so what it has to say is already in the socket.
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  std::optional<Error> first;
  for (;;) {
    ssize_t n = ::recv(mnl_socket_get_fd(sock_), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return failErrno("nftables: netlink receive");
    }
    auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data());
    int left = static_cast<int>(n);
    for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
      if (nlh->nlmsg_type != NLMSG_ERROR) continue;
      const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (err->error != 0 && !first)
        first = errnoError(-err->error, "nftables: " + b.what(err->msg.nlmsg_seq));
    }
  }
  if (first) return std::unexpected(std::move(*first));
  return {};
}

namespace {

std::unique_ptr<nftnl_set, SetFree> rawSet(Family family, const std::string& table,
                                           const std::string& set) {
  std::unique_ptr<nftnl_set, SetFree> o(nftnl_set_alloc());
  nftnl_set_set_str(o.get(), NFTNL_SET_TABLE, table.c_str());
  nftnl_set_set_str(o.get(), NFTNL_SET_NAME, set.c_str());
  nftnl_set_set_u32(o.get(), NFTNL_SET_FAMILY, static_cast<uint32_t>(family));
  return o;
}

// Values and comments only when adding (a delete or a get names the key alone).
void addRawElement(nftnl_set* set, const NftElement& e, bool withValue) {
  nftnl_set_elem* el = nftnl_set_elem_alloc();
  nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e.key.data(), e.key.size());
  if (!e.keyEnd.empty())
    nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY_END, e.keyEnd.data(), e.keyEnd.size());
  if (e.intervalEnd) nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
  if (withValue && !e.data.empty())
    nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, e.data.data(), e.data.size());
  if (withValue && !e.comment.empty()) {
    auto u = comment(NFTNL_UDATA_SET_ELEM_COMMENT, e.comment);
    nftnl_set_elem_set(el, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(u.get()),
                       nftnl_udata_buf_len(u.get()));
  }
  nftnl_set_elem_add(set, el);
}

}  // namespace

Status NftWriter::sendElements(bool add, Family family, const std::string& table,
                               std::span<const NftElement> elements) {
  if (elements.empty()) return {};
  std::vector<std::string> sets;
  for (const NftElement& e : elements) {
    if (std::find(sets.begin(), sets.end(), e.set) == sets.end()) sets.push_back(e.set);
  }
  auto fam = static_cast<uint16_t>(family);
  return sendBatch([&](Batch& b) {
    for (const std::string& set : sets) {
      std::string what = fmt::format("{} element {} {} {}", add ? "add" : "delete",
                                     familyName(family), table, set);
      std::vector<const NftElement*> ofSet;
      for (const NftElement& e : elements) {
        if (e.set == set) ofSet.push_back(&e);
      }
      for (size_t i = 0; i < ofSet.size(); i += kElementsPerMessage) {
        b.add(what, [&](char* buf, uint32_t seq) {
          auto o = rawSet(family, table, set);
          for (size_t j = i; j < std::min(ofSet.size(), i + kElementsPerMessage); ++j)
            addRawElement(o.get(), *ofSet[j], add);
          nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
                                                fam, add ? NLM_F_CREATE : 0, seq);
          nftnl_set_elems_nlmsg_build_payload(nlh, o.get());
          return nlh;
        });
      }
    }
  });
}

Result<bool> NftWriter::query(nlmsghdr* nlh, std::vector<char>& buf, std::string_view what,
                              const std::function<bool(const nlmsghdr*)>& matches) {
  const uint32_t seq = nlh->nlmsg_seq;
  if (mnl_socket_sendto(sock_, nlh, nlh->nlmsg_len) < 0) return failErrno("nftables: netlink send");
  // The answer's messages, then the ACK; or an error alone (ENOENT: nothing matched).
  bool found = false;
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sock_, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return failErrno("nftables: netlink receive");
    }
    auto* r = reinterpret_cast<nlmsghdr*>(buf.data());
    int left = static_cast<int>(n);
    for (; mnl_nlmsg_ok(r, left); r = mnl_nlmsg_next(r, &left)) {
      if (r->nlmsg_seq != seq) continue;
      if (r->nlmsg_type != NLMSG_ERROR) {
        found = matches(r) || found;
        continue;
      }
      int err = -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(r))->error;
      if (err == 0) return found;
      if (err == ENOENT) return false;
      return failErrno(err, fmt::format("nftables: {}", what));
    }
  }
}

Result<bool> NftWriter::hasTable(Family family, const std::string& table) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  std::unique_ptr<nftnl_table, TableFree> o(nftnl_table_alloc());
  nftnl_table_set_str(o.get(), NFTNL_TABLE_NAME, table.c_str());
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETTABLE, static_cast<uint16_t>(family),
                                        NLM_F_ACK, seq_++);
  nftnl_table_nlmsg_build_payload(nlh, o.get());
  return query(nlh, buf, fmt::format("get table {} {}", familyName(family), table),
               [](const nlmsghdr*) { return true; });
}

Result<bool> NftWriter::hasElement(Family family, const std::string& table,
                                   const NftElement& element) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  auto o = rawSet(family, table, element.set);
  addRawElement(o.get(), element, false);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETSETELEM,
                                        static_cast<uint16_t>(family), NLM_F_ACK, seq_++);
  nftnl_set_elems_nlmsg_build_payload(nlh, o.get());
  // The kernel may answer with an enclosing interval: only an exact key counts.
  return query(nlh, buf, "get element", [&element](const nlmsghdr* r) {
    std::unique_ptr<nftnl_set, SetFree> got(nftnl_set_alloc());
    if (nftnl_set_elems_nlmsg_parse(r, got.get()) < 0) return false;
    std::pair<const NftElement*, bool> match{&element, false};
    nftnl_set_elem_foreach(
        got.get(),
        [](nftnl_set_elem* e, void* data) {
          auto* ctx = static_cast<std::pair<const NftElement*, bool>*>(data);
          uint32_t len = 0;
          const auto* key =
              static_cast<const uint8_t*>(nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len));
          bool end =
              nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
              (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END) != 0;
          const NftElement& want = *ctx->first;
          if (key != nullptr && std::vector<uint8_t>(key, key + len) == want.key &&
              end == want.intervalEnd)
            ctx->second = true;
          return 0;
        },
        &match);
    return match.second;
  });
}

}  // namespace berth::nft
