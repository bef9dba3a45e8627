#include "kubelet/volume/payload.h"

#include <map>
#include <string>

#include "common/base64.h"
#include "kubeapi/object_meta.h"
#include "kubelet/volume/downward_api.h"
#include "kubelet/volume/json_fields.h"

namespace berth::kubelet::volume {
using nlohmann::json;

namespace {

using KeyedData = std::map<std::string, std::string>;

// The string entries of obj[key]; base64-decoded when the field is []byte in the API.
Result<void> readDataMap(const json& obj, const char* key, bool base64, KeyedData& out) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return {};
  if (!obj[key].is_object()) return fail(Code::kInvalidArgument, "{}: must be a map", key);
  for (const auto& [k, v] : obj[key].items()) {
    if (!v.is_string()) return fail(Code::kInvalidArgument, "{}[{}]: must be a string", key, k);
    out[k] = base64
                 ? BERTH_TRY_CTX(base64Decode(v.get<std::string>()), fmt::format("{}[{}]", key, k))
                 : v.get<std::string>();
  }
  return {};
}

// MakePayload of configmap.go / secret.go, over the object's decoded data.
Result<Payload> keyedPayload(const json& items, const KeyedData& data, mode_t defaultMode,
                             bool optional, std::string_view missingKeyMessage) {
  Payload payload;
  if (items.is_null() || (items.is_array() && items.empty())) {
    for (const auto& [key, value] : data)
      payload[key] = FileProjection{value, defaultMode, {}};
    return payload;
  }
  if (!items.is_array()) return fail(Code::kInvalidArgument, "items: must be a list");
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string where = fmt::format("items[{}]", i);
    std::string key = BERTH_TRY(stringField(items[i], "key", where));
    std::string path = BERTH_TRY(stringField(items[i], "path", where));
    mode_t mode = BERTH_TRY(modeField(items[i], "mode", defaultMode, where));
    auto it = data.find(key);
    if (it == data.end()) {
      if (optional) continue;
      return fail(Code::kNotFound, "{}: {}", missingKeyMessage, key);
    }
    payload[path] = FileProjection{it->second, mode, {}};
  }
  return payload;
}

enum class Kind { kConfigMap, kSecret };

// Fetches the named object; a missing one reads as empty when the source is optional.
Result<json> fetchObject(Kind kind, const json& source, const ProjectionContext& ctx,
                         std::string_view nameKey) {
  std::string_view ns = kubeapi::namespaceOf(ctx.pod);
  std::string name =
      BERTH_TRY(stringField(source, nameKey, kind == Kind::kSecret ? "secret" : "configMap"));
  const char* what = kind == Kind::kSecret ? "secret" : "configmap";
  Result<json> obj =
      kind == Kind::kSecret ? ctx.objects.secret(ns, name) : ctx.objects.configMap(ns, name);
  if (obj) return obj;
  if (obj.error().code() == Code::kNotFound && boolField(source, "optional")) return json::object();
  return std::unexpected(
      std::move(obj).error().context(fmt::format("get {} {}/{}", what, ns, name)));
}

Result<Payload> objectPayload(Kind kind, const json& source, const ProjectionContext& ctx,
                              std::string_view nameKey, mode_t defaultMode) {
  json obj = BERTH_TRY(fetchObject(kind, source, ctx, nameKey));
  bool optional = boolField(source, "optional");
  const json& items = source.is_object() && source.contains("items") ? source["items"] : json();
  return kind == Kind::kSecret ? makeSecretPayload(items, obj, defaultMode, optional)
                               : makeConfigMapPayload(items, obj, defaultMode, optional);
}

Result<FileProjection> tokenFile(const json& source, const ProjectionContext& ctx,
                                 mode_t defaultMode) {
  TokenRequest req;
  req.namespace_ = kubeapi::namespaceOf(ctx.pod);
  req.serviceAccountName =
      ctx.pod.contains("/spec/serviceAccountName"_json_pointer)
          ? ctx.pod.at("/spec/serviceAccountName"_json_pointer).get<std::string>()
          : "default";
  if (std::string aud = source.value("audience", ""); !aud.empty()) req.audiences.push_back(aud);
  req.expirationSeconds = source.value("expirationSeconds", kDefaultTokenExpirationSeconds);
  req.podName = kubeapi::nameOf(ctx.pod);
  req.podUid = kubeapi::uidOf(ctx.pod);
  std::string token = BERTH_TRY_CTX(ctx.objects.serviceAccountToken(req),
                                    fmt::format("request token for serviceaccount {}/{}",
                                                req.namespace_, req.serviceAccountName));
  // Upstream: with an fsUser or fsGroup the token is 0600 and the fsGroup walk widens it to
  // 0640, so only that group reads it.
  mode_t mode = ctx.fsUser || ctx.fsGroup ? 0600 : defaultMode;
  return FileProjection{std::move(token), mode, ctx.fsUser};
}

void merge(Payload& into, Payload from) {
  for (auto& [k, v] : from)
    into[k] = std::move(v);
}

}  // namespace

Result<Payload> makeConfigMapPayload(const json& items, const json& configMap, mode_t defaultMode,
                                     bool optional) {
  KeyedData data;
  BERTH_TRY(readDataMap(configMap, "data", false, data));
  BERTH_TRY(readDataMap(configMap, "binaryData", true, data));
  return keyedPayload(items, data, defaultMode, optional,
                      "configmap references non-existent config key");
}

Result<Payload> makeSecretPayload(const json& items, const json& secret, mode_t defaultMode,
                                  bool optional) {
  KeyedData data;
  BERTH_TRY(readDataMap(secret, "data", true, data));
  return keyedPayload(items, data, defaultMode, optional, "references non-existent secret key");
}

Result<Payload> configMapVolumePayload(const json& source, const ProjectionContext& ctx) {
  mode_t mode = BERTH_TRY(modeField(source, "defaultMode", kDefaultProjectionMode, "configMap"));
  return objectPayload(Kind::kConfigMap, source, ctx, "name", mode);
}

Result<Payload> secretVolumePayload(const json& source, const ProjectionContext& ctx) {
  mode_t mode = BERTH_TRY(modeField(source, "defaultMode", kDefaultProjectionMode, "secret"));
  return objectPayload(Kind::kSecret, source, ctx, "secretName", mode);
}

Result<Payload> downwardApiVolumePayload(const json& source, const ProjectionContext& ctx) {
  mode_t mode = BERTH_TRY(modeField(source, "defaultMode", kDefaultProjectionMode, "downwardAPI"));
  return collectDownwardApi(source.value("items", json()), ctx.pod, ctx.nodeAllocatable, mode);
}

Result<Payload> projectedVolumePayload(const json& source, const ProjectionContext& ctx) {
  mode_t mode = BERTH_TRY(modeField(source, "defaultMode", kDefaultProjectionMode, "projected"));
  Payload payload;
  const json sources = source.value("sources", json::array());
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const json& s = sources[i];
    std::string where = fmt::format("sources[{}]", i);
    if (s.contains("configMap")) {
      merge(payload,
            BERTH_TRY_CTX(objectPayload(Kind::kConfigMap, s["configMap"], ctx, "name", mode),
                          where + ".configMap"));
    } else if (s.contains("secret")) {
      merge(payload, BERTH_TRY_CTX(objectPayload(Kind::kSecret, s["secret"], ctx, "name", mode),
                                   where + ".secret"));
    } else if (s.contains("downwardAPI")) {
      merge(payload, BERTH_TRY_CTX(collectDownwardApi(s["downwardAPI"].value("items", json()),
                                                      ctx.pod, ctx.nodeAllocatable, mode),
                                   where + ".downwardAPI"));
    } else if (s.contains("serviceAccountToken")) {
      const json& t = s["serviceAccountToken"];
      std::string path = BERTH_TRY(stringField(t, "path", where + ".serviceAccountToken"));
      payload[path] = BERTH_TRY_CTX(tokenFile(t, ctx, mode), where + ".serviceAccountToken");
    } else if (s.contains("clusterTrustBundle") || s.contains("podCertificate")) {
      return fail(Code::kUnimplemented, "{}.{}: not supported by this kubelet", where,
                  s.contains("clusterTrustBundle") ? "clusterTrustBundle" : "podCertificate");
    } else {
      return fail(Code::kInvalidArgument, "{}: no known projection source", where);
    }
  }
  return payload;
}

}  // namespace berth::kubelet::volume
