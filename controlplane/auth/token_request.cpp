#include "controlplane/auth/token_request.h"

#include <algorithm>

#include "controlplane/auth/json_util.h"
#include "controlplane/auth/rfc3339.h"

namespace berth::controlplane::auth {

namespace {

using std::chrono::seconds;

std::unexpected<Error> invalid(std::string_view name, std::string_view field,
                               std::string_view value, std::string_view detail) {
  return fail(Code::kInvalidArgument,
              "TokenRequest.authentication.k8s.io \"{}\" is invalid: {}: Invalid value: {}: {}",
              name, field, value, detail);
}

std::string quotedValue(std::string_view text) {
  return nlohmann::json(text).dump();
}

}  // namespace

Result<TokenRequestResult> issueTokenRequest(const ServiceAccountTokenGenerator& generator,
                                             const storage::ObjectLookup& lookup,
                                             std::string_view ns, std::string_view name,
                                             nlohmann::json request,
                                             const TokenRequestOptions& options,
                                             std::chrono::system_clock::time_point now) {
  if (!request.is_object()) request = nlohmann::json::object();
  const std::string bodyName = json::meta(request, "name");
  const std::string bodyNamespace = json::meta(request, "namespace");
  if (!bodyName.empty() && bodyName != name) {
    return invalid(name, "metadata.name", quotedValue(bodyName),
                   "must match the service account name if specified");
  }
  if (!bodyNamespace.empty() && bodyNamespace != ns) {
    return invalid(name, "metadata.namespace", quotedValue(bodyNamespace),
                   "must match the service account namespace if specified");
  }
  auto serviceAccount = lookup.get("", "serviceaccounts", ns, name);
  if (!serviceAccount) return fail(Code::kNotFound, "serviceaccounts \"{}\" not found", name);

  nlohmann::json& spec = request["spec"];
  if (!spec.is_object()) spec = nlohmann::json::object();
  if (json::strings(spec, "audiences").empty()) spec["audiences"] = options.apiAudiences;
  const auto* expirationField = json::member(spec, "expirationSeconds");
  if (expirationField == nullptr || expirationField->is_null()) {
    spec["expirationSeconds"] = kDefaultTokenExpirationSeconds;
  } else if (!expirationField->is_number_integer()) {
    return invalid("", "spec.expirationSeconds", expirationField->dump(), "must be an integer");
  }
  std::int64_t expiration = spec["expirationSeconds"].get<std::int64_t>();
  if (!request["metadata"].is_object()) request["metadata"] = nlohmann::json::object();
  request["metadata"]["name"] = std::string(name);
  request["metadata"]["namespace"] = std::string(ns);
  request["metadata"]["creationTimestamp"] = formatRfc3339(now);
  request.erase("status");
  if (expiration < 600) {
    return invalid("", "spec.expirationSeconds", std::to_string(expiration),
                   "may not specify a duration less than 10 minutes");
  }
  if (expiration > (std::int64_t{1} << 32)) {
    return invalid("", "spec.expirationSeconds", std::to_string(expiration),
                   "may not specify a duration larger than 2^32 seconds");
  }

  BoundTokenSubject subject;
  subject.serviceAccount = &serviceAccount->json();
  storage::ObjectPtr pod, secret, node;
  if (const auto* ref = json::member(spec, "boundObjectRef"); ref != nullptr && ref->is_object()) {
    const std::string apiVersion = json::string(*ref, "apiVersion");
    const std::string kind = json::string(*ref, "kind");
    const std::string refName = json::string(*ref, "name");
    const std::string refUid = json::string(*ref, "uid");
    const auto slash = apiVersion.find('/');
    const std::string group = slash == std::string::npos ? "" : apiVersion.substr(0, slash);
    const std::string version =
        slash == std::string::npos ? apiVersion : apiVersion.substr(slash + 1);
    std::string uid;
    if (group.empty() && kind == "Pod") {
      pod = lookup.get("", "pods", ns, refName);
      if (!pod) return fail(Code::kNotFound, "pods \"{}\" not found", refName);
      if (json::stringAt(pod->json(), {"spec", "serviceAccountName"}) != name) {
        return fail(Code::kFailedPrecondition,
                    "cannot bind token for serviceaccount \"{}\" to pod running with different "
                    "serviceaccount name.",
                    name);
      }
      uid = json::meta(pod->json(), "uid");
      subject.pod = &pod->json();
      // The apiserver infers the pod's node for the token; a node gone meanwhile is skipped.
      if (const std::string nodeName = json::stringAt(pod->json(), {"spec", "nodeName"});
          !nodeName.empty()) {
        node = lookup.get("", "nodes", "", nodeName);
        if (node) subject.node = &node->json();
      }
    } else if (group.empty() && kind == "Node") {
      node = lookup.get("", "nodes", "", refName);
      if (!node) return fail(Code::kNotFound, "nodes \"{}\" not found", refName);
      uid = json::meta(node->json(), "uid");
      subject.node = &node->json();
    } else if (group.empty() && kind == "Secret") {
      secret = lookup.get("", "secrets", ns, refName);
      if (!secret) return fail(Code::kNotFound, "secrets \"{}\" not found", refName);
      uid = json::meta(secret->json(), "uid");
      subject.secret = &secret->json();
    } else {
      return fail(Code::kFailedPrecondition, "cannot bind token to object of type {}/{}, Kind={}",
                  group, version, kind);
    }
    if (!refUid.empty() && uid != refUid) {
      return fail(Code::kAborted,
                  "Operation cannot be fulfilled on {} \"{}\": the UID in the bound object "
                  "reference ({}) does not match the UID in record. The object might have been "
                  "deleted and then recreated",
                  kind, refName, refUid);
    }
  }

  TokenRequestResult result;
  if (options.maxExpiration.count() > 0 && expiration > options.maxExpiration.count()) {
    result.warnings.push_back(
        fmt::format("requested expiration of {} seconds shortened to {} seconds", expiration,
                    options.maxExpiration.count()));
    expiration = options.maxExpiration.count();
    spec["expirationSeconds"] = expiration;
  }
  const auto audiences = json::strings(spec, "audiences");
  const bool kubeAudiences = std::all_of(audiences.begin(), audiences.end(), [&](const auto& a) {
    return std::find(options.apiAudiences.begin(), options.apiAudiences.end(), a) !=
           options.apiAudiences.end();
  });
  std::int64_t tokenExpiration = expiration;
  std::int64_t warnAfter = 0;
  if (options.extendExpiration && subject.pod != nullptr &&
      expiration == kWarnOnlyBoundTokenExpirationSeconds && kubeAudiences) {
    warnAfter = expiration;
    tokenExpiration = kExpirationExtensionSeconds;
  }
  auto token = BERTH_TRY(generator.generateBound(subject, audiences, seconds(tokenExpiration),
                                                 seconds(warnAfter), now));
  request["status"] = {{"token", std::move(token)},
                       {"expirationTimestamp", formatRfc3339(now + seconds(expiration))}};
  request["apiVersion"] = "authentication.k8s.io/v1";
  request["kind"] = "TokenRequest";
  result.tokenRequest = std::move(request);
  return result;
}

}  // namespace berth::controlplane::auth
