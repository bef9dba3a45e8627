#pragma once
// Every described type, by name and by group/version/kind: the one place the derivations look a
// type up. The descriptions are compiled into the binary (schema/types/*.k8s, embedded at build
// time) and parsed once on first use; the TypeDefs hold views into that text.
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "controlplane/schema/type_def.h"

namespace berth::controlplane::schema {

struct DescriptionFile {
  std::string_view name;  // for messages: "core_v1.k8s"
  std::string_view text;  // must outlive the Registry
};

class Registry {
 public:
  // Parses the files and resolves every type name; errors name "<file>:<line>".
  [[nodiscard]] static Result<Registry> load(std::span<const DescriptionFile> files);
  // The embedded descriptions (loaded on first call; a broken description aborts, and the unit
  // tests load them, so that cannot ship).
  static const Registry& builtin();
  static std::span<const DescriptionFile> embeddedFiles();

  const TypeDef* find(std::string_view name) const;
  const TypeDef* findKind(std::string_view group, std::string_view version,
                          std::string_view kind) const;
  // In description order.
  const std::vector<const TypeDef*>& types() const { return order_; }

  Registry(Registry&&) = default;
  Registry& operator=(Registry&&) = default;

 private:
  Registry() = default;
  friend class DescriptionParser;

  std::deque<TypeDef> types_;  // a deque: TypeDef addresses stay put as it grows
  std::deque<TypeRef> refs_;   // element types of lists and maps
  std::vector<const TypeDef*> order_;
  std::unordered_map<std::string_view, TypeDef*> byName_;
  std::unordered_map<std::string, const TypeDef*> byKind_;  // "group/version/Kind"
};

}  // namespace berth::controlplane::schema
