#include "kubelet/server/auth.h"

#include <algorithm>

#include "kubeapi/rest_client.h"
#include "kubelet/kubelet_log.h"

namespace berth::kubelet::server {
namespace {

// The kubelet's isSubpath: the path itself or anything below it.
bool isSubpath(std::string_view path, std::string_view prefix) {
  return path == prefix ||
         (path.starts_with(prefix) && path.size() > prefix.size() && path[prefix.size()] == '/');
}

std::string verbForMethod(std::string_view method) {
  if (method == "POST") return "create";
  if (method == "GET") return "get";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return "delete";
  return "";
}

void addAuthenticatedGroup(UserInfo& user) {
  auto& g = user.groups;
  if (std::find(g.begin(), g.end(), kAuthenticatedGroup) == g.end() &&
      std::find(g.begin(), g.end(), kUnauthenticatedGroup) == g.end())
    g.push_back(kAuthenticatedGroup);
}

std::optional<std::string> bearerToken(const http::Request& request) {
  auto h = request.headers.get("Authorization");
  if (!h) return std::nullopt;
  std::string_view v = *h;
  auto sp = v.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  std::string scheme(v.substr(0, sp));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), ::tolower);
  if (scheme != "bearer") return std::nullopt;
  v.remove_prefix(sp + 1);
  while (!v.empty() && v.front() == ' ')
    v.remove_prefix(1);
  if (v.empty()) return std::nullopt;
  return std::string(v);
}

UserInfo userFromJson(const nlohmann::json& u) {
  UserInfo user;
  user.name = u.value("username", "");
  user.uid = u.value("uid", "");
  if (auto g = u.find("groups"); g != u.end() && g->is_array())
    for (const auto& v : *g)
      if (v.is_string()) user.groups.push_back(v.get<std::string>());
  if (auto e = u.find("extra"); e != u.end() && e->is_object())
    for (const auto& [k, vs] : e->items())
      if (vs.is_array())
        for (const auto& v : vs)
          if (v.is_string()) user.extra[k].push_back(v.get<std::string>());
  return user;
}

}  // namespace

RequestAttributes requestAttributes(const UserInfo& user, std::string_view method,
                                    std::string_view path, std::string_view nodeName) {
  RequestAttributes a;
  a.user = user;
  a.verb = verbForMethod(method);
  a.name = std::string(nodeName);
  a.path = std::string(path);
  a.subresource = "proxy";
  if (isSubpath(path, "/stats"))
    a.subresource = "stats";
  else if (isSubpath(path, "/metrics"))
    a.subresource = "metrics";
  else if (isSubpath(path, "/logs"))
    a.subresource = "log";  // as pods/log
  else if (isSubpath(path, "/spec"))
    a.subresource = "spec";
  return a;
}

std::string forbiddenMessage(const RequestAttributes& a) {
  return fmt::format("Forbidden (user={}, verb={}, resource={}, subresource(s)=[{}])", a.user.name,
                     a.verb, a.resource, a.subresource);
}

Authenticator::Authenticator(AuthenticationOptions options,
                             std::shared_ptr<kubeapi::RestClient> api, kubeapi::Clock& clock)
    : options_(options), api_(std::move(api)), cache_(clock) {}

Result<UserInfo> Authenticator::authenticate(const http::Request& request) {
  // The TLS layer refused certificates that do not chain to the client CA.
  if (request.peerCertificate && !request.peerCertificate->commonName.empty()) {
    UserInfo user{.name = request.peerCertificate->commonName,
                  .groups = request.peerCertificate->organizations};
    addAuthenticatedGroup(user);
    return user;
  }
  // Without a token authenticator a bearer token is ignored, as is any other scheme.
  if (auto token = bearerToken(request); token && options_.webhook && api_) {
    auto user = BERTH_TRY(reviewToken(*token));
    addAuthenticatedGroup(user);
    return user;
  }
  if (options_.anonymous)
    return UserInfo{.name = kAnonymousUser, .groups = {kUnauthenticatedGroup}};
  return fail(Code::kUnauthenticated, "no credentials");
}

Result<UserInfo> Authenticator::reviewToken(const std::string& token) {
  if (auto cached = cache_.get(token)) {
    if (*cached) return **cached;
    return fail(Code::kUnauthenticated, "invalid bearer token");
  }
  nlohmann::json review = {{"apiVersion", "authentication.k8s.io/v1"},
                           {"kind", "TokenReview"},
                           {"spec", {{"token", token}}}};
  kubeapi::ApiRequest req{
      .verb = "POST", .path = "/apis/authentication.k8s.io/v1/tokenreviews", .body = review.dump()};
  req.target.verb = "POST";
  req.target.resource = {"authentication.k8s.io", "tokenreviews"};
  auto resp = api_->sendJson(req);
  if (!resp) {
    // Not cached: the next request asks again.
    auto e = resp.error().toError();
    kubeletLog()->warn("TokenReview failed: {}", e.message());
    return fail(Code::kUnauthenticated, "token review: {}", e.message());
  }
  const auto& status = (*resp)["status"];
  if (!status.is_object() || !status.value("authenticated", false)) {
    cache_.put(token, std::nullopt, options_.cacheTtl);
    return fail(Code::kUnauthenticated, "invalid bearer token");
  }
  auto user = userFromJson(status.value("user", nlohmann::json::object()));
  cache_.put(token, user, options_.cacheTtl);
  return user;
}

nlohmann::json subjectAccessReview(const RequestAttributes& a) {
  nlohmann::json spec = {{"user", a.user.name},
                         {"groups", a.user.groups},
                         {"resourceAttributes",
                          {{"verb", a.verb},
                           {"group", a.apiGroup},
                           {"version", a.apiVersion},
                           {"resource", a.resource},
                           {"subresource", a.subresource},
                           {"name", a.name}}}};
  if (!a.user.uid.empty()) spec["uid"] = a.user.uid;
  if (!a.user.extra.empty()) spec["extra"] = a.user.extra;
  return {{"apiVersion", "authorization.k8s.io/v1"},
          {"kind", "SubjectAccessReview"},
          {"spec", std::move(spec)}};
}

Authorizer::Authorizer(AuthorizationOptions options, std::shared_ptr<kubeapi::RestClient> api,
                       kubeapi::Clock& clock)
    : options_(options), api_(std::move(api)), cache_(clock) {}

Result<Decision> Authorizer::authorize(const RequestAttributes& attributes) {
  if (options_.mode == AuthorizationMode::kAlwaysAllow) return Decision{.allowed = true};
  if (!api_) return fail(Code::kFailedPrecondition, "webhook authorization without an API client");
  auto review = subjectAccessReview(attributes);
  std::string key = review["spec"].dump();
  if (auto cached = cache_.get(key)) return *cached;
  kubeapi::ApiRequest req{.verb = "POST",
                          .path = "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                          .body = review.dump()};
  req.target.verb = "POST";
  req.target.resource = {"authorization.k8s.io", "subjectaccessreviews"};
  auto resp = api_->sendJson(req);
  if (!resp) return std::unexpected(resp.error().toError().context("subject access review"));
  const auto& status = (*resp)["status"];
  Decision d;
  if (status.is_object()) {
    d.allowed = status.value("allowed", false) && !status.value("denied", false);
    d.reason = status.value("reason", "");
  }
  cache_.put(key, d, d.allowed ? options_.authorizedTtl : options_.unauthorizedTtl);
  return d;
}

}  // namespace berth::kubelet::server
