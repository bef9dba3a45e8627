#include "ocispec/runtime_spec.h"

#include <algorithm>

namespace berth::ocispec {

const Namespace* Spec::findNamespace(std::string_view type) const {
  if (!linux) return nullptr;
  auto it = std::find_if(linux->namespaces.begin(), linux->namespaces.end(),
                         [&](const Namespace& ns) { return ns.type == type; });
  return it == linux->namespaces.end() ? nullptr : &*it;
}

}  // namespace berth::ocispec
