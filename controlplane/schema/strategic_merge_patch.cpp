// Strategic merge patch as apimachinery's strategicpatch applies it on the server
// (StrategicMergeMapPatch: parallel lists merged, unmatched nulls ignored), with the patch
// metadata (merge keys, strategies) taken from the type descriptions instead of Go struct tags.
#include <algorithm>

#include <fmt/format.h>

#include "controlplane/schema/go_values.h"
#include "controlplane/schema/patch.h"
#include "controlplane/schema/patch_internal.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

constexpr std::string_view kDirective = "$patch";
constexpr std::string_view kRetainKeys = "$retainKeys";
constexpr std::string_view kDeletePrefix = "$deleteFromPrimitiveList";
constexpr std::string_view kOrderPrefix = "$setElementOrder";

// What the patch metadata lookups return: the schema of the value and the field's tags.
struct Meta {
  const TypeRef* schema = nullptr;
  std::string_view mergeKey;
  std::string strategy;  // the strategy besides retainKeys: "merge", "replace" or ""
};

Error badRequest(std::string_view m) {
  return Error(Code::kInvalidArgument, std::string(m));
}
Error internal(std::string m) {
  return Error(Code::kInternal, std::move(m));
}

const Error kBadPrimitiveList = badRequest("invalid patch format of primitive list");
const Error kBadRetainKeys = badRequest("invalid patch format of retainKeys");
const Error kBadSetOrder = badRequest("invalid patch format of setElementOrder list");

Result<Meta> lookupStruct(const TypeRef& schema, std::string_view key) {
  if (schema.kind == ValueKind::kMap) return Meta{schema.elem, {}, {}};
  if (schema.kind != ValueKind::kNamed)
    return std::unexpected(internal(
        fmt::format("merging an object in json but data type is not map or struct, instead is: {}",
                    goKindName(schema))));
  const Field* f = schema.def->isStruct() ? schema.def->field(key) : nullptr;
  if (f == nullptr)
    return std::unexpected(
        internal(fmt::format("unable to find api field in struct {} for the json field {}",
                             schema.def->shortName(), goQuote(key))));
  Meta m{&f->type, f->patchMergeKey, {}};
  // extractRetainKeysPatchStrategy: retainKeys is handled by the $retainKeys directive.
  std::string_view s = f->patchStrategy;
  while (!s.empty()) {
    std::size_t comma = s.find(',');
    std::string_view part = s.substr(0, comma);
    if (part != "retainKeys") m.strategy = std::string(part);
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
  }
  return m;
}

Result<Meta> lookupSlice(const TypeRef& schema, std::string_view key) {
  Meta m = BERTH_TRY(lookupStruct(schema, key));
  if (m.schema->kind != ValueKind::kArray)
    return std::unexpected(
        internal(fmt::format("expected slice or array type, but got: {}", goKindName(schema))));
  if (m.schema->elem->kind == ValueKind::kArray)
    return std::unexpected(internal("unexpected slice of slice"));
  m.schema = m.schema->elem;
  return m;
}

// The Go dynamic type of a decoded JSON value, for "same type" decisions.
int goType(const json& v) {
  switch (v.type()) {
    case json::value_t::object:
      return 1;
    case json::value_t::array:
      return 2;
    case json::value_t::string:
      return 3;
    case json::value_t::boolean:
      return 4;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return 5;  // int64
    case json::value_t::number_float:
      return 6;  // float64
    default:
      return 0;  // nil
  }
}

// Go's == on two interface{} values holding decoded JSON scalars.
bool goEqual(const json& a, const json& b) {
  if (goType(a) != goType(b)) return false;
  if (a.is_object() || a.is_array()) return false;  // not comparable
  return a == b;
}

bool hasDirective(const json& v) {
  return v.is_object() && v.contains(kDirective);
}

// removeDirectives: drops maps carrying $patch (and list items that are such maps).
std::optional<json> removeDirectives(json v) {
  if (v.is_object()) {
    if (v.contains(kDirective)) return std::nullopt;
    for (auto it = v.begin(); it != v.end();) {
      auto kept = removeDirectives(std::move(*it));
      if (kept) {
        *it = std::move(*kept);
        ++it;
      } else {
        it = v.erase(it);
      }
    }
  } else if (v.is_array()) {
    json out = json::array();
    for (json& item : v)
      if (auto kept = removeDirectives(std::move(item))) out.push_back(std::move(*kept));
    return out;
  }
  return v;
}

Error noMergeKey(const json& m, std::string_view key) {
  return internal(
      fmt::format("map: {} does not contain declared merge key: {}", goValueString(m), key));
}

// The merge key value of a list item (the item itself for primitives).
const json* keyOf(const json& item, std::string_view mergeKey) {
  if (mergeKey.empty()) return &item;
  if (!item.is_object()) return nullptr;
  auto it = item.find(mergeKey);
  return it == item.end() ? nullptr : &*it;
}

int indexIn(const json& list, const json& item, std::string_view mergeKey) {
  const json* want = keyOf(item, mergeKey);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json* have = keyOf(list[i], mergeKey);
    if (want == nullptr && have == nullptr) return static_cast<int>(i);
    if (want != nullptr && have != nullptr && goEqual(*want, *have)) return static_cast<int>(i);
  }
  return -1;
}

// sliceElementType: every item of the lists has one Go type, and it is not a list.
Result<int> elementType(std::initializer_list<const json*> lists) {
  int type = -1;
  for (const json* l : lists) {
    if (l == nullptr) continue;
    for (const json& v : *l) {
      int t = goType(v);
      if (type == -1) {
        if (t == 2)
          return std::unexpected(
              Error(Code::kFailedPrecondition, "lists of lists are not supported"));
        type = t;
      } else if (t != type) {
        std::string all;
        for (const json* s : lists)
          all += (all.empty() ? "" : " ") + goValueString(s ? *s : json::array());
        return std::unexpected(
            internal(fmt::format("list element types are not identical: [{}]", all)));
      }
    }
  }
  if (type == -1) return std::unexpected(internal("no elements in any of the given slices"));
  return type;
}

// sort.SliceStable with strategicpatch's comparator (items found in `order` by their index,
// others "less"); an insertion sort, which is what Go's stable sort does for up to 20 items.
void sortByOrder(std::vector<json>& items, const json& order, std::string_view mergeKey) {
  auto less = [&](const json& a, const json& b) {
    int ia = indexIn(order, a, mergeKey);
    if (ia >= 0) {
      int ib = indexIn(order, b, mergeKey);
      if (ib >= 0) return ia < ib;
    }
    return true;
  };
  if (items.size() > 20) {
    std::stable_sort(items.begin(), items.end(), [&](const json& a, const json& b) {
      int ia = indexIn(order, a, mergeKey), ib = indexIn(order, b, mergeKey);
      return ia >= 0 && ib >= 0 && ia < ib;
    });
    return;
  }
  for (std::size_t i = 1; i < items.size(); ++i)
    for (std::size_t j = i; j > 0 && less(items[j], items[j - 1]); --j)
      std::swap(items[j], items[j - 1]);
}

Result<std::vector<json>> normalizeSliceOrder(std::vector<json> items, const json& order,
                                              std::string_view mergeKey, bool maps) {
  std::vector<json> toDelete;
  if (maps) {
    for (const json& v : items)
      if (!v.is_object() || !v.contains(mergeKey)) return std::unexpected(noMergeKey(v, mergeKey));
    for (const json& v : order)
      if (!v.is_object() || !v.contains(mergeKey)) return std::unexpected(noMergeKey(v, mergeKey));
    std::vector<json> keep;
    for (json& v : items)
      (v.value(std::string(kDirective), json()) == "delete" ? toDelete : keep)
          .push_back(std::move(v));
    items = std::move(keep);
  }
  sortByOrder(items, order, mergeKey);
  for (json& v : toDelete)
    items.push_back(std::move(v));
  return items;
}

// normalizeElementOrder + mergeSortedSlice: patch items in the patch's order, server-only items
// in the live order, interleaved by where they stood in the live list.
Result<json> normalizeElementOrder(std::vector<json> patchItems, std::vector<json> serverOnly,
                                   const json& patchOrder, const json& serverOrder,
                                   std::string_view mergeKey, bool maps) {
  std::vector<json> right =
      BERTH_TRY(normalizeSliceOrder(std::move(patchItems), patchOrder, mergeKey, maps));
  std::vector<json> left =
      BERTH_TRY(normalizeSliceOrder(std::move(serverOnly), serverOrder, mergeKey, maps));
  json out = json::array();
  std::size_t i = 0, j = 0;
  while (i < left.size() || j < right.size()) {
    if (i >= left.size()) {
      out.push_back(std::move(right[j++]));
    } else if (j >= right.size()) {
      out.push_back(std::move(left[i++]));
    } else {
      int li = indexIn(serverOrder, left[i], mergeKey),
          ri = indexIn(serverOrder, right[j], mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) {
        out.push_back(std::move(left[i++]));
      } else {
        out.push_back(std::move(right[j++]));
      }
    }
  }
  return out;
}

// Items of `merged` whose key is (or is not) in `by`.
Result<std::pair<std::vector<json>, std::vector<json>>> partition(const json& merged,
                                                                  const json& by,
                                                                  std::string_view mergeKey) {
  std::pair<std::vector<json>, std::vector<json>> out;
  for (const json& v : merged) {
    if (!mergeKey.empty()) {
      if (!v.is_object()) return std::unexpected(internal("expected a map"));
      if (!v.contains(mergeKey)) return std::unexpected(noMergeKey(v, mergeKey));
      for (std::size_t i = 0; i < by.size(); ++i)
        if (!by[i].is_object())
          return std::unexpected(internal(fmt::format("value for key {} is not a map", i)));
    }
    (indexIn(by, v, mergeKey) >= 0 ? out.first : out.second).push_back(v);
  }
  return out;
}

Result<json> mergeMap(json original, json patch, const TypeRef& schema);

Result<json> mergeSlice(json original, json patch, const TypeRef& elemSchema,
                        std::string_view mergeKey, bool isDeleteList) {
  if (original.empty() && patch.empty()) return original;
  int type = BERTH_TRY(elementType({&original, &patch}));
  bool maps = type == 1;
  json merged;
  if (!maps) {
    if (isDeleteList) {
      json out = json::array();
      for (json& v : original)
        if (indexIn(patch, v, "") < 0) out.push_back(std::move(v));
      return out;
    }
    // Concatenate and deduplicate the way deduplicateScalars does (a duplicate is replaced by
    // the last item); the order is then set below.
    std::vector<json> both(original.begin(), original.end());
    both.insert(both.end(), patch.begin(), patch.end());
    std::size_t length = both.size();
    for (std::size_t i = 0; i + 1 < length; ++i)
      for (std::size_t j = i + 1; j < length; ++j)
        if (goEqual(both[i], both[j])) {
          both[j] = both[length - 1];
          --length;
          --j;
        }
    both.resize(length);
    merged = json(both);
  } else {
    if (mergeKey.empty())
      return std::unexpected(internal(
          fmt::format("cannot merge lists without merge key for {}", goKindName(elemSchema))));
    // mergeSliceWithSpecialElements: $patch items delete entries or replace the list.
    json plain = json::array();
    bool replace = false;
    for (const json& v : patch) {
      if (!v.contains(kDirective)) {
        plain.push_back(v);
        continue;
      }
      const json& directive = v[std::string(kDirective)];
      if (directive == "delete") {
        if (!v.contains(mergeKey)) return std::unexpected(noMergeKey(v, mergeKey));
        for (std::size_t k = original.size(); k-- > 0;)
          if (indexIn(json::array({v}), original[k], mergeKey) >= 0)
            original.erase(original.begin() + static_cast<std::ptrdiff_t>(k));
      } else if (directive == "replace") {
        replace = true;
      } else if (directive == "merge") {
        return std::unexpected(internal("merging lists cannot yet be specified in the patch"));
      } else {
        return std::unexpected(internal(fmt::format("unknown patch type: {} in map: {}",
                                                    goValueString(directive), goValueString(v))));
      }
    }
    if (replace) {
      original = std::move(plain);
      patch = json::array();
    } else {
      patch = std::move(plain);
    }
    // mergeSliceWithoutSpecialElements: merge items by key, append new ones (the live order
    // below is the list before the appends).
    merged = original;
    for (const json& v : patch) {
      if (!v.contains(mergeKey)) return std::unexpected(noMergeKey(v, mergeKey));
      int at = -1;
      for (std::size_t k = 0; k < merged.size(); ++k) {
        if (!merged[k].is_object())
          return std::unexpected(internal(fmt::format("value for key {} is not a map", k)));
        if (merged[k].contains(mergeKey) &&
            goEqual(merged[k][std::string(mergeKey)], v[std::string(mergeKey)])) {
          at = static_cast<int>(k);
          break;
        }
      }
      if (at >= 0) {
        merged[at] = BERTH_TRY(mergeMap(std::move(merged[at]), v, elemSchema));
      } else {
        merged.push_back(v);
      }
    }
  }
  auto [patchItems, serverOnly] = BERTH_TRY(partition(merged, patch, maps ? mergeKey : ""));
  return normalizeElementOrder(std::move(patchItems), std::move(serverOnly), patch, original,
                               maps ? mergeKey : "", maps);
}

Status applyRetainKeys(json& original, json& patch) {
  auto it = patch.find(kRetainKeys);
  if (it == patch.end()) return {};
  json keys = std::move(*it);
  patch.erase(it);
  if (!keys.is_array()) return std::unexpected(kBadRetainKeys);
  auto listed = [&](const std::string& k) {
    return std::ranges::any_of(keys, [&](const json& x) { return x.is_string() && x == k; });
  };
  for (const auto& [k, v] : patch.items()) {
    if (v.is_null() || k.starts_with(kDeletePrefix) || k.starts_with(kOrderPrefix)) continue;
    if (!listed(k)) return std::unexpected(kBadRetainKeys);
  }
  for (auto o = original.begin(); o != original.end();)
    o = listed(o.key()) ? std::next(o) : original.erase(o);
  return {};
}

// "$setElementOrder/<list>": merges that list with its patch and orders it as listed.
Status applySetElementOrder(json& original, json& patch, const TypeRef& schema) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : patch.items())
    if (k.starts_with(kOrderPrefix)) keys.push_back(k);
  for (const std::string& key : keys) {
    json order = std::move(patch[key]);
    patch.erase(key);
    if (!order.is_array()) return std::unexpected(internal("expected a slice"));
    if (key.size() <= kOrderPrefix.size() || key[kOrderPrefix.size()] != '/')
      return std::unexpected(kBadSetOrder);
    std::string listKey = key.substr(kOrderPrefix.size() + 1);
    bool inOriginal = original.contains(listKey), inPatch = patch.contains(listKey);
    json originalList = inOriginal ? original[listKey] : json::array();
    json patchList = inPatch ? patch[listKey] : json::array();
    if (!originalList.is_array() || !patchList.is_array())
      return std::unexpected(internal("expected a slice"));
    Meta meta = BERTH_TRY(lookupSlice(schema, listKey));
    // validatePatchWithSetOrderList: the patch's items appear in the order list, in its order.
    if (!order.empty() && !patchList.empty()) {
      std::vector<json> nonDelete;
      for (const json& v : patchList) {
        if (!meta.mergeKey.empty() && !v.is_object())
          return std::unexpected(internal("expected a map"));
        if (meta.mergeKey.empty() || v.value(std::string(kDirective), json()) != "delete")
          nonDelete.push_back(v);
      }
      std::size_t p = 0, s = 0;
      while (p < nonDelete.size() && s < order.size()) {
        if (hasDirective(nonDelete[p])) {
          ++p;
          continue;
        }
        const json* a = keyOf(nonDelete[p], meta.mergeKey);
        const json* b = keyOf(order[s], meta.mergeKey);
        if (a == nullptr) return std::unexpected(noMergeKey(nonDelete[p], meta.mergeKey));
        if (b == nullptr) return std::unexpected(noMergeKey(order[s], meta.mergeKey));
        if (goEqual(*a, *b)) ++p;
        ++s;
      }
      if (p < nonDelete.size() && s >= order.size())
        return std::unexpected(
            internal(fmt::format("The order in patch list:\n{}\n doesn't match {} list:\n{}\n",
                                 goValueString(patchList), kOrderPrefix, goValueString(order))));
    }
    json merged;
    if (inOriginal && !inPatch) {
      merged = originalList;
    } else if (!inOriginal && inPatch) {
      merged = removeDirectives(patchList).value_or(json::array());
    } else if (inOriginal && inPatch) {
      if (meta.strategy == "merge") {
        merged = BERTH_TRY(mergeSlice(originalList, patchList, *meta.schema, meta.mergeKey, false));
      } else {
        merged = patchList;
      }
    } else {
      continue;
    }
    auto [patchItems, serverOnly] = BERTH_TRY(partition(merged, order, meta.mergeKey));
    int type = BERTH_TRY(elementType({&originalList, &patchList}));
    original[listKey] =
        BERTH_TRY(normalizeElementOrder(std::move(patchItems), std::move(serverOnly), order,
                                        originalList, meta.mergeKey, type == 1));
    patch.erase(listKey);
  }
  return {};
}

Result<json> mergeMap(json original, json patch, const TypeRef& schema) {
  if (auto d = patch.find(kDirective); d != patch.end()) {
    if (*d == "replace") {
      patch.erase(d);
      return patch;
    }
    if (*d == "delete") return json::object();
    return std::unexpected(internal(
        fmt::format("unknown patch type: {} in map: {}", goValueString(*d), goValueString(patch))));
  }
  if (original.is_null()) original = json::object();
  BERTH_TRY(applyRetainKeys(original, patch));
  BERTH_TRY(applySetElementOrder(original, patch, schema));
  for (auto& [patchKey, patchV] : patch.items()) {
    std::string k = patchKey;
    bool isDeleteList = false;
    if (k.starts_with(kDeletePrefix)) {
      if (k.size() <= kDeletePrefix.size() || k[kDeletePrefix.size()] != '/')
        return std::unexpected(kBadPrimitiveList);
      k = k.substr(kDeletePrefix.size() + 1);
      isDeleteList = true;
    }
    if (patchV.is_null()) {
      original.erase(k);
      continue;  // unmatched nulls are ignored
    }
    auto cur = original.find(k);
    if (cur == original.end() || goType(*cur) != goType(patchV)) {
      if (isDeleteList) continue;
      json v = patchV;
      pruneNullMembers(v);
      if (auto kept = removeDirectives(std::move(v))) {
        original[k] = std::move(*kept);
      } else {
        original.erase(k);
      }
      continue;
    }
    if (cur->is_object()) {
      Meta meta = BERTH_TRY(lookupStruct(schema, k));
      *cur = meta.strategy == "replace"
                 ? patchV
                 : BERTH_TRY(mergeMap(std::move(*cur), patchV, *meta.schema));
    } else if (cur->is_array()) {
      Meta meta = BERTH_TRY(lookupSlice(schema, k));
      if (meta.strategy == "merge" || isDeleteList) {
        *cur = BERTH_TRY(
            mergeSlice(std::move(*cur), patchV, *meta.schema, meta.mergeKey, isDeleteList));
      } else {
        *cur = patchV;
      }
    } else {
      *cur = patchV;
    }
  }
  return original;
}

}  // namespace

Result<json> applyStrategicMergePatch(json original, json patch, const TypeDef& type) {
  if (!original.is_object()) return std::unexpected(badRequest("invalid JSON document"));
  if (!patch.is_object()) return std::unexpected(badRequest("invalid JSON document"));
  return mergeMap(std::move(original), std::move(patch), TypeRef{ValueKind::kNamed, &type});
}

Result<json> applyStrategicMergePatch(const json& original, std::string_view patch,
                                      const TypeDef& type) {
  json p = json::parse(patch, nullptr, false);
  if (p.is_discarded() || !p.is_object())
    return std::unexpected(badRequest("invalid JSON document"));
  return applyStrategicMergePatch(original, std::move(p), type);
}

}  // namespace berth::controlplane::schema
