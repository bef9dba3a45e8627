#pragma once
// Where the described types' fields sit in Kubernetes' protobuf encoding: the numbers of
// types/wire_numbers.k8swire (the format: docs/ARCHITECTURE.md, "controlplane/schema"), joined to
// the Registry's TypeDefs. Kept apart from the descriptions so that they stay one JSON-shaped
// text each; loading checks that the two agree field for field, so a description that gains a
// field without a number fails the unit tests (and berth-server's start) with that field's name.
#include <cstdint>
#include <deque>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "controlplane/schema/registry.h"

namespace berth::controlplane::schema {

struct WireMessage;

struct WireField {
  std::uint32_t number = 0;
  const Field* field = nullptr;           // the described field; null for an embedded struct
  const WireMessage* embedded = nullptr;  // a Go embedded struct, inlined in JSON
  // A Go pointer to a scalar: its zero value on the wire was set by the client, so it is kept
  // (replicas: 0), where the zero of a plain Go field is what Go's JSON would omit.
  bool pointer = false;
  bool wrappedList = false;  // a list inside a message of its own, its items as field 1
};

// The layout of one message: a described struct type, or an embedded struct inside one.
struct WireMessage {
  const TypeDef* type = nullptr;
  std::vector<WireField> fields;  // by number

  const WireField* byNumber(std::uint32_t number) const;
};

class WireTable {
 public:
  [[nodiscard]] static Result<WireTable> load(const Registry& types,
                                              std::span<const DescriptionFile> files);
  // The embedded table joined to Registry::builtin(), loaded on first use.
  static const Result<WireTable>& builtin();
  static std::span<const DescriptionFile> embeddedFiles();

  // nullptr for a type with no protobuf form (or no fields: a scalar).
  const WireMessage* find(const TypeDef& type) const;

  // apiVersion and kind of a type with kinds: TypeMeta, which the envelope carries.
  static bool inEnvelope(const TypeDef& type, const Field& field);

  WireTable(WireTable&&) = default;
  WireTable& operator=(WireTable&&) = default;

 private:
  WireTable() = default;
  friend class WireTableParser;

  std::deque<WireMessage> messages_;  // a deque: embedded messages are pointed to
  std::unordered_map<const TypeDef*, const WireMessage*> byType_;
};

}  // namespace berth::controlplane::schema
