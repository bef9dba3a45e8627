#include "controlplane/controllers/controller_ref.h"

#include <optional>

#include "kubeapi/resource_client.h"

namespace berth::controlplane::controllers {

using nlohmann::json;

kubeapi::OwnerReference newControllerRef(const json& owner, const kubeapi::GroupVersionKind& kind) {
  return {.apiVersion = kind.apiVersion(),
          .kind = kind.kind,
          .name = std::string(kubeapi::nameOf(owner)),
          .uid = std::string(kubeapi::uidOf(owner)),
          .controller = true,
          .blockOwnerDeletion = true};
}

namespace {

// The object with its owner references replaced, written back; NotFound reads as "gone".
Result<std::optional<json>> writeOwners(const json& object,
                                        const std::vector<kubeapi::OwnerReference>& refs,
                                        const kubeapi::ResourceClient& writer) {
  json copy = object;
  kubeapi::setOwnerReferences(copy, refs);
  auto updated = writer.inNamespace(kubeapi::namespaceOf(object)).update(copy);
  if (updated) return std::optional<json>(std::move(*updated));
  if (updated.error().isNotFound()) return std::optional<json>();
  return std::unexpected(updated.error().toError());
}

}  // namespace

Result<std::vector<kubeapi::ObjectPtr>> claimObjects(
    const json& owner, const kubeapi::GroupVersionKind& ownerKind,
    const kubeapi::LabelSelector& selector, const std::vector<kubeapi::ObjectPtr>& candidates,
    const kubeapi::ResourceClient& writer, const std::function<Status()>& canAdopt) {
  std::vector<kubeapi::ObjectPtr> claimed;
  std::optional<Error> firstError;
  std::optional<Status> adoptable;  // asked once
  const bool ownerDeleting = kubeapi::deletionTimestampOf(owner).has_value();
  const std::string_view ownerUid = kubeapi::uidOf(owner);
  for (const auto& obj : candidates) {
    bool matches = selector.matches(kubeapi::labelsJsonOf(*obj));
    auto refs = kubeapi::ownerReferencesOf(*obj);
    if (auto ref = kubeapi::controllerOf(*obj)) {
      if (ref->uid != ownerUid) continue;
      if (matches) {
        claimed.push_back(obj);
        continue;
      }
      if (ownerDeleting) continue;
      std::erase_if(refs, [&](const kubeapi::OwnerReference& r) { return r.uid == ownerUid; });
      if (auto released = writeOwners(*obj, refs, writer); !released && !firstError)
        firstError =
            Error(released.error()).context(fmt::format("release {}", kubeapi::nameOf(*obj)));
      continue;
    }
    if (ownerDeleting || !matches || kubeapi::deletionTimestampOf(*obj)) continue;
    if (!adoptable) adoptable = canAdopt();
    if (!*adoptable) {
      if (!firstError)
        firstError =
            Error(adoptable->error()).context(fmt::format("can't adopt {}", kubeapi::nameOf(*obj)));
      continue;
    }
    refs.push_back(newControllerRef(owner, ownerKind));
    auto adopted = writeOwners(*obj, refs, writer);
    if (!adopted) {
      if (!firstError)
        firstError = Error(adopted.error()).context(fmt::format("adopt {}", kubeapi::nameOf(*obj)));
    } else if (*adopted) {
      claimed.push_back(std::make_shared<const json>(std::move(**adopted)));
    }
  }
  if (firstError) return std::unexpected(*firstError);
  return claimed;
}

}  // namespace berth::controlplane::controllers
