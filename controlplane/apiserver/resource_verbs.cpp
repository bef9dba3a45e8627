// The resource verbs of ApiServer: routing a resource request to its store, decoding bodies
// (kind and apiVersion checks, field validation, defaults), and get, list, create, update,
// patch, delete and deletecollection.
#include <fmt/format.h>

#include "controlplane/apiserver/api_call.h"
#include "controlplane/schema/patch.h"

namespace berth::controlplane::apiserver {
namespace {

bool hasVerb(const schema::ServedResource& s, std::string_view verb) {
  for (const auto& v : s.verbs) {
    if (v == verb) return true;
  }
  return false;
}

std::string mediaType(const http::Request& request) {
  std::string type(request.headers.get("Content-Type").value_or(""));
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ')
    type.pop_back();
  std::ranges::transform(type, type.begin(), [](unsigned char c) { return std::tolower(c); });
  return type;
}

std::string metaString(const Json& object, const char* field) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return {};
  auto it = meta->find(field);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : std::string();
}

ApiResult<bool> parseDryRun(const http::Request& request) {
  bool dryRun = false;
  for (std::string_view v : request.queryParams("dryRun")) {
    if (v != "All") {
      return apiFail(kubeapi::badRequestStatus(
          fmt::format("Invalid dry run value: {}: supported values: \"All\"", v)));
    }
    dryRun = true;
  }
  return dryRun;
}

}  // namespace

void ApiServer::serveResource(Call& call) {
  const RequestInfo& info = call.info;
  auto respond = [&](ApiResult<http::Response> r) {
    if (!r) {
      call.writer->respond(statusResponse(r.error()));
      return;
    }
    for (const std::string& w : call.warnings) {
      r->headers.add("Warning", "299 - " + Json(w).dump());
    }
    call.writer->respond(std::move(*r));
  };

  call.entry = registry_.find(info.apiGroup, info.apiVersion, info.resource);
  if (!call.entry) return respond(apiFail(pathNotFound()));
  call.served = &call.entry->served;
  if (!info.subresource.empty()) {
    call.served = call.entry->subresource(info.subresource);
    if (!call.served || info.name.empty()) return respond(apiFail(pathNotFound()));
  }
  // A namespaced resource lives under /namespaces/<ns>/ except for lists and watches across
  // all namespaces; a cluster-scoped one never does.
  bool namespaced = call.entry->served.namespaced;
  if (!namespaced && !info.namespace_.empty() && info.resource != "namespaces") {
    return respond(apiFail(pathNotFound()));
  }
  if (namespaced && info.namespace_.empty() && info.verb != "list" && info.verb != "watch") {
    return respond(apiFail(pathNotFound()));
  }

  std::string verb = info.verb;
  if (!hasVerb(*call.served, verb)) {
    GroupResource gr{info.apiGroup, info.resource};
    return respond(apiFail(kubeapi::methodNotSupportedStatus(gr, verb)));
  }
  // The kubelet answers these in its own formats (text logs, stream upgrades).
  if (isKubeletSubresource(info)) return proxyToKubelet(call);
  auto negotiated = encoder_.negotiate(call.request);
  if (!negotiated) return respond(apiFail(negotiated.error()));
  call.output = *negotiated;
  auto dryRun = parseDryRun(call.request);
  if (!dryRun) return respond(apiFail(dryRun.error()));
  call.dryRun = *dryRun;

  if (verb == "watch") return watch(call);
  if (!call.entry->store) return respond(review(call));
  const std::string& sub = info.subresource;
  if (!sub.empty() && sub != "status" && sub != "approval" && sub != "finalize") {
    return respond(verb == "create" ? createSubresource(call) : serveSubresource(call));
  }
  if (verb == "get") return respond(get(call));
  if (verb == "list") return respond(list(call));
  if (verb == "create") return respond(create(call));
  if (verb == "update") return respond(update(call));
  if (verb == "patch") return respond(patch(call));
  if (verb == "delete") return respond(remove(call));
  if (verb == "deletecollection") return respond(removeCollection(call));
  respond(apiFail(kubeapi::methodNotSupportedStatus({info.apiGroup, info.resource}, verb)));
}

ApiResult<http::Response> ApiServer::get(Call& call) {
  auto object = BERTH_TRY(call.store().get(call.info.namespace_, call.info.name));
  return jsonResponse(200, encoder_.object(call.output, *call.served, *object),
                      Encoder::contentType(call.output));
}

ApiResult<http::Response> ApiServer::list(Call& call) {
  ListOptions options = BERTH_TRY(parseListOptions(call.request.query));
  BERTH_TRY(checkFieldSelector(call, options));
  ListResult result = BERTH_TRY(call.store().list(call.info.namespace_, options));
  return jsonResponse(200, encoder_.list(call.output, *call.served, result),
                      Encoder::contentType(call.output));
}

ApiResult<void> ApiServer::checkFieldSelector(const Call& call, const ListOptions& options) const {
  if (!options.fieldSelector) return {};
  std::vector<std::string> known = call.store().strategy().fieldLabels();
  known.push_back("metadata.name");
  if (call.entry->served.namespaced) known.push_back("metadata.namespace");
  for (const kubeapi::FieldTerm& term : options.fieldSelector->terms()) {
    const std::string& field = term.field;
    if (std::find(known.begin(), known.end(), field) == known.end()) {
      return apiFail(
          kubeapi::badRequestStatus(fmt::format("field label not supported: {}", field)));
    }
  }
  return {};
}

BodyKind bodyKindOf(const schema::ServedResource& served) {
  if (served.kindGroup.empty() && served.kindVersion.empty()) {
    return {served.group, served.version, served.kind};
  }
  return {served.kindGroup, served.kindVersion, served.kind};
}

ApiResult<Json> ApiServer::decodeBody(Call& call, const schema::ServedResource& takes) const {
  std::string type = mediaType(call.request);
  bool protobuf = type == "application/vnd.kubernetes.protobuf" && schema_.decodeProtobuf;
  if (!type.empty() && type != "application/json" && type != "*/*" && !protobuf) {
    return apiFail(kubeapi::unsupportedMediaTypeStatus(
        schema_.decodeProtobuf
            ? std::vector<std::string>{"application/json", "application/vnd.kubernetes.protobuf"}
            : std::vector<std::string>{"application/json"}));
  }
  // What the body says it is comes first, as the apiserver reads the type before the fields.
  Json object = protobuf ? BERTH_TRY(schema_.decodeProtobuf(call.request.body))
                         : Json::parse(call.request.body, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) {
    return apiFail(kubeapi::badRequestStatus(
        "couldn't get version/kind; json parse error: the request body is not a JSON object"));
  }
  BodyKind want = bodyKindOf(takes);
  std::string wantVersion = want.group.empty() ? want.version : want.group + "/" + want.version;
  auto kind = object.find("kind");
  if (kind == object.end() || !kind->is_string() || kind->get<std::string>().empty()) {
    return apiFail(kubeapi::badRequestStatus(
        fmt::format("Object 'Kind' is missing in '{}'", call.request.body.substr(0, 256))));
  }
  std::string apiVersion = object.value("apiVersion", "");
  if (apiVersion.empty()) {
    return apiFail(kubeapi::badRequestStatus(
        fmt::format("Object 'apiVersion' is missing in '{}'", call.request.body.substr(0, 256))));
  }
  if (apiVersion != wantVersion) {
    return apiFail(kubeapi::badRequestStatus(
        fmt::format("the API version in the data ({}) does not match the expected API version "
                    "({})",
                    apiVersion, wantVersion)));
  }
  if (kind->get<std::string>() != want.kind) {
    return apiFail(kubeapi::badRequestStatus(
        fmt::format("the object provided is unrecognized (must be of type {}): {} ({})", want.kind,
                    kind->get<std::string>(), apiVersion)));
  }
  // A protobuf body holds only fields its type has: nothing for field validation to find.
  if (!schema_.decode || protobuf) return object;
  std::string_view mode = call.request.queryParam("fieldValidation").value_or("");
  return schema_.decode(want, call.request.body, mode, call.warnings);
}

Json ApiServer::withDefaults(Call& call, Json object, const schema::ServedResource& takes) const {
  BodyKind kind = bodyKindOf(takes);
  if (schema_.applyDefaults) schema_.applyDefaults(kind, object);
  if (kind.kind == call.entry->served.kind) call.store().strategy().applyDefaults(object);
  return object;
}

ApiResult<http::Response> ApiServer::create(Call& call) {
  Json object = withDefaults(call, BERTH_TRY(decodeBody(call, *call.served)), *call.served);
  object = recordUpdate(call, nullptr, std::move(object));
  WriteOptions options;
  options.dryRun = call.dryRun;
  options.hooks = admission_.hooksFor(call.admissionAttributes("CREATE"));
  Json created = BERTH_TRY(call.store().create(call.info.namespace_, std::move(object), options));
  return jsonResponse(201, encoder_.object(call.output, *call.served, created),
                      Encoder::contentType(call.output));
}

ApiResult<http::Response> ApiServer::update(Call& call) {
  Json body = withDefaults(call, BERTH_TRY(decodeBody(call, *call.served)), *call.served);
  return writeUpdate(call, [&](const Json* current) -> ApiResult<Json> {
    return recordUpdate(call, current, body);
  });
}

ApiResult<http::Response> ApiServer::writeUpdate(Call& call, const UpdateFn& updated,
                                                 bool createIfMissing) {
  WriteOptions options;
  options.dryRun = call.dryRun;
  options.createIfMissing = createIfMissing;
  options.hooks = admission_.hooksFor(call.admissionAttributes("UPDATE"));
  const std::string& sub = call.info.subresource;
  // status-like subresources write through the status path of the store.
  std::string storeSub = sub == "approval" ? "status" : sub;
  bool created = false;
  auto tracked = [&](const Json* current) {
    created = current == nullptr;
    return updated(current);
  };
  Json written = BERTH_TRY(
      call.store().update(call.info.namespace_, call.info.name, storeSub, tracked, options));
  return jsonResponse(created ? 201 : 200, encoder_.object(call.output, *call.served, written),
                      Encoder::contentType(call.output));
}

ApiResult<Json> ApiServer::applyPatch(Call& call, const BodyKind& kind, const Json& current,
                                      std::string_view patch) const {
  if (!schema_.applyPatch) {
    return apiFail(kubeapi::unsupportedMediaTypeStatus({"application/json"}));
  }
  std::string_view mode = call.request.queryParam("fieldValidation").value_or("");
  return schema_.applyPatch(kind, mediaType(call.request), current, patch, mode, call.warnings);
}

ApiResult<http::Response> ApiServer::patch(Call& call) {
  const schema::ServedResource& served = *call.served;
  BodyKind kind = bodyKindOf(served);
  std::string_view mode = call.request.queryParam("fieldValidation").value_or("");
  bool apply =
      schema::patchTypeFromContentType(mediaType(call.request)) == schema::PatchType::kApply;
  if (!apply && call.request.queryParam("force")) {
    return apiFail(kubeapi::invalidStatus(
        {"meta.k8s.io", "PatchOptions"}, "",
        {FieldError::forbidden(kubeapi::FieldPath("force"),
                               "may not be specified for non-apply patch")}));
  }
  if (apply) return serverSideApply(call);
  return writeUpdate(call, [&](const Json* current) -> ApiResult<Json> {
    if (!current) {
      return apiFail(
          kubeapi::notFoundStatus({call.info.apiGroup, call.info.resource}, call.info.name));
    }
    // A patch retried after a conflict warns once.
    call.warnings.clear();
    Json patched = BERTH_TRY(applyPatch(call, kind, *current, call.request.body));
    if (!patched.is_object()) {
      return apiFail(kubeapi::badRequestStatus("the patch did not produce an object"));
    }
    if (schema_.check) patched = BERTH_TRY(schema_.check(kind, patched, mode, call.warnings));
    return recordUpdate(call, current, withDefaults(call, std::move(patched), served));
  });
}

ApiResult<DeleteOptions> ApiServer::deleteOptions(Call& call) const {
  DeleteOptions options;
  options.dryRun = call.dryRun;
  if (!call.request.body.empty()) {
    Json body = Json::parse(call.request.body, nullptr, false);
    if (!body.is_object()) {
      return apiFail(kubeapi::badRequestStatus("error decoding DeleteOptions: invalid JSON"));
    }
    if (body.contains("gracePeriodSeconds") && body["gracePeriodSeconds"].is_number_integer()) {
      options.gracePeriodSeconds = body["gracePeriodSeconds"].get<std::int64_t>();
    }
    if (body.contains("propagationPolicy") && body["propagationPolicy"].is_string()) {
      options.propagationPolicy = body["propagationPolicy"].get<std::string>();
    }
    if (body.contains("orphanDependents") && body["orphanDependents"].is_boolean() &&
        options.propagationPolicy.empty()) {
      options.propagationPolicy = body["orphanDependents"].get<bool>() ? "Orphan" : "Background";
    }
    if (auto pre = body.find("preconditions"); pre != body.end() && pre->is_object()) {
      if (pre->contains("uid") && (*pre)["uid"].is_string()) {
        options.preconditionUid = (*pre)["uid"].get<std::string>();
      }
      if (pre->contains("resourceVersion") && (*pre)["resourceVersion"].is_string()) {
        options.preconditionResourceVersion = (*pre)["resourceVersion"].get<std::string>();
      }
    }
    if (body.contains("dryRun") && body["dryRun"].is_array() && !body["dryRun"].empty()) {
      options.dryRun = true;
    }
  }
  if (auto grace = call.request.queryParam("gracePeriodSeconds")) {
    options.gracePeriodSeconds = std::atoll(std::string(*grace).c_str());
  }
  if (auto policy = call.request.queryParam("propagationPolicy")) {
    options.propagationPolicy = std::string(*policy);
  }
  const std::string& p = options.propagationPolicy;
  if (!p.empty() && p != "Orphan" && p != "Background" && p != "Foreground") {
    return apiFail(
        kubeapi::invalidStatus({"meta.k8s.io", "DeleteOptions"}, "",
                               {FieldError::notSupported(kubeapi::FieldPath("propagationPolicy"), p,
                                                         {"Background", "Foreground", "Orphan"})}));
  }
  options.admit = admission_.deleteHookFor(call.admissionAttributes("DELETE"));
  return options;
}

ApiResult<http::Response> ApiServer::remove(Call& call) {
  DeleteOptions options = BERTH_TRY(deleteOptions(call));
  DeleteResult result =
      BERTH_TRY(call.store().remove(call.info.namespace_, call.info.name, options));
  int code = result.deleted || options.dryRun ? 200 : 202;
  if (!result.deleted || call.entry->served.returnsDeletedObject) {
    return jsonResponse(code, encoder_.object(call.output, *call.served, result.object),
                        Encoder::contentType(call.output));
  }
  ApiError success = kubeapi::successStatus({call.info.apiGroup, call.info.resource},
                                            call.info.name, metaString(result.object, "uid"));
  return jsonResponse(code, success.body(), "application/json");
}

ApiResult<http::Response> ApiServer::removeCollection(Call& call) {
  ListOptions listOptions = BERTH_TRY(parseListOptions(call.request.query));
  BERTH_TRY(checkFieldSelector(call, listOptions));
  DeleteOptions options = BERTH_TRY(deleteOptions(call));
  ListResult items = BERTH_TRY(call.store().list(call.info.namespace_, listOptions));
  ListResult deleted;
  deleted.revision = items.revision;
  for (const auto& item : items.items) {
    const Json& object = item->json();
    auto result =
        call.store().remove(metaString(object, "namespace"), metaString(object, "name"), options);
    if (!result) {
      if (result.error().reason == kubeapi::reason::kNotFound) continue;
      return apiFail(result.error());
    }
    deleted.items.push_back(std::make_shared<storage::StoredObject>(std::move(result->object)));
  }
  return jsonResponse(200, encoder_.list(call.output, *call.served, deleted),
                      Encoder::contentType(call.output));
}

}  // namespace berth::controlplane::apiserver
