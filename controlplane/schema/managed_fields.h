#pragma once
// metadata.managedFields as kube-apiserver's field manager keeps them
// (k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager over structured-merge-diff): every write
// records which manager owns which fields. An Update (create, PUT, a JSON, merge or strategic
// merge patch, a scale) gives its manager the fields it changed and takes them from the others;
// an Apply (server-side apply) makes its manager own exactly its configuration, removes what the
// manager applied before and no longer does when nobody else owns it, and refuses to change a
// field another manager owns unless forced.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controlplane/schema/field_set.h"
#include "controlplane/schema/type_def.h"

namespace berth::controlplane::schema {

struct ManagedFieldsEntry {
  std::string manager;
  std::string operation;  // "Apply" or "Update"
  std::string apiVersion;
  std::string time;  // RFC 3339; empty when unknown
  std::string subresource;
  FieldSet fields;
};

// The object's metadata.managedFields; an error names the entry that cannot be read.
[[nodiscard]] Result<std::vector<ManagedFieldsEntry>> decodeManagedFields(
    const nlohmann::json& object);
// Writes them in upstream's order (Apply before Update, then by time and manager); none: the
// field goes.
void encodeManagedFields(nlohmann::json& object, std::vector<ManagedFieldsEntry> entries);

// Who writes, and what the written resource resets.
struct FieldManagerRequest {
  std::string manager;
  std::string apiVersion;   // of the written kind: "apps/v1"
  std::string subresource;  // "", "status", "scale"
  // The kind's status belongs to its status subresource: writes to the main resource own none
  // of it and status writes own nothing else (upstream's reset fields).
  bool hasStatusSubresource = false;
  std::string time;  // now, RFC 3339
};

// An Update from `live` (null for a create, compared with the kind's zero value as upstream
// compares with a new Go object) to `object`: `object` with its managedFields updated. Managed
// fields the writer sent are kept as the base when they can be read (a client may edit them),
// else the live ones.
[[nodiscard]] Result<nlohmann::json> recordUpdate(const nlohmann::json& live, nlohmann::json object,
                                                  const TypeDef& type,
                                                  const FieldManagerRequest& request);

struct ApplyConflict {
  std::string
      manager;  // as upstream prints it: "kubectl-scale" with subresource "scale" using apps/v1
  std::string field;  // .spec.replicas
};

struct ApplyOutcome {
  nlohmann::json object;                 // the merged object with its managedFields
  std::vector<ApplyConflict> conflicts;  // not empty: refused
  std::string conflictMessage;           // "Apply failed with 1 conflict: conflict with ..."
};

// Server-side apply of `config` (the request's object, without managedFields) to `live` (null
// when the object does not exist yet). kInvalidArgument when the configuration does not fit the
// type (an undeclared field, a list item without its key).
[[nodiscard]] Result<ApplyOutcome> applyConfiguration(const nlohmann::json& live,
                                                      const nlohmann::json& config,
                                                      const TypeDef& type,
                                                      const FieldManagerRequest& request,
                                                      bool force);

// The object of an apply PATCH body: YAML or JSON (kInvalidArgument when neither, or not a map).
[[nodiscard]] Result<nlohmann::json> parseApplyConfiguration(std::string_view body);

// The manager of a write that names none: the User-Agent's program name ("kubectl" from
// "kubectl/v1.32.0 (linux/amd64) ..."), printable characters only, at most 128 bytes.
std::string managerFromUserAgent(std::string_view userAgent);

}  // namespace berth::controlplane::schema
