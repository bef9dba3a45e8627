#include "controlplane/server_schema.h"

#include <fmt/format.h>

#include "controlplane/schema/defaults.h"
#include "controlplane/schema/field_validation.h"
#include "controlplane/schema/managed_fields.h"
#include "controlplane/schema/openapi.h"
#include "controlplane/schema/patch.h"
#include "controlplane/schema/protobuf_decoder.h"
#include "controlplane/schema/registry.h"
#include "controlplane/schema/table.h"

namespace berth::controlplane {
namespace {

using apiserver::ApiResult;
using apiserver::BodyKind;
using apiserver::Json;

ApiResult<schema::FieldValidation> fieldValidation(std::string_view mode) {
  auto parsed = schema::parseFieldValidation(mode);
  if (!parsed) return std::unexpected(kubeapi::badRequestStatus(parsed.error().message()));
  return *parsed;
}

// controlplane/schema's patch errors by code: kInvalidArgument 400 (unreadable),
// kFailedPrecondition 422 (does not apply), kResourceExhausted 413, the rest 500.
apiserver::ApiError patchError(const Error& e, const BodyKind& kind) {
  switch (e.code()) {
    case Code::kInvalidArgument:
      return kubeapi::badRequestStatus(e.message());
    case Code::kFailedPrecondition: {
      apiserver::ApiError status = kubeapi::invalidStatus({kind.group, kind.kind}, "", {});
      status.message = e.message();
      return status;
    }
    case Code::kResourceExhausted:
      return kubeapi::requestEntityTooLargeStatus(e.message());
    default:
      return kubeapi::internalErrorStatus(e.message());
  }
}

std::string versionOf(const BodyKind& kind) {
  return kind.group.empty() ? kind.version : kind.group + "/" + kind.version;
}

// The 409 of an apply that would change fields other managers own (upstream's
// NewApplyConflict): no group, kind or name, one FieldManagerConflict cause per field.
apiserver::ApiError applyConflict(const schema::ApplyOutcome& outcome) {
  apiserver::ApiError status;
  status.code = 409;
  status.reason = std::string(kubeapi::reason::kConflict);
  status.message = outcome.conflictMessage;
  for (const schema::ApplyConflict& c : outcome.conflicts) {
    status.details.causes.push_back(
        {"FieldManagerConflict", fmt::format("conflict with {}", c.manager), c.field});
  }
  return status;
}

// What the apiserver checks of an apply configuration before merging it.
ApiResult<Json> applyConfiguration(const BodyKind& kind, std::string_view body) {
  auto config = schema::parseApplyConfiguration(body);
  if (!config) {
    return std::unexpected(
        kubeapi::badRequestStatus("error decoding YAML: " + config.error().message()));
  }
  std::string version = config->value("apiVersion", "");
  if (version != versionOf(kind)) {
    return std::unexpected(kubeapi::badRequestStatus(
        fmt::format("Incorrect version specified in apply patch. Specified patch version: {}, "
                    "expected: {}",
                    version, versionOf(kind))));
  }
  std::string configKind = config->value("kind", "");
  if (configKind != kind.kind) {
    return std::unexpected(kubeapi::badRequestStatus(
        fmt::format("the object provided is unrecognized (must be of type {}): {} ({})", kind.kind,
                    configKind, version)));
  }
  auto meta = config->find("metadata");
  if (meta != config->end() && meta->is_object() && meta->contains("managedFields") &&
      !(*meta)["managedFields"].is_null()) {
    return std::unexpected(kubeapi::badRequestStatus("metadata.managedFields must be nil"));
  }
  return std::move(*config);
}

http::Response document(std::string body, std::optional<std::string> etag = std::nullopt) {
  http::Response r;
  r.headers.set("Content-Type", "application/json");
  if (etag) {
    r.headers.set("ETag", "\"" + *etag + "\"");
    // A hashed document never changes under its URL (kubectl caches it by hash).
    r.headers.set("Cache-Control", "public, immutable");
  } else {
    r.headers.set("Cache-Control", "no-cache, private");
  }
  r.body = std::move(body);
  return r;
}

}  // namespace

Result<ServerSchema> ServerSchema::load(const apiserver::Registry& served,
                                        const std::string& gitVersion) {
  const schema::Registry& types = schema::Registry::builtin();
  ServerSchema out;
  auto findType = [&types](const BodyKind& kind) {
    return types.findKind(kind.group, kind.version, kind.kind);
  };

  out.hooks.decode = [findType](const BodyKind& kind, std::string_view body, std::string_view mode,
                                std::vector<std::string>& warnings) -> ApiResult<Json> {
    auto validation = fieldValidation(mode);
    if (!validation) return std::unexpected(validation.error());
    const schema::TypeDef* type = findType(kind);
    if (!type) {
      return std::unexpected(kubeapi::internalErrorStatus(
          fmt::format("no description of {} {}", versionOf(kind), kind.kind)));
    }
    auto decoded = schema::decodeBody(body, *type, *validation);
    if (!decoded) {
      const std::string& why = decoded.error().message();
      if (why.starts_with("strict decoding error")) {
        return std::unexpected(kubeapi::badRequestStatus(why));
      }
      return std::unexpected(kubeapi::badRequestStatus(
          fmt::format("{} in version \"{}\" cannot be handled as a {}: {}", kind.kind, kind.version,
                      kind.kind, why)));
    }
    for (auto& w : decoded->warnings)
      warnings.push_back(std::move(w));
    return std::move(decoded->object);
  };

  out.hooks.check = [findType](const BodyKind& kind, const Json& object, std::string_view mode,
                               std::vector<std::string>& warnings) -> ApiResult<Json> {
    auto validation = fieldValidation(mode);
    if (!validation) return std::unexpected(validation.error());
    const schema::TypeDef* type = findType(kind);
    if (!type) return object;
    auto checked = schema::checkFields(object, *type);
    if (!checked) {
      return std::unexpected(kubeapi::badRequestStatus(
          fmt::format("{} in version \"{}\" cannot be handled as a {}: {}", kind.kind, kind.version,
                      kind.kind, checked.error().message())));
    }
    if (!checked->strictErrors.empty()) {
      if (*validation == schema::FieldValidation::kStrict) {
        return std::unexpected(kubeapi::invalidStatus(
            {kind.group, kind.kind}, "",
            {apiserver::FieldError::invalid(kubeapi::FieldPath("patch"), nullptr,
                                            schema::strictDecodingError(checked->strictErrors))}));
      }
      if (*validation == schema::FieldValidation::kWarn) {
        for (auto& e : checked->strictErrors)
          warnings.push_back(std::move(e));
      }
    }
    return std::move(checked->object);
  };

  out.hooks.applyDefaults = [findType](const BodyKind& kind, Json& object) {
    if (const schema::TypeDef* type = findType(kind)) schema::applyDefaults(object, *type);
  };

  out.hooks.applyPatch = [findType](const BodyKind& kind, std::string_view contentType,
                                    const Json& current, std::string_view patch,
                                    std::string_view mode,
                                    std::vector<std::string>& warnings) -> ApiResult<Json> {
    auto type = schema::patchTypeFromContentType(contentType);
    if (!type || *type == schema::PatchType::kApply) {
      return std::unexpected(kubeapi::unsupportedMediaTypeStatus(
          {"application/json-patch+json", "application/merge-patch+json",
           "application/strategic-merge-patch+json"}));
    }
    auto validation = fieldValidation(mode);
    if (!validation) return std::unexpected(validation.error());
    if (*validation != schema::FieldValidation::kIgnore) {
      auto problems = schema::patchStrictErrors(*type, patch);
      if (!problems) return std::unexpected(patchError(problems.error(), kind));
      if (!problems->empty()) {
        if (*validation == schema::FieldValidation::kStrict) {
          return std::unexpected(kubeapi::badRequestStatus(schema::strictDecodingError(*problems)));
        }
        for (auto& p : *problems)
          warnings.push_back(std::move(p));
      }
    }
    Result<Json> patched = std::unexpected(Error(Code::kInternal, "no patch"));
    switch (*type) {
      case schema::PatchType::kJson:
        patched = schema::applyJsonPatch(current, patch);
        break;
      case schema::PatchType::kMerge:
        patched = schema::applyMergePatch(current, patch);
        break;
      case schema::PatchType::kStrategicMerge: {
        const schema::TypeDef* typeDef = findType(kind);
        if (!typeDef) {
          return std::unexpected(kubeapi::unsupportedMediaTypeStatus(
              {"application/json-patch+json", "application/merge-patch+json"}));
        }
        patched = schema::applyStrategicMergePatch(current, patch, *typeDef);
        break;
      }
      case schema::PatchType::kApply:
        break;
    }
    if (!patched) return std::unexpected(patchError(patched.error(), kind));
    return std::move(*patched);
  };

  out.hooks.recordUpdate = [findType](const BodyKind& kind, const Json* live, Json object,
                                      const schema::FieldManagerRequest& request) -> Json {
    const schema::TypeDef* type = findType(kind);
    if (!type) return object;
    auto recorded = schema::recordUpdate(live ? *live : Json(), object, *type, request);
    if (recorded) return std::move(*recorded);
    if (object.contains("metadata") && object["metadata"].is_object())
      object["metadata"].erase("managedFields");
    return object;
  };

  out.hooks.apply = [findType](const BodyKind& kind, const Json* live, std::string_view body,
                               const schema::FieldManagerRequest& request,
                               bool force) -> ApiResult<Json> {
    Json config = BERTH_TRY(applyConfiguration(kind, body));
    const schema::TypeDef* type = findType(kind);
    if (!type) {
      return std::unexpected(kubeapi::unsupportedMediaTypeStatus(
          {"application/json-patch+json", "application/merge-patch+json"}));
    }
    auto outcome = schema::applyConfiguration(live ? *live : Json(), config, *type, request, force);
    if (!outcome) {
      // upstream's "failed to create typed patch object (<ns>/<name>; <gvk>): <why>".
      const Json& meta = config["metadata"];
      std::string ns = meta.is_object() ? meta.value("namespace", "") : "";
      std::string name = meta.is_object() ? meta.value("name", "") : "";
      return std::unexpected(kubeapi::internalErrorStatus(
          fmt::format("failed to create typed patch object ({}/{}; {}, Kind={}): {}", ns, name,
                      versionOf(kind), kind.kind, outcome.error().message())));
    }
    if (!outcome->conflicts.empty()) return std::unexpected(applyConflict(*outcome));
    return std::move(outcome->object);
  };

  out.table.convert = [findType](const schema::ServedResource& served, const Json& objectOrList,
                                 const std::string& includeObject, bool noHeaders) {
    schema::TableOptions options;
    options.includeObject = includeObject == "None"     ? schema::IncludeObject::kNone
                            : includeObject == "Object" ? schema::IncludeObject::kObject
                                                        : schema::IncludeObject::kMetadata;
    options.noHeaders = noHeaders;
    const schema::TypeDef* type = findType(apiserver::bodyKindOf(served));
    if (!type) return Json{{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}};
    return schema::toTable(objectOrList, *type, options);
  };

  // Protobuf bodies are read into JSON here; the handlers take it from there as from a JSON body.
  const auto& wire = schema::WireTable::builtin();
  if (!wire) return std::unexpected(wire.error().context("the protobuf wire table"));
  auto protobuf = std::make_shared<schema::ProtobufDecoder>(types, *wire);
  out.hooks.decodeProtobuf = [protobuf](std::string_view body) -> ApiResult<Json> {
    auto decoded = protobuf->decode(body);
    if (!decoded) return std::unexpected(kubeapi::badRequestStatus(decoded.error().message()));
    return std::move(*decoded);
  };

  auto openapi = std::make_shared<schema::OpenApi>(types, served.allServed(), gitVersion);
  out.hooks.openapi = [openapi](const http::Request& request) -> std::optional<http::Response> {
    std::string_view path = request.path;
    if (path == "/openapi/v2") return document(openapi->v2());
    if (path == "/openapi/v3" || path == "/openapi/v3/") return document(openapi->v3Index());
    constexpr std::string_view kPrefix = "/openapi/v3/";
    if (!path.starts_with(kPrefix)) return std::nullopt;
    std::string_view name = path.substr(kPrefix.size());
    auto doc = openapi->v3(name);
    if (!doc) return std::nullopt;
    std::optional<std::string> etag;
    if (request.queryParam("hash")) etag = openapi->v3Hash(name);
    return document(std::move(*doc), etag);
  };
  return out;
}

}  // namespace berth::controlplane
