#pragma once
// What berth-server serves of one resource: the facts discovery, OpenAPI paths, Table output and
// the request router all read. One list of these (controlplane/apiserver) is the single place a
// served resource is declared; its type's fields come from the descriptions in schema/types.
#include <string>
#include <vector>

namespace berth::controlplane::schema {

struct ServedResource {
  std::string group;         // "" for the core group
  std::string version;       // "v1"
  std::string resource;      // plural, "pods"
  std::string subresource;   // "", "status", "scale", "binding", "log", ...
  std::string kind;          // what it takes and returns: "Pod"; "Scale" for .../scale
  std::string kindGroup;     // the group of that kind when not `group` ("autoscaling" for Scale)
  std::string kindVersion;   // likewise
  std::string singularName;  // "pod"
  bool namespaced = true;
  std::vector<std::string> verbs;  // get list watch create update patch delete deletecollection
  std::vector<std::string> shortNames;  // "po"
  std::vector<std::string> categories;  // "all"
  std::string typeName;                 // the described type: "io.k8s.api.core.v1.Pod"
  // DELETE answers with the object (with its deletionTimestamp) rather than a Status, as
  // upstream's stores for pods, services, serviceaccounts, PVs, PVCs and storageclasses do; the
  // OpenAPI delete operation says which (added by the schema helper for that reason).
  bool returnsDeletedObject = false;

  std::string groupVersion() const { return group.empty() ? version : group + "/" + version; }
};

}  // namespace berth::controlplane::schema
