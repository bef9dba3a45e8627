#include "common/nft_ruleset.h"

#include <arpa/inet.h>

#include <cstring>
#include <set>

#include <fmt/format.h>

namespace berth::nft {

std::string_view familyName(Family family) {
  switch (family) {
    case Family::kInet:
      return "inet";
    case Family::kIp:
      return "ip";
    case Family::kBridge:
      return "bridge";
    case Family::kIp6:
      return "ip6";
  }
  return "?";
}

std::string_view typeName(Type type) {
  switch (type) {
    case Type::kIpv4Addr:
      return "ipv4_addr";
    case Type::kIpv6Addr:
      return "ipv6_addr";
    case Type::kInetProto:
      return "inet_proto";
    case Type::kInetService:
      return "inet_service";
    case Type::kMark:
      return "mark";
    case Type::kInteger:
      return "integer";
    case Type::kVerdict:
      return "verdict";
  }
  return "?";
}

uint32_t typeLength(Type type) {
  switch (type) {
    case Type::kIpv4Addr:
      return 4;
    case Type::kIpv6Addr:
      return 16;
    case Type::kInetProto:
      return 1;
    case Type::kInetService:
      return 2;
    case Type::kMark:
    case Type::kInteger:
      return 4;
    case Type::kVerdict:
      return 0;
  }
  return 0;
}

Datum::Datum(Type type, const void* bytes, size_t size) : type_(type) {
  std::memcpy(bytes_.data(), bytes, size);
}

Datum Datum::addr(const IpAddr& ip) {
  return Datum(ip.isV6() ? Type::kIpv6Addr : Type::kIpv4Addr, ip.data(), ip.size());
}

Datum Datum::proto(uint8_t ipProto) {
  return Datum(Type::kInetProto, &ipProto, 1);
}

Datum Datum::port(uint16_t port) {
  uint16_t n = htons(port);
  return Datum(Type::kInetService, &n, 2);
}

Datum Datum::mark(uint32_t mark) {
  return Datum(Type::kMark, &mark, 4);
}
Datum Datum::integer(uint32_t value) {
  return Datum(Type::kInteger, &value, 4);
}

namespace {

uint32_t u32At(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

std::string protoName(uint8_t p) {
  switch (p) {
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 132:
      return "sctp";
    default:
      return std::to_string(p);
  }
}

}  // namespace

std::string Datum::str() const {
  switch (type_) {
    case Type::kIpv4Addr:
    case Type::kIpv6Addr: {
      char buf[INET6_ADDRSTRLEN];
      ::inet_ntop(type_ == Type::kIpv4Addr ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
      return buf;
    }
    case Type::kInetProto:
      return protoName(bytes_[0]);
    case Type::kInetService:
      return std::to_string(ntohs(static_cast<uint16_t>(bytes_[0] | (bytes_[1] << 8))));
    case Type::kMark:
      return fmt::format("{:#010x}", u32At(bytes_.data()));
    case Type::kInteger:
      return std::to_string(u32At(bytes_.data()));
    case Type::kVerdict:
      return "verdict";
  }
  return "?";
}

std::string Verdict::str() const {
  switch (kind) {
    case Kind::kAccept:
      return "accept";
    case Kind::kDrop:
      return "drop";
    case Kind::kReturn:
      return "return";
    case Kind::kJump:
      return "jump " + chain;
    case Kind::kGoto:
      return "goto " + chain;
  }
  return "?";
}

std::string_view fieldName(Field field) {
  switch (field) {
    case Field::kIpSaddr:
      return "ip saddr";
    case Field::kIpDaddr:
      return "ip daddr";
    case Field::kIp6Saddr:
      return "ip6 saddr";
    case Field::kIp6Daddr:
      return "ip6 daddr";
    case Field::kThDport:
      return "th dport";
    case Field::kL4Proto:
      return "meta l4proto";
    case Field::kNfProto:
      return "meta nfproto";
    case Field::kMark:
      return "meta mark";
    case Field::kCtState:
      return "ct state";
    case Field::kFibDaddrType:
      return "fib daddr type";
    case Field::kFibSaddrType:
      return "fib saddr type";
  }
  return "?";
}

uint32_t fieldLength(Field field) {
  switch (field) {
    case Field::kIpSaddr:
    case Field::kIpDaddr:
      return 4;
    case Field::kIp6Saddr:
    case Field::kIp6Daddr:
      return 16;
    case Field::kThDport:
      return 2;
    case Field::kL4Proto:
    case Field::kNfProto:
      return 1;
    default:
      return 4;
  }
}

std::string_view hookName(Hook hook) {
  switch (hook) {
    case Hook::kPrerouting:
      return "prerouting";
    case Hook::kInput:
      return "input";
    case Hook::kForward:
      return "forward";
    case Hook::kOutput:
      return "output";
    case Hook::kPostrouting:
      return "postrouting";
  }
  return "?";
}

bool Set::sameDefinition(const Set& o) const {
  return name == o.name && key == o.key && data == o.data && timeoutMs == o.timeoutMs &&
         comment == o.comment && numgenModulus == o.numgenModulus;
}

bool operator==(const Set& a, const Set& b) {
  return a.sameDefinition(b) && a.elements == b.elements;
}

uint32_t Set::keyLength() const {
  if (key.size() == 1) return typeLength(key[0]);
  uint32_t n = 0;
  for (Type t : key)
    n += (typeLength(t) + 3) / 4 * 4;
  return n;
}

Element& Set::add(Element e) {
  Key k = e.key;
  return elements.insert_or_assign(std::move(k), std::move(e)).first->second;
}

Chain& Table::chain(const std::string& chainName) {
  auto [it, inserted] = chains.try_emplace(chainName);
  if (inserted) it->second.name = chainName;
  return it->second;
}

Set& Table::set(Set definition) {
  std::string n = definition.name;
  return sets.try_emplace(n, std::move(definition)).first->second;
}

namespace {

// What each register holds, as nft would name it, while a rule is rendered.
struct Registers {
  std::map<uint32_t, std::string> names;
  // The concatenation starting at `from`: every register loaded since, in order.
  std::string from(uint32_t start) const {
    std::string out;
    for (auto& [r, n] : names) {
      if (r < start) continue;
      if (!out.empty()) out += " . ";
      out += n;
    }
    return out;
  }
};

std::string cmpValue(Field field, const Datum& v) {
  if ((field == Field::kFibDaddrType || field == Field::kFibSaddrType) &&
      u32At(v.data()) == 2 /* RTN_LOCAL */)
    return "local";
  return v.str();
}

// The prefix length when `b` masks an address to a prefix ("ip saddr 10.0.0.0/8"), else -1.
int prefixLength(const Bitwise& b) {
  if (b.mask.type() != Type::kIpv4Addr && b.mask.type() != Type::kIpv6Addr) return -1;
  int len = 0;
  bool ended = false;
  for (uint32_t i = 0; i < b.mask.size(); ++i) {
    if (b.xorValue.data()[i] != 0) return -1;
    for (int bit = 7; bit >= 0; --bit) {
      bool set = (b.mask.data()[i] >> bit) & 1;
      if (set && ended) return -1;
      if (set) ++len;
      ended = ended || !set;
    }
  }
  return len;
}

// "meta mark or 0x4000", "meta mark and 0x4000", "ip daddr & 255.0.0.0".
std::string describeBitwise(const std::string& src, const Bitwise& b) {
  bool zeroXor = true, inverse = true;
  for (uint32_t i = 0; i < b.mask.size(); ++i) {
    zeroXor = zeroXor && b.xorValue.data()[i] == 0;
    inverse = inverse && static_cast<uint8_t>(~b.mask.data()[i]) == b.xorValue.data()[i];
  }
  if (zeroXor) return fmt::format("{} & {}", src, b.mask.str());
  if (inverse) return fmt::format("{} or {}", src, b.xorValue.str());
  return fmt::format("{} xor {}", src, b.xorValue.str());
}

}  // namespace

std::string describe(const Rule& rule, Family) {
  Registers regs;
  std::map<uint32_t, Field> fields;
  std::map<uint32_t, int> prefixes;  // registers masked to an address prefix
  std::set<uint32_t> computed;       // registers holding a bitwise result
  std::vector<std::string> out;
  for (const Expr& e : rule.exprs) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, Load>) {
            regs.names[x.dreg] = std::string(fieldName(x.field));
            fields[x.dreg] = x.field;
          } else if constexpr (std::is_same_v<T, Cmp>) {
            std::string value = cmpValue(fields[x.sreg], x.value);
            if (auto p = prefixes.find(x.sreg); p != prefixes.end()) {
              value += fmt::format("/{}", p->second);
              prefixes.erase(p);
            }
            // After a bitwise, nft writes the equality out: "meta mark & 0x4000 == 0".
            const char* op = !x.equal ? "!= " : computed.erase(x.sreg) ? "== " : "";
            out.push_back(fmt::format("{} {}{}", regs.names[x.sreg], op, value));
            regs.names.erase(x.sreg);
          } else if constexpr (std::is_same_v<T, Bitwise>) {
            if (int len = prefixLength(x); len >= 0) {
              regs.names[x.dreg] = regs.names[x.sreg];  // the cmp prints "addr/len"
              prefixes[x.dreg] = len;
            } else {
              regs.names[x.dreg] = describeBitwise(regs.names[x.sreg], x);
              computed.insert(x.dreg);
            }
          } else if constexpr (std::is_same_v<T, TestBits>) {
            std::string what = fields[x.sreg] == Field::kCtState && x.bits == 8
                                   ? std::string("new")
                                   : fmt::format("{:#x}", x.bits);
            out.push_back(fmt::format("{} {}", regs.names[x.sreg], what));
            regs.names.erase(x.sreg);
          } else if constexpr (std::is_same_v<T, MetaSetMark>) {
            out.push_back("meta mark set " + regs.names[x.sreg]);
            regs.names.erase(x.sreg);
          } else if constexpr (std::is_same_v<T, Lookup>) {
            std::string key = regs.from(x.sreg);
            std::string op = x.dreg ? "vmap" : (x.invert ? "!=" : "");
            out.push_back(
                fmt::format("{}{}{}@{}", key, op.empty() ? " " : " " + op + " ", "", x.set));
            regs.names.clear();
          } else if constexpr (std::is_same_v<T, Immediate>) {
            out.push_back(x.verdict.str());
          } else if constexpr (std::is_same_v<T, Numgen>) {
            regs.names[x.dreg] = fmt::format("numgen random mod {}", x.modulus);
          } else if constexpr (std::is_same_v<T, LoadConst>) {
            regs.names[x.dreg] = x.value.str();
          } else if constexpr (std::is_same_v<T, Dnat>) {
            std::string addr = regs.names[x.addrReg];
            if (x.family == Family::kIp6) addr = "[" + addr + "]";
            out.push_back(
                fmt::format("dnat {} to {}:{}", familyName(x.family), addr, regs.names[x.portReg]));
          } else if constexpr (std::is_same_v<T, Masquerade>) {
            out.push_back(x.fullyRandom ? "masquerade fully-random" : "masquerade");
          } else if constexpr (std::is_same_v<T, Reject>) {
            out.push_back(x.tcpReset ? "reject with tcp reset" : "reject");
          } else if constexpr (std::is_same_v<T, DynsetUpdate>) {
            out.push_back(fmt::format("update @{} {{ {} }}", x.set, regs.from(x.sreg)));
          }
        },
        e);
  }
  std::string s;
  for (auto& part : out) {
    if (!s.empty()) s += ' ';
    s += part;
  }
  if (!rule.comment.empty()) s += fmt::format(" comment \"{}\"", rule.comment);
  return s;
}

std::string describe(const Element& element) {
  std::string s;
  for (const Datum& d : element.key) {
    if (!s.empty()) s += " . ";
    s += d.str();
  }
  if (element.verdict) s += " : " + element.verdict->str();
  if (!element.comment.empty()) s += fmt::format(" comment \"{}\"", element.comment);
  return s;
}

std::string describe(const Table& table) {
  std::string s = fmt::format("table {} {} {{\n", familyName(table.family), table.name);
  for (const auto& [name, set] : table.sets) {
    std::string key;
    for (Type t : set.key)
      key += (key.empty() ? "" : " . ") + std::string(typeName(t));
    s += fmt::format("  {} {} {{ type {}{}", set.data ? "map" : "set", name, key,
                     set.data ? " : " + std::string(typeName(*set.data)) : "");
    if (set.timeoutMs) s += fmt::format("; timeout {}s", *set.timeoutMs / 1000);
    s += " }\n";
    for (const auto& [k, e] : set.elements)
      s += "    " + describe(e) + "\n";
  }
  for (const auto& [name, chain] : table.chains) {
    s += fmt::format("  chain {} {{", name);
    if (chain.base) {
      s += fmt::format(" type {} hook {} priority {};", chain.base->type,
                       hookName(chain.base->hook), chain.base->priority);
    }
    s += "\n";
    for (const Rule& r : chain.rules)
      s += "    " + describe(r, table.family) + "\n";
    s += "  }\n";
  }
  return s + "}\n";
}

}  // namespace berth::nft
