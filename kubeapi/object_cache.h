#pragma once
// The informer's thread-safe indexed store (client-go's cache.Indexer / threadSafeStore):
// objects by "namespace/name" key, shared immutable (readers keep a snapshot as long as they
// like), with a namespace index and any custom index (a function from an object to the values
// it is indexed under: the node a pod is bound to, the owner's uid, ...).
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::kubeapi {

using ObjectPtr = std::shared_ptr<const nlohmann::json>;
using IndexFunc = std::function<std::vector<std::string>(const nlohmann::json&)>;

class ObjectCache {
 public:
  static constexpr std::string_view kNamespaceIndex = "namespace";

  // The namespace index is always there.
  ObjectCache();

  // Indexes must be added before objects (client-go refuses them after); false if the name is
  // taken or objects exist.
  bool addIndex(std::string name, IndexFunc fn);

  // Add or replace by key; returns the object it replaced (null if none).
  ObjectPtr upsert(ObjectPtr obj);
  // Removes by key; returns what was there.
  ObjectPtr remove(std::string_view key);
  // Replaces everything (a relist).
  void replace(std::vector<ObjectPtr> objects);

  ObjectPtr get(std::string_view key) const;
  ObjectPtr get(std::string_view ns, std::string_view name) const;
  std::vector<ObjectPtr> list() const;
  std::vector<std::string> keys() const;
  size_t size() const;
  // Objects whose index `name` includes `value`, by key order. Unknown index: none.
  std::vector<ObjectPtr> byIndex(std::string_view name, std::string_view value) const;
  std::vector<ObjectPtr> inNamespace(std::string_view ns) const {
    return byIndex(kNamespaceIndex, ns);
  }
  std::vector<std::string> indexValues(std::string_view name) const;

 private:
  void indexLocked(const std::string& key, const nlohmann::json& obj);
  void unindexLocked(const std::string& key, const nlohmann::json& obj);

  mutable std::shared_mutex mu_;
  std::map<std::string, ObjectPtr, std::less<>> items_;
  std::map<std::string, IndexFunc, std::less<>> indexFuncs_;
  // index name -> value -> keys
  std::map<std::string, std::map<std::string, std::set<std::string>, std::less<>>, std::less<>>
      indices_;
};

}  // namespace berth::kubeapi
