#pragma once
// What berth-server derives from the type descriptions (controlplane/schema): Table columns and
// cells, field validation, defaults, patches and the OpenAPI documents, as the handlers' hooks.
#include <string>

#include "controlplane/apiserver/encoding.h"
#include "controlplane/apiserver/registry.h"
#include "controlplane/apiserver/schema_hooks.h"

namespace berth::controlplane {

struct ServerSchema {
  apiserver::TableConvertor table;
  apiserver::SchemaHooks hooks;

  // `served`: what the OpenAPI documents describe; `gitVersion` their info.version.
  [[nodiscard]] static Result<ServerSchema> load(const apiserver::Registry& served,
                                                 const std::string& gitVersion);
};

}  // namespace berth::controlplane
