#include "controlplane/schema/managed_fields.h"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "common/yaml_reader.h"
#include "controlplane/schema/typed_fields.h"
#include "kubeapi/meta_time.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

constexpr std::string_view kApply = "Apply";
constexpr std::string_view kUpdate = "Update";

// What no manager owns (upstream's stripMeta): the type and the metadata the server sets.
const FieldSet& strippedFields() {
  static const FieldSet set = [] {
    FieldSet s;
    s.insert({"f:apiVersion"});
    s.insert({"f:kind"});
    s.insert({"f:metadata"});
    for (const char* f : {"name", "namespace", "creationTimestamp", "selfLink", "uid",
                          "clusterName", "generation", "managedFields", "resourceVersion"})
      s.insert({"f:metadata", std::string("f:") + f});
    return s;
  }();
  return set;
}

// The fields a write to this (sub)resource may own.
FieldSet ownable(const FieldSet& set, const FieldManagerRequest& request) {
  if (request.subresource == "status") return set.onlySubtree({"f:status"});
  if (request.hasStatusSubresource) return set.withoutSubtree({"f:status"});
  return set;
}

json withoutManagedFields(const json& object) {
  if (!object.is_object()) return json::object();
  json out = object;
  if (auto meta = out.find("metadata"); meta != out.end() && meta->is_object())
    meta->erase("managedFields");
  return out;
}

bool hasManagedFields(const json& object) {
  auto meta = object.find("metadata");
  return meta != object.end() && meta->is_object() && meta->contains("managedFields") &&
         !(*meta)["managedFields"].is_null() && !(*meta)["managedFields"].empty();
}

// Entries are one manager's when these match (upstream's BuildManagerIdentifier: an applier's
// entry is the same whatever version it applied in).
bool sameManager(const ManagedFieldsEntry& e, std::string_view manager, std::string_view operation,
                 const FieldManagerRequest& request) {
  return e.manager == manager && e.operation == operation && e.subresource == request.subresource &&
         (operation == kApply || e.apiVersion == request.apiVersion);
}

ManagedFieldsEntry& entryFor(std::vector<ManagedFieldsEntry>& entries, std::string_view operation,
                             const FieldManagerRequest& request) {
  for (ManagedFieldsEntry& e : entries)
    if (sameManager(e, request.manager, operation, request)) return e;
  entries.push_back(
      {request.manager, std::string(operation), request.apiVersion, "", request.subresource, {}});
  return entries.back();
}

void dropEmpty(std::vector<ManagedFieldsEntry>& entries) {
  std::erase_if(entries, [](ManagedFieldsEntry& e) {
    e.fields = e.fields.minus(strippedFields());
    return e.fields.empty();
  });
}

// printManager: "name" [with subresource "s"] [using apiVersion] (Update entries).
std::string printManager(const ManagedFieldsEntry& e) {
  std::string out = json(e.manager).dump();
  if (!e.subresource.empty())
    out += fmt::format(" with subresource {}", json(e.subresource).dump());
  if (e.operation == kUpdate) out += " using " + e.apiVersion;
  return out;
}

std::string conflictMessage(const std::vector<ApplyConflict>& conflicts) {
  if (conflicts.size() == 1) {
    return fmt::format("Apply failed with 1 conflict: conflict with {}: {}", conflicts[0].manager,
                       conflicts[0].field);
  }
  std::string lines;
  for (std::size_t i = 0; i < conflicts.size(); ++i) {
    if (i == 0 || conflicts[i].manager != conflicts[i - 1].manager)
      lines += (i == 0 ? "" : "\n") + fmt::format("conflicts with {}:", conflicts[i].manager);
    lines += "\n- " + conflicts[i].field;
  }
  return fmt::format("Apply failed with {} conflicts: {}", conflicts.size(), lines);
}

// A YAML scalar as sigs.k8s.io/yaml reads it into JSON: quoted scalars are strings, plain ones
// resolve to null, booleans and numbers first.
json scalarToJson(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  json number = json::parse(s, nullptr, false);
  if (number.is_number()) return number;
  return s;
}

json yamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const YAML::Node& item : node)
        out.push_back(yamlToJson(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node)
        out[kv.first.Scalar()] = yamlToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Scalar:
      return scalarToJson(node);
    default:
      return nullptr;
  }
}

std::int64_t unixSeconds(const std::string& time) {
  if (time.empty()) return 0;
  auto t = kubeapi::parseTime(time);
  if (!t) return 0;
  return std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
}

}  // namespace

Result<std::vector<ManagedFieldsEntry>> decodeManagedFields(const json& object) {
  std::vector<ManagedFieldsEntry> out;
  if (!hasManagedFields(object)) return out;
  const json& list = object["metadata"]["managedFields"];
  if (!list.is_array())
    return std::unexpected(Error(Code::kInvalidArgument, "managedFields: expected a list"));
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& e = list[i];
    auto fail = [i](std::string why) {
      return std::unexpected(
          Error(Code::kInvalidArgument, fmt::format("managedFields[{}]: {}", i, why)));
    };
    if (!e.is_object()) return fail("expected an object");
    ManagedFieldsEntry entry;
    entry.manager = e.value("manager", "");
    entry.operation = e.value("operation", "");
    entry.apiVersion = e.value("apiVersion", "");
    entry.subresource = e.value("subresource", "");
    if (e.contains("time") && e["time"].is_string()) entry.time = e["time"].get<std::string>();
    std::string type = e.value("fieldsType", "");
    if (!type.empty() && type != "FieldsV1")
      return fail(fmt::format("unsupported fieldsType {}", json(type).dump()));
    if (e.contains("fieldsV1")) {
      auto fields = FieldSet::fromFieldsV1(e["fieldsV1"]);
      if (!fields) return fail(fields.error().message());
      entry.fields = std::move(*fields);
    }
    out.push_back(std::move(entry));
  }
  return out;
}

void encodeManagedFields(json& object, std::vector<ManagedFieldsEntry> entries) {
  json& meta = object["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (entries.empty()) {
    meta.erase("managedFields");
    return;
  }
  std::ranges::sort(entries, [](const ManagedFieldsEntry& a, const ManagedFieldsEntry& b) {
    return std::tuple(a.operation, unixSeconds(a.time), a.manager, a.apiVersion, a.subresource) <
           std::tuple(b.operation, unixSeconds(b.time), b.manager, b.apiVersion, b.subresource);
  });
  json list = json::array();
  for (const ManagedFieldsEntry& e : entries) {
    json j = {{"manager", e.manager}, {"operation", e.operation}, {"apiVersion", e.apiVersion}};
    if (!e.time.empty()) j["time"] = e.time;
    j["fieldsType"] = "FieldsV1";
    j["fieldsV1"] = e.fields.toFieldsV1();
    if (!e.subresource.empty()) j["subresource"] = e.subresource;
    list.push_back(std::move(j));
  }
  meta["managedFields"] = std::move(list);
}

Result<json> recordUpdate(const json& live, json object, const TypeDef& type,
                          const FieldManagerRequest& request) {
  Result<std::vector<ManagedFieldsEntry>> sent = std::vector<ManagedFieldsEntry>{};
  if (request.subresource.empty() && hasManagedFields(object)) sent = decodeManagedFields(object);
  std::vector<ManagedFieldsEntry> entries;
  if (sent && !sent->empty()) {
    entries = std::move(*sent);
  } else {
    entries = BERTH_TRY_CTX(decodeManagedFields(live), "failed to decode managed fields");
  }
  json before = live.is_null() ? zeroObject(type) : withoutManagedFields(live);
  Comparison diff = BERTH_TRY(compareObjects(before, withoutManagedFields(object), type));
  FieldSet changed = ownable(diff.added.unite(diff.modified), request);
  FieldSet removed = ownable(diff.removed, request);
  for (ManagedFieldsEntry& e : entries)
    e.fields = e.fields.minus(changed).minus(removed);
  if (!changed.minus(strippedFields()).empty()) {
    ManagedFieldsEntry& mine = entryFor(entries, kUpdate, request);
    mine.fields = mine.fields.unite(changed);
    mine.time = request.time;
  }
  dropEmpty(entries);
  encodeManagedFields(object, std::move(entries));
  return object;
}

Result<ApplyOutcome> applyConfiguration(const json& live, const json& config, const TypeDef& type,
                                        const FieldManagerRequest& request, bool force) {
  std::vector<ManagedFieldsEntry> entries =
      BERTH_TRY_CTX(decodeManagedFields(live), "failed to decode managed fields");
  FieldSet applied = ownable(BERTH_TRY(fieldSetOf(config, type)), request);
  json before = withoutManagedFields(live);
  json merged = BERTH_TRY(mergeObjects(before, config, type));

  FieldSet last;
  {
    ManagedFieldsEntry& mine = entryFor(entries, kApply, request);
    last = std::move(mine.fields);
    mine.fields = applied;
    mine.apiVersion = request.apiVersion;
  }
  // What this manager applied before and applies no more goes, unless someone else owns it.
  if (!last.empty()) {
    FieldSet owned;
    for (const ManagedFieldsEntry& e : entries)
      owned = owned.unite(e.fields);
    merged = removeFields(std::move(merged), last.minus(owned), type);
  }

  Comparison diff = BERTH_TRY(compareObjects(before, merged, type));
  FieldSet changed = ownable(diff.added.unite(diff.modified), request);
  FieldSet removed = ownable(diff.removed, request);
  ApplyOutcome out;
  std::vector<std::pair<const ManagedFieldsEntry*, FieldSet>> conflicts;
  for (const ManagedFieldsEntry& e : entries) {
    if (sameManager(e, request.manager, kApply, request)) continue;
    FieldSet taken = e.fields.intersect(changed).minus(strippedFields());
    if (!taken.empty()) conflicts.emplace_back(&e, std::move(taken));
  }
  if (!conflicts.empty() && !force) {
    std::ranges::sort(conflicts, [](const auto& a, const auto& b) {
      return std::tie(a.first->manager, a.first->operation, a.first->subresource) <
             std::tie(b.first->manager, b.first->operation, b.first->subresource);
    });
    for (const auto& [e, fields] : conflicts) {
      fields.forEach([&](const FieldPath& p) {
        out.conflicts.push_back({printManager(*e), fieldPathString(p)});
      });
    }
    out.conflictMessage = conflictMessage(out.conflicts);
    return out;
  }
  for (ManagedFieldsEntry& e : entries) {
    if (sameManager(e, request.manager, kApply, request)) {
      if (e.time.empty() || merged != before) e.time = request.time;
      continue;
    }
    e.fields = e.fields.minus(changed).minus(removed);
  }
  dropEmpty(entries);
  encodeManagedFields(merged, std::move(entries));
  out.object = std::move(merged);
  return out;
}

Result<json> parseApplyConfiguration(std::string_view body) {
  json object = json::parse(body, nullptr, false);
  if (object.is_discarded()) {
    auto node = yaml::parse(body);
    if (!node) return std::unexpected(Error(Code::kInvalidArgument, node.error().message()));
    object = yamlToJson(*node);
  }
  if (!object.is_object())
    return std::unexpected(Error(Code::kInvalidArgument, "the apply configuration is not a map"));
  return object;
}

std::string managerFromUserAgent(std::string_view userAgent) {
  std::string_view program = userAgent.substr(0, userAgent.find('/'));
  std::string out;
  for (char c : program) {
    if (out.size() >= 128) break;
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
  }
  return out;
}

}  // namespace berth::controlplane::schema
