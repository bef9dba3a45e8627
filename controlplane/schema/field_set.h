#pragma once
// A set of field paths as server-side apply tracks ownership (sigs.k8s.io/structured-merge-diff
// fieldpath.Set), and its FieldsV1 encoding in metadata.managedFields:
//   {"f:spec":{"f:replicas":{}},"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{}}}}
// A path is a list of elements, each kept in its FieldsV1 spelling: "f:<field>" (a struct field
// or map key), "k:<json object>" (an item of a list keyed by its listMapKeys), "v:<json value>"
// (an item of a set list), "i:<index>". "." marks a path that is a member and has children too.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::controlplane::schema {

using FieldPath = std::vector<std::string>;

class FieldSet {
 public:
  // Reads a fieldsV1 object; an error names what is malformed.
  [[nodiscard]] static Result<FieldSet> fromFieldsV1(const nlohmann::json& fields);
  nlohmann::json toFieldsV1() const;

  bool empty() const { return children_.empty(); }
  void insert(const FieldPath& path);
  bool has(const FieldPath& path) const;
  // The subset below one element (as if that element were the root); null when there is none.
  const FieldSet* child(const std::string& element) const;
  // Whether the element itself is a member of this (sub)set.
  bool hasMember(const std::string& element) const;

  // Set algebra on members (a member's children are separate members, as upstream).
  FieldSet unite(const FieldSet& other) const;
  FieldSet minus(const FieldSet& other) const;
  FieldSet intersect(const FieldSet& other) const;
  // Everything but the members at or below `prefix` (upstream's RecursiveDifference of one path).
  FieldSet withoutSubtree(const FieldPath& prefix) const;
  // Only the members at or below `prefix`.
  FieldSet onlySubtree(const FieldPath& prefix) const;

  // Members in order, parents before their children.
  void forEach(const std::function<void(const FieldPath&)>& visit) const;

  bool operator==(const FieldSet&) const = default;

 private:
  bool member_ = false;  // meaningful below the root only
  std::map<std::string, FieldSet> children_;

  void prune();
  void walk(FieldPath& prefix, const std::function<void(const FieldPath&)>& visit) const;
};

// A path as upstream prints it in conflicts: .spec.containers[name="web"].ports[containerPort=80,
// protocol="TCP"], .metadata.finalizers[="x"], .items[0].
std::string fieldPathString(const FieldPath& path);

}  // namespace berth::controlplane::schema
