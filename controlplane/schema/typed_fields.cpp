#include "controlplane/schema/typed_fields.h"

#include <set>

#include <fmt/format.h>

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

enum class Shape { kLeaf, kStruct, kMap, kKeyedList, kSetList };

// A value's place in the description: its type and the field that holds it (list and map
// relationships are tags of the field).
struct Node {
  Shape shape = Shape::kLeaf;
  const TypeRef* type = nullptr;
  const Field* field = nullptr;
};

Node nodeOf(const TypeRef& type, const Field* field) {
  Node n{Shape::kLeaf, &type, field};
  bool atomicMap = field && field->mapType == MapType::kAtomic;
  switch (type.kind) {
    case ValueKind::kNamed:
      if (type.def->isStruct() && type.def->mapType != MapType::kAtomic && !atomicMap)
        n.shape = Shape::kStruct;
      break;
    case ValueKind::kMap:
      if (!atomicMap) n.shape = Shape::kMap;
      break;
    case ValueKind::kArray: {
      if (!field || type.elem->kind == ValueKind::kArray) break;
      ListType lt = field->listType;
      if (lt == ListType::kUnset && field->mergesByKey())
        lt = field->patchMergeKey.empty() ? ListType::kSet : ListType::kMap;
      bool structs = type.elem->kind == ValueKind::kNamed && type.elem->def->isStruct();
      if (lt == ListType::kMap && structs) n.shape = Shape::kKeyedList;
      if (lt == ListType::kSet && !structs) n.shape = Shape::kSetList;
      break;
    }
    default:
      break;
  }
  return n;
}

// Granular: merged and owned member by member rather than as one value.
bool container(const Node& n) {
  return n.shape != Shape::kLeaf;
}

// The node of a member of a struct or map; nullopt for a field the struct does not declare.
std::optional<Node> memberNode(const Node& n, const std::string& key) {
  if (n.shape == Shape::kMap) return nodeOf(*n.type->elem, nullptr);
  const Field* f = n.type->def->field(key);
  if (!f) return std::nullopt;
  return nodeOf(f->type, f);
}

Node itemNode(const Node& list) {
  return nodeOf(*list.type->elem, nullptr);
}

std::string fieldElement(const std::string& key) {
  return "f:" + key;
}

// The element naming one item of a keyed list or set: k:{"name":"web"} or v:"x". A key field
// the item omits takes its declared default (a port's protocol), as upstream does.
Result<std::string> itemElement(const Node& list, const json& item) {
  if (list.shape == Shape::kSetList) return "v:" + item.dump();
  std::vector<std::string_view> keys = list.field->listMapKeys;
  if (keys.empty()) keys.push_back(list.field->patchMergeKey);
  const TypeDef& def = *list.type->elem->def;
  json key = json::object();
  for (std::string_view k : keys) {
    std::string name(k);
    if (item.is_object() && item.contains(name) && !item[name].is_null()) {
      key[name] = item[name];
    } else if (const Field* f = def.field(k); f && f->defaultValue) {
      key[name] = *f->defaultValue;
    } else {
      return std::unexpected(
          Error(Code::kInvalidArgument,
                fmt::format("associative list with keys has an element that omits key field {} "
                            "(and doesn't have default value)",
                            json(name).dump())));
    }
  }
  return "k:" + key.dump();
}

// Items of a keyed list or set by their element, in list order.
Result<std::vector<std::pair<std::string, const json*>>> itemsOf(const Node& list,
                                                                 const json* value) {
  std::vector<std::pair<std::string, const json*>> out;
  if (!value || !value->is_array()) return out;
  for (const json& item : *value) {
    std::string e = BERTH_TRY(itemElement(list, item));
    out.emplace_back(std::move(e), &item);
  }
  return out;
}

const json* find(const std::vector<std::pair<std::string, const json*>>& items,
                 const std::string& element) {
  for (const auto& [e, item] : items)
    if (e == element) return item;
  return nullptr;
}

Error at(FieldPath& path, Error e) {
  return std::move(e).context(fieldPathString(path));
}

Status collect(const json& value, const Node& node, FieldPath& path, FieldSet& out) {
  if (node.shape == Shape::kStruct || node.shape == Shape::kMap) {
    if (!value.is_object()) return {};
    for (const auto& [key, child] : value.items()) {
      path.push_back(fieldElement(key));
      auto childNode = memberNode(node, key);
      if (!childNode)
        return std::unexpected(
            at(path, Error(Code::kInvalidArgument, "field not declared in schema")));
      bool emptyObject = child.is_object() && child.empty();
      if (node.shape == Shape::kMap || !container(*childNode) || child.is_null() || emptyObject)
        out.insert(path);
      if (container(*childNode) && !child.is_null())
        BERTH_TRY(collect(child, *childNode, path, out));
      path.pop_back();
    }
  } else if (node.shape == Shape::kKeyedList || node.shape == Shape::kSetList) {
    auto items = itemsOf(node, &value);
    if (!items) return std::unexpected(at(path, items.error()));
    for (const auto& [element, item] : *items) {
      path.push_back(element);
      out.insert(path);
      if (node.shape == Shape::kKeyedList) BERTH_TRY(collect(*item, itemNode(node), path, out));
      path.pop_back();
    }
  }
  return {};
}

// Children of a struct/map or list value by element, with their nodes (an undeclared field is a
// leaf).
struct Child {
  const json* value = nullptr;
  Node node;
};

Result<std::map<std::string, Child>> childrenOf(const Node& node, const json* value) {
  std::map<std::string, Child> out;
  if (!value) return out;
  if (node.shape == Shape::kStruct || node.shape == Shape::kMap) {
    if (!value->is_object()) return out;
    for (const auto& [key, child] : value->items()) {
      Node n = memberNode(node, key).value_or(Node{});
      out[fieldElement(key)] = Child{&child, n};
    }
  } else {
    Node n = node.shape == Shape::kKeyedList ? itemNode(node) : Node{};
    for (const auto& [element, item] : BERTH_TRY(itemsOf(node, value)))
      out[element] = Child{item, n};
  }
  return out;
}

void insertAll(const json* value, const Node& node, FieldPath& path, FieldSet& out) {
  out.insert(path);
  if (!value || !container(node) || value->is_null()) return;
  auto children = childrenOf(node, value);
  if (!children) return;
  for (const auto& [e, child] : *children) {
    path.push_back(e);
    insertAll(child.value, child.node, path, out);
    path.pop_back();
  }
}

bool isContainerValue(const Node& node, const json& v) {
  if (node.shape == Shape::kStruct || node.shape == Shape::kMap)
    return v.is_object() || v.is_null();
  if (node.shape == Shape::kKeyedList || node.shape == Shape::kSetList)
    return v.is_array() || v.is_null();
  return false;
}

Status compare(const json* before, const json* after, const Node& node, FieldPath& path,
               Comparison& out) {
  if (!before && !after) return {};
  if (!before) {
    insertAll(after, node, path, out.added);
    return {};
  }
  if (!after) {
    insertAll(before, node, path, out.removed);
    return {};
  }
  if (node.shape == Shape::kLeaf || !isContainerValue(node, *before) ||
      !isContainerValue(node, *after)) {
    if (*before != *after) out.modified.insert(path);
    return {};
  }
  auto lhs = childrenOf(node, before);
  if (!lhs) return std::unexpected(at(path, lhs.error()));
  auto rhs = childrenOf(node, after);
  if (!rhs) return std::unexpected(at(path, rhs.error()));
  std::set<std::string> elements;
  for (const auto& [e, c] : *lhs)
    elements.insert(e);
  for (const auto& [e, c] : *rhs)
    elements.insert(e);
  for (const std::string& e : elements) {
    auto l = lhs->find(e), r = rhs->find(e);
    const Child& c = l != lhs->end() ? l->second : r->second;
    path.push_back(e);
    BERTH_TRY(compare(l != lhs->end() ? l->second.value : nullptr,
                      r != rhs->end() ? r->second.value : nullptr, c.node, path, out));
    path.pop_back();
  }
  return {};
}

Result<json> merge(const json* live, const json& config, const Node& node);

// Upstream's list merge order: configured items in the configuration's order; a live-only item
// stays after the item it followed in the live list.
Result<json> mergeList(const json* live, const json& config, const Node& node) {
  auto lhs = BERTH_TRY(itemsOf(node, live));
  auto rhs = BERTH_TRY(itemsOf(node, &config));
  Node item = node.shape == Shape::kKeyedList ? itemNode(node) : Node{};
  std::vector<std::string> shared;
  for (const auto& [e, v] : rhs)
    if (find(lhs, e)) shared.push_back(e);
  std::size_t nextShared = 0;
  std::set<std::string> merged;
  json out = json::array();
  auto takeRhs = [&](std::size_t ri) -> Status {
    const std::string& e = rhs[ri].first;
    merged.insert(e);
    out.push_back(BERTH_TRY(merge(find(lhs, e), *rhs[ri].second, item)));
    if (nextShared < shared.size() && shared[nextShared] == e) ++nextShared;
    return {};
  };
  for (std::size_t li = 0, ri = 0; li < lhs.size() || ri < rhs.size();) {
    if (li < lhs.size() && ri < rhs.size()) {
      const std::string& e = lhs[li].first;
      if (e == rhs[ri].first) {
        BERTH_TRY(takeRhs(ri));
        ++li, ++ri;
        continue;
      }
      if (find(rhs, e) && nextShared < shared.size() && shared[nextShared] != e) {
        ++li;
        continue;
      }
    }
    if (li < lhs.size()) {
      const std::string& e = lhs[li].first;
      if (!find(rhs, e)) {
        out.push_back(*lhs[li].second);
        ++li;
        continue;
      }
      if (merged.contains(e)) {
        ++li;
        continue;
      }
    }
    if (ri < rhs.size()) BERTH_TRY(takeRhs(ri++));
  }
  return out;
}

Result<json> merge(const json* live, const json& config, const Node& node) {
  if (node.shape == Shape::kLeaf || config.is_null() || !isContainerValue(node, config))
    return config;
  if (node.shape == Shape::kKeyedList || node.shape == Shape::kSetList)
    return mergeList(live && live->is_array() ? live : nullptr, config, node);
  json out = live && live->is_object() ? *live : json::object();
  for (const auto& [key, value] : config.items()) {
    if (value.is_null()) {
      out.erase(key);  // a null in a configuration unsets the field
      continue;
    }
    Node child = memberNode(node, key).value_or(Node{});
    auto it = out.find(key);
    const json* current = it == out.end() ? nullptr : &*it;
    auto merged = merge(current, value, child);
    if (!merged) return std::unexpected(std::move(merged).error().context("." + key));
    out[key] = std::move(*merged);
  }
  return out;
}

// Returns whether removing emptied the value: an emptied map or list then goes too, as
// structured-merge-diff's remove leaves it null.
bool remove(json& value, const FieldSet& set, const Node& node) {
  if (value.empty()) return false;
  if (node.shape == Shape::kStruct || node.shape == Shape::kMap) {
    if (!value.is_object()) return false;
    for (auto it = value.begin(); it != value.end();) {
      std::string e = fieldElement(it.key());
      const FieldSet* sub = set.child(e);
      if (set.hasMember(e) ||
          (sub && remove(*it, *sub, memberNode(node, it.key()).value_or(Node{})))) {
        it = value.erase(it);
        continue;
      }
      ++it;
    }
  } else if ((node.shape == Shape::kKeyedList || node.shape == Shape::kSetList) &&
             value.is_array()) {
    json kept = json::array();
    for (json& item : value) {
      auto e = itemElement(node, item);
      if (e && set.hasMember(*e)) continue;
      if (const FieldSet* sub = e ? set.child(*e) : nullptr) remove(item, *sub, itemNode(node));
      kept.push_back(std::move(item));
    }
    value = std::move(kept);
  } else {
    return false;
  }
  return value.empty();
}

json zeroOf(const TypeRef& type) {
  switch (type.kind) {
    case ValueKind::kString:
    case ValueKind::kBytes:
      return "";
    case ValueKind::kInt32:
    case ValueKind::kInt64:
      return 0;
    case ValueKind::kDouble:
      return 0.0;
    case ValueKind::kBool:
      return false;
    case ValueKind::kNamed:
      if (type.def->isStruct()) return zeroObject(*type.def);
      return type.def->scalar == Scalar::kIntOrString ? json(0) : json();
    default:
      return json();  // nil slices and maps
  }
}

Node rootNode(const TypeDef& type, TypeRef& ref) {
  ref = TypeRef{ValueKind::kNamed, &type, nullptr};
  return Node{Shape::kStruct, &ref, nullptr};
}

}  // namespace

Result<FieldSet> fieldSetOf(const json& object, const TypeDef& type) {
  TypeRef ref;
  Node root = rootNode(type, ref);
  FieldSet out;
  FieldPath path;
  BERTH_TRY(collect(object, root, path, out));
  return out;
}

Result<Comparison> compareObjects(const json& before, const json& after, const TypeDef& type) {
  TypeRef ref;
  Node root = rootNode(type, ref);
  Comparison out;
  FieldPath path;
  BERTH_TRY(compare(before.is_null() ? nullptr : &before, &after, root, path, out));
  return out;
}

Result<json> mergeObjects(const json& live, const json& config, const TypeDef& type) {
  TypeRef ref;
  return merge(&live, config, rootNode(type, ref));
}

json removeFields(json object, const FieldSet& set, const TypeDef& type) {
  TypeRef ref;
  remove(object, set, rootNode(type, ref));
  return object;
}

json zeroObject(const TypeDef& type) {
  json out = json::object();
  for (const Field& f : type.fields) {
    if (f.always) {
      out[std::string(f.name)] = zeroOf(f.type);
    } else if (f.required) {
      out[std::string(f.name)] = nullptr;  // a required pointer or slice: no omitempty
    }
  }
  return out;
}

}  // namespace berth::controlplane::schema
