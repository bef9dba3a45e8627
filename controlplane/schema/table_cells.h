#pragma once
// The named cell functions of Table columns (`cell=` in types/printers.k8s), each the logic of
// one upstream printer column, and the helpers they share. Internal to table.cpp.
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "controlplane/schema/go_values.h"

namespace berth::controlplane::schema {

struct CellContext {
  TimePoint now;
};

using CellFunction = nlohmann::json (*)(const nlohmann::json& object, const CellContext& ctx);

struct NamedCell {
  std::string_view name;
  CellFunction fn;
};

// nullptr when no such cell exists.
CellFunction findCell(std::string_view name);

std::span<const NamedCell> coreCells();      // table_cells_core.cpp
std::span<const NamedCell> workloadCells();  // table_cells_workloads.cpp

// Shared helpers.
// The value at a path of member names, or null.
const nlohmann::json& at(const nlohmann::json& object,
                         std::initializer_list<std::string_view> path);
std::string str(const nlohmann::json& object, std::initializer_list<std::string_view> path);
std::int64_t integer(const nlohmann::json& object, std::initializer_list<std::string_view> path);
// translateTimestampSince: "<unknown>" for no time.
std::string since(const nlohmann::json& time, const CellContext& ctx);
// labels.FormatLabels: "a=1,b=2" sorted, "<none>" when empty.
std::string formatLabels(const nlohmann::json& labels);
// metav1.LabelSelectorAsSelector(...).String(): "" for nil or empty; nullopt when invalid.
std::optional<std::string> selectorString(const nlohmann::json& selector);
// Names and images of a pod template's containers, comma-separated.
std::string containerNames(const nlohmann::json& podSpec);
std::string containerImages(const nlohmann::json& podSpec);
std::string join(const std::vector<std::string>& items, std::string_view sep);

}  // namespace berth::controlplane::schema
