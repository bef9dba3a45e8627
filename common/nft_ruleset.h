#pragma once
// A desired nftables table as structured data: chains with rules made of kernel expressions,
// sets and maps with typed keys and their elements. Planners (the service proxy, CNI plugins)
// build it with no privileges; NftWriter (nft_writer.h) turns the difference between two of
// them into one netlink batch of libnftnl objects. describe() renders it in nft's words for tests
// and logs only: nothing on the sync path parses or prints nft text.

#include <array>
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/ip.h"

namespace berth::nft {

// NFPROTO_* values.
enum class Family : uint8_t { kInet = 1, kIp = 2, kBridge = 7, kIp6 = 10 };
std::string_view familyName(Family family);

// Set key and map data types, by nft's datatype names.
// kInteger and kMark are 32-bit host order (numgen results, packet marks).
enum class Type : uint8_t {
  kIpv4Addr,
  kIpv6Addr,
  kInetProto,
  kInetService,
  kMark,
  kInteger,
  kVerdict,
};
std::string_view typeName(Type type);
// Bytes of one value of the type (a verdict has none: the kernel sizes it).
uint32_t typeLength(Type type);

// One field of a set key or of a rule's comparison: bytes in the kernel's layout (network order).
class Datum {
 public:
  Datum() = default;
  static Datum addr(const IpAddr& ip);
  static Datum proto(uint8_t ipProto);
  static Datum port(uint16_t port);
  static Datum mark(uint32_t mark);
  static Datum integer(uint32_t value);

  Type type() const { return type_; }
  const uint8_t* data() const { return bytes_.data(); }
  uint32_t size() const { return typeLength(type_); }
  std::string str() const;
  auto operator<=>(const Datum&) const = default;

 private:
  Datum(Type type, const void* bytes, size_t size);
  Type type_ = Type::kMark;
  std::array<uint8_t, 16> bytes_{};
};
using Key = std::vector<Datum>;

struct Verdict {
  enum class Kind : uint8_t { kAccept, kDrop, kReturn, kJump, kGoto };
  Kind kind = Kind::kAccept;
  std::string chain;  // for kJump and kGoto

  static Verdict jump(std::string chain) { return {Kind::kJump, std::move(chain)}; }
  static Verdict goTo(std::string chain) { return {Kind::kGoto, std::move(chain)}; }
  static Verdict drop() { return {Kind::kDrop, {}}; }
  static Verdict accept() { return {Kind::kAccept, {}}; }
  static Verdict ret() { return {Kind::kReturn, {}}; }
  std::string str() const;
  auto operator<=>(const Verdict&) const = default;
};

// ---- Rule expressions: the kernel's, one struct each (nft --debug=netlink shows the same). ----
// Registers: kRegVerdict, or 32-bit registers 0..15 (NFT_REG32_00 + n).
constexpr uint32_t kRegVerdict = 0;
constexpr uint32_t reg(uint32_t n) {
  return 8 + n;
}

// A packet field loaded into a register (payload, meta, ct, fib loads in one place: each knows
// its kernel encoding and its nft name).
enum class Field : uint8_t {
  kIpSaddr,
  kIpDaddr,
  kIp6Saddr,
  kIp6Daddr,
  kThDport,       // transport header destination port (any protocol with ports)
  kL4Proto,       // meta l4proto
  kNfProto,       // meta nfproto
  kMark,          // meta mark
  kCtState,       // ct state (bitmask)
  kFibDaddrType,  // fib daddr type
  kFibSaddrType,  // fib saddr type
};
std::string_view fieldName(Field field);
uint32_t fieldLength(Field field);

struct Load {
  Field field;
  uint32_t dreg;
  auto operator<=>(const Load&) const = default;
};
struct Cmp {
  bool equal;  // == or !=
  uint32_t sreg;
  Datum value;
  auto operator<=>(const Cmp&) const = default;
};
// (sreg & mask) ^ xor -> dreg, over mask.size() bytes: nft's "meta mark or M", prefix matches.
struct Bitwise {
  uint32_t sreg, dreg;
  Datum mask, xorValue;  // of the same type
  auto operator<=>(const Bitwise&) const = default;
};
// Nonzero where a bit of a 32-bit register is set: "ct state new" and "fib ... type local".
struct TestBits {
  uint32_t sreg;
  uint32_t bits;  // host order
  auto operator<=>(const TestBits&) const = default;
};
struct MetaSetMark {
  uint32_t sreg;
  auto operator<=>(const MetaSetMark&) const = default;
};
// A set or map lookup on the key that starts in sreg. dreg kRegVerdict makes it a vmap.
struct Lookup {
  std::string set;
  uint32_t sreg;
  std::optional<uint32_t> dreg;
  bool invert = false;
  auto operator<=>(const Lookup&) const = default;
};
struct Immediate {
  Verdict verdict;
  auto operator<=>(const Immediate&) const = default;
};
// numgen random mod `modulus` -> dreg; "numgen random mod N vmap { 0 : goto a, ... }" is this
// followed by a Lookup in an anonymous-free named map (see the proxy's endpoint maps).
struct Numgen {
  uint32_t modulus;
  uint32_t dreg;
  auto operator<=>(const Numgen&) const = default;
};
// A constant into a register (an address and a port for dnat).
struct LoadConst {
  Datum value;
  uint32_t dreg;
  auto operator<=>(const LoadConst&) const = default;
};
struct Dnat {
  Family family;  // kIp or kIp6
  uint32_t addrReg;
  uint32_t portReg;
  auto operator<=>(const Dnat&) const = default;
};
struct Masquerade {
  bool fullyRandom = true;
  auto operator<=>(const Masquerade&) const = default;
};
// ICMP(v6) port unreachable, or a TCP reset.
struct Reject {
  bool tcpReset = false;
  auto operator<=>(const Reject&) const = default;
};
// update @set { <key in sreg> } (refreshes the element's timeout).
struct DynsetUpdate {
  std::string set;
  uint32_t sreg;
  auto operator<=>(const DynsetUpdate&) const = default;
};
using Expr = std::variant<Load, Cmp, Bitwise, TestBits, MetaSetMark, Lookup, Immediate, Numgen,
                          LoadConst, Dnat, Masquerade, Reject, DynsetUpdate>;

struct Rule {
  std::vector<Expr> exprs;
  std::string comment;
  bool operator==(const Rule&) const = default;
};

enum class Hook : uint8_t {
  kPrerouting = 0,
  kInput = 1,
  kForward = 2,
  kOutput = 3,
  kPostrouting = 4
};
std::string_view hookName(Hook hook);

struct BaseChain {
  std::string type;  // "filter", "nat", "route"
  Hook hook;
  int32_t priority;
  bool operator==(const BaseChain&) const = default;
};

struct Chain {
  std::string name;
  std::optional<BaseChain> base;
  std::vector<Rule> rules;
  bool operator==(const Chain&) const = default;
};

struct Element {
  Key key;
  std::optional<Verdict> verdict;  // a vmap's value
  std::string comment;
  bool operator==(const Element&) const = default;
};

struct Set {
  std::string name;
  std::vector<Type> key;              // one Type per field of a concatenation
  std::optional<Type> data;           // kVerdict for a verdict map
  std::optional<uint64_t> timeoutMs;  // elements expire (affinity sets); implies dynamic
  std::string comment;
  std::map<Key, Element> elements;
  // When set, the key is "typeof numgen random mod N" (a kInteger key): how nft names the type
  // of a map a numgen result is looked up in, so it prints and reloads the table.
  uint32_t numgenModulus = 0;

  // Same definition (everything but the elements).
  bool sameDefinition(const Set& o) const;
  uint32_t keyLength() const;  // each field padded to 4 bytes when concatenated
  Element& add(Element e);
};

struct Table {
  Family family = Family::kInet;
  std::string name;
  std::map<std::string, Chain> chains;
  std::map<std::string, Set> sets;

  Chain& chain(const std::string& name);  // creates an empty regular chain when absent
  Set& set(Set definition);               // inserts or returns the one of that name
  bool operator==(const Table&) const = default;
};
bool operator==(const Set& a, const Set& b);

// Renders in nft's syntax (close to `nft list table`), for tests and logs.
std::string describe(const Rule& rule, Family family);
std::string describe(const Element& element);
std::string describe(const Table& table);

}  // namespace berth::nft
