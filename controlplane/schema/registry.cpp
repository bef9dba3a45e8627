#include "controlplane/schema/registry.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>
#include "controlplane/schema/description_parser.h"

namespace berth::controlplane::schema {

// Generated at build time from types/*.k8s (embed_descriptions.cmake).
namespace embedded {
extern const DescriptionFile kFiles[];
extern const std::size_t kFileCount;
}  // namespace embedded

const Field* TypeDef::field(std::string_view fieldName) const {
  auto it = std::ranges::lower_bound(byName, fieldName, {},
                                     [&](std::uint16_t i) { return fields[i].name; });
  if (it == byName.end() || fields[*it].name != fieldName) return nullptr;
  return &fields[*it];
}

std::string_view TypeDef::shortName() const {
  std::string_view n = name;
  return n.substr(n.rfind('.') + 1);
}

std::string_view TypeDef::package() const {
  std::string_view n = name;
  return n.substr(0, n.rfind('.'));
}

std::string_view TypeDef::goPackage() const {
  std::string_view p = package();
  return p.substr(p.rfind('.') + 1);
}

Result<Registry> Registry::load(std::span<const DescriptionFile> files) {
  Registry registry;
  DescriptionParser parser(registry);
  for (const DescriptionFile& f : files)
    BERTH_TRY(parser.parseFile(f));
  BERTH_TRY(parser.resolve());
  return registry;
}

std::span<const DescriptionFile> Registry::embeddedFiles() {
  return {embedded::kFiles, embedded::kFileCount};
}

const Registry& Registry::builtin() {
  static const Registry registry = [] {
    auto r = load(embeddedFiles());
    if (!r) {
      // The unit tests load the same text, so this is a build that skipped them.
      fmt::print(stderr, "berth: embedded type descriptions: {}\n", r.error().message());
      std::abort();
    }
    return std::move(*r);
  }();
  return registry;
}

const TypeDef* Registry::find(std::string_view name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : it->second;
}

const TypeDef* Registry::findKind(std::string_view group, std::string_view version,
                                  std::string_view kind) const {
  auto it = byKind_.find(fmt::format("{}/{}/{}", group, version, kind));
  return it == byKind_.end() ? nullptr : it->second;
}

}  // namespace berth::controlplane::schema
