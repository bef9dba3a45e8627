#include "kubeapi/object_cache.h"

#include <mutex>

#include "kubeapi/object_meta.h"

namespace berth::kubeapi {

ObjectCache::ObjectCache() {
  indexFuncs_.emplace(std::string(kNamespaceIndex), [](const nlohmann::json& obj) {
    return std::vector<std::string>{std::string(namespaceOf(obj))};
  });
}

bool ObjectCache::addIndex(std::string name, IndexFunc fn) {
  std::unique_lock lock(mu_);
  if (!items_.empty() || indexFuncs_.contains(name)) return false;
  indexFuncs_.emplace(std::move(name), std::move(fn));
  return true;
}

void ObjectCache::indexLocked(const std::string& key, const nlohmann::json& obj) {
  for (const auto& [name, fn] : indexFuncs_) {
    auto& index = indices_[name];
    for (auto& value : fn(obj))
      index[value].insert(key);
  }
}

void ObjectCache::unindexLocked(const std::string& key, const nlohmann::json& obj) {
  for (const auto& [name, fn] : indexFuncs_) {
    auto& index = indices_[name];
    for (auto& value : fn(obj)) {
      auto it = index.find(value);
      if (it == index.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) index.erase(it);
    }
  }
}

ObjectPtr ObjectCache::upsert(ObjectPtr obj) {
  std::string key = objectKey(*obj);
  std::unique_lock lock(mu_);
  ObjectPtr old;
  if (auto it = items_.find(key); it != items_.end()) {
    old = it->second;
    unindexLocked(key, *old);
  }
  indexLocked(key, *obj);
  items_[key] = std::move(obj);
  return old;
}

ObjectPtr ObjectCache::remove(std::string_view key) {
  std::unique_lock lock(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  ObjectPtr old = it->second;
  unindexLocked(it->first, *old);
  items_.erase(it);
  return old;
}

void ObjectCache::replace(std::vector<ObjectPtr> objects) {
  std::unique_lock lock(mu_);
  items_.clear();
  indices_.clear();
  for (auto& obj : objects) {
    std::string key = objectKey(*obj);
    indexLocked(key, *obj);
    items_[key] = std::move(obj);
  }
}

ObjectPtr ObjectCache::get(std::string_view key) const {
  std::shared_lock lock(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

ObjectPtr ObjectCache::get(std::string_view ns, std::string_view name) const {
  return get(objectKey(ns, name));
}

std::vector<ObjectPtr> ObjectCache::list() const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [key, obj] : items_)
    out.push_back(obj);
  return out;
}

std::vector<std::string> ObjectCache::keys() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& [key, obj] : items_)
    out.push_back(key);
  return out;
}

size_t ObjectCache::size() const {
  std::shared_lock lock(mu_);
  return items_.size();
}

std::vector<ObjectPtr> ObjectCache::byIndex(std::string_view name, std::string_view value) const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  auto index = indices_.find(name);
  if (index == indices_.end()) return out;
  auto keys = index->second.find(value);
  if (keys == index->second.end()) return out;
  for (const auto& key : keys->second) {
    if (auto it = items_.find(key); it != items_.end()) out.push_back(it->second);
  }
  return out;
}

std::vector<std::string> ObjectCache::indexValues(std::string_view name) const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  auto index = indices_.find(name);
  if (index == indices_.end()) return out;
  for (const auto& [value, keys] : index->second)
    out.push_back(value);
  return out;
}

}  // namespace berth::kubeapi
