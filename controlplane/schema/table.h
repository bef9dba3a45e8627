#pragma once
// Table output (meta.k8s.io/v1, Accept: application/json;as=Table;v=v1;g=meta.k8s.io): the
// columns and cells kube-apiserver 1.32's printers give each served kind, so `kubectl get` (and
// -o wide) prints what it prints against a real cluster. The columns come from the
// descriptions (types/printers.k8s); a cell is a JSON path or a named cell function
// (table_cells.h). Kinds with no columns get upstream's default: Name and Created At.
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controlplane/schema/go_values.h"
#include "controlplane/schema/type_def.h"

namespace berth::controlplane::schema {

enum class IncludeObject { kNone, kMetadata, kObject };

// The includeObject query parameter: "" means Metadata, as upstream.
[[nodiscard]] Result<IncludeObject> parseIncludeObject(std::string_view value);

struct TableOptions {
  IncludeObject includeObject = IncludeObject::kMetadata;
  bool noHeaders = false;  // leave out the column definitions (watch events after the first)
  TimePoint now =
      std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
};

// The Table of one object, or of a list (an object with "items"); `type` is the objects' kind.
nlohmann::json toTable(const nlohmann::json& objectOrList, const TypeDef& type,
                       const TableOptions& options = {});

}  // namespace berth::controlplane::schema
