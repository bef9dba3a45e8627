#include "controlplane/schema/table.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "controlplane/schema/table_cells.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

// A JSON path column: ".status.podIP" -> the value, or the zero value of the column's type.
json pathCell(const json& object, std::string_view path, std::string_view columnType) {
  const json* cur = &object;
  while (!path.empty()) {
    if (path.front() == '.') path.remove_prefix(1);
    std::size_t dot = path.find('.');
    std::string key(path.substr(0, dot));
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot);
    if (!cur->is_object() || !cur->contains(key)) {
      cur = nullptr;
      break;
    }
    cur = &(*cur)[key];
  }
  if (cur != nullptr && !cur->is_null()) return *cur;
  if (columnType == "integer") return 0;
  if (columnType == "boolean") return false;
  return "";
}

json nameCell(const json& o, const CellContext&) {
  return str(o, {"metadata", "name"});
}
json ageCell(const json& o, const CellContext& c) {
  return since(at(o, {"metadata", "creationTimestamp"}), c);
}

const std::vector<PrinterColumn>& defaultColumns() {
  static const std::vector<PrinterColumn> columns = {
      {"Name", "string", "name", 0, "Name of the object", "", "name"},
      {"Created At", "date", "", 0, "When the object was created", "", "createdAt"},
  };
  return columns;
}

json createdAtCell(const json& o, const CellContext&) {
  // metav1's default table: the creation time in RFC 3339, UTC; Go's zero time when unset.
  auto t = parseTime(str(o, {"metadata", "creationTimestamp"}));
  return t ? formatTime(*t) : std::string("0001-01-01T00:00:00Z");
}

json rowConditions(const json& object, const TypeDef& type) {
  if (type.name != "io.k8s.api.core.v1.Pod") return nullptr;
  std::string phase = str(object, {"status", "phase"});
  if (phase == "Succeeded")
    return json::array({{{"type", "Completed"},
                         {"status", "True"},
                         {"reason", "Succeeded"},
                         {"message", "The pod has completed successfully."}}});
  if (phase == "Failed")
    return json::array({{{"type", "Completed"},
                         {"status", "True"},
                         {"reason", "Failed"},
                         {"message", "The pod failed."}}});
  return nullptr;
}

json rowObject(const json& object, IncludeObject include) {
  switch (include) {
    case IncludeObject::kNone:
      return nullptr;
    case IncludeObject::kObject:
      return object;
    case IncludeObject::kMetadata:
      return {{"kind", "PartialObjectMetadata"},
              {"apiVersion", "meta.k8s.io/v1"},
              {"metadata", object.value("metadata", json::object())}};
  }
  return nullptr;
}

}  // namespace

CellFunction findCell(std::string_view name) {
  static const std::map<std::string_view, CellFunction> cells = [] {
    std::map<std::string_view, CellFunction> m = {
        {"name", nameCell}, {"age", ageCell}, {"createdAt", createdAtCell}};
    for (auto list : {coreCells(), workloadCells()})
      for (const NamedCell& c : list)
        m.emplace(c.name, c.fn);
    return m;
  }();
  auto it = cells.find(name);
  return it == cells.end() ? nullptr : it->second;
}

Result<IncludeObject> parseIncludeObject(std::string_view value) {
  if (value.empty() || value == "Metadata") return IncludeObject::kMetadata;
  if (value == "Object") return IncludeObject::kObject;
  if (value == "None") return IncludeObject::kNone;
  return fail(Code::kInvalidArgument,
              "includeObject: Unsupported value: \"{}\": supported values: \"Metadata\", "
              "\"None\", \"Object\"",
              value);
}

json toTable(const json& objectOrList, const TypeDef& type, const TableOptions& options) {
  const std::vector<PrinterColumn>& columns =
      type.columns.empty() ? defaultColumns() : type.columns;
  CellContext ctx{options.now};
  json table = {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}};
  json meta = json::object();
  bool isList = objectOrList.contains("items") && objectOrList["items"].is_array();
  const json& sourceMeta = objectOrList.value("metadata", json::object());
  if (sourceMeta.contains("resourceVersion"))
    meta["resourceVersion"] = sourceMeta["resourceVersion"];
  if (isList) {
    for (const char* k : {"continue", "remainingItemCount"})
      if (sourceMeta.contains(k)) meta[k] = sourceMeta[k];
  }
  table["metadata"] = std::move(meta);
  if (options.noHeaders) {
    table["columnDefinitions"] = nullptr;
  } else {
    json defs = json::array();
    for (const PrinterColumn& c : columns)
      defs.push_back({{"name", c.name},
                      {"type", c.type},
                      {"format", c.format},
                      {"description", c.description},
                      {"priority", c.priority}});
    table["columnDefinitions"] = std::move(defs);
  }
  json rows = json::array();
  auto addRow = [&](const json& object) {
    json cells = json::array();
    for (const PrinterColumn& c : columns) {
      if (!c.cell.empty()) {
        CellFunction fn = findCell(c.cell);
        cells.push_back(fn != nullptr ? fn(object, ctx) : json(""));
      } else {
        cells.push_back(pathCell(object, c.jsonPath, c.type));
      }
    }
    json row = {{"cells", std::move(cells)}, {"object", rowObject(object, options.includeObject)}};
    if (json conditions = rowConditions(object, type); !conditions.is_null())
      row["conditions"] = std::move(conditions);
    rows.push_back(std::move(row));
  };
  if (isList) {
    for (const json& item : objectOrList["items"])
      addRow(item);
  } else {
    addRow(objectOrList);
  }
  table["rows"] = std::move(rows);
  return table;
}

// --- helpers shared by the cell functions ---

const json& at(const json& object, std::initializer_list<std::string_view> path) {
  static const json kNull;
  const json* cur = &object;
  for (std::string_view key : path) {
    if (!cur->is_object()) return kNull;
    auto it = cur->find(key);
    if (it == cur->end()) return kNull;
    cur = &*it;
  }
  return *cur;
}

std::string str(const json& object, std::initializer_list<std::string_view> path) {
  const json& v = at(object, path);
  return v.is_string() ? v.get<std::string>() : std::string();
}

std::int64_t integer(const json& object, std::initializer_list<std::string_view> path) {
  const json& v = at(object, path);
  return v.is_number() ? v.get<std::int64_t>() : 0;
}

std::string since(const json& time, const CellContext& ctx) {
  auto t = time.is_string() ? parseTime(time.get<std::string>()) : std::nullopt;
  if (!t) return "<unknown>";
  return humanDuration(ctx.now - *t);
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  return fmt::format("{}", fmt::join(items, sep));
}

std::string formatLabels(const json& labels) {
  std::vector<std::string> parts;
  if (labels.is_object())
    for (const auto& [k, v] : labels.items())  // sorted keys, as FormatLabels sorts them
      parts.push_back(fmt::format("{}={}", k, v.is_string() ? v.get<std::string>() : v.dump()));
  return parts.empty() ? "<none>" : join(parts, ",");
}

std::optional<std::string> selectorString(const json& selector) {
  if (!selector.is_object()) return std::string();  // labels.Nothing()
  // (key, rendered requirement) in key order; labels.Selector sorts its requirements by key.
  std::vector<std::pair<std::string, std::string>> reqs;
  json matchLabels = selector.value("matchLabels", json::object());
  for (const auto& [k, v] : matchLabels.items())
    reqs.emplace_back(k, fmt::format("{}={}", k, v.is_string() ? v.get<std::string>() : v.dump()));
  json expressions = selector.value("matchExpressions", json::array());
  for (const json& e : expressions) {
    std::string key = str(e, {"key"}), op = str(e, {"operator"});
    std::vector<std::string> values;
    json given = e.value("values", json::array());
    for (const json& v : given)
      if (v.is_string()) values.push_back(v.get<std::string>());
    std::ranges::sort(values);
    if (op == "In" || op == "NotIn") {
      if (values.empty()) return std::nullopt;
      reqs.emplace_back(
          key, fmt::format("{} {} ({})", key, op == "In" ? "in" : "notin", join(values, ",")));
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (!values.empty()) return std::nullopt;
      reqs.emplace_back(key, op == "Exists" ? key : "!" + key);
    } else {
      return std::nullopt;
    }
  }
  std::ranges::stable_sort(reqs, {}, &std::pair<std::string, std::string>::first);
  std::vector<std::string> parts;
  for (auto& [k, r] : reqs)
    parts.push_back(std::move(r));
  return join(parts, ",");
}

namespace {
std::string containerField(const json& podSpec, const char* field) {
  std::vector<std::string> out;
  json containers =
      podSpec.is_object() ? podSpec.value("containers", json::array()) : json::array();
  for (const json& c : containers)
    out.push_back(str(c, {field}));
  return join(out, ",");
}
}  // namespace

std::string containerNames(const json& podSpec) {
  return containerField(podSpec, "name");
}
std::string containerImages(const json& podSpec) {
  return containerField(podSpec, "image");
}

}  // namespace berth::controlplane::schema
