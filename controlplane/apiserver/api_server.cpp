// ApiServer's filter chain and non-resource paths; the resource verbs are in resource_verbs.cpp
// and watch.cpp.
#include "controlplane/apiserver/api_server.h"

#include <fmt/format.h>

#include "controlplane/apiserver/api_call.h"
#include "controlplane/apiserver/discovery.h"
#include "controlplane/apiserver/impersonation.h"
#include "controlplane/auth/authorization.h"

namespace berth::controlplane::apiserver {
namespace {

bool isHealthPath(std::string_view path) {
  for (std::string_view p : {"/healthz", "/livez", "/readyz", "/version"}) {
    if (path == p || (path.starts_with(p) && path.size() > p.size() && path[p.size()] == '/')) {
      return true;
    }
  }
  return false;
}

auth::Attributes attributesOf(const RequestInfo& info, const auth::UserInfo& user,
                              const http::Request& request) {
  auth::Attributes a;
  a.user = user;
  a.verb = info.verb;
  a.resourceRequest = info.isResourceRequest;
  a.apiGroup = info.apiGroup;
  a.apiVersion = info.apiVersion;
  a.resource = info.resource;
  a.subresource = info.subresource;
  a.namespace_ = info.namespace_;
  a.name = info.name;
  a.path = info.path;
  // 1.32's Node authorizer lets a node list pods only with its own spec.nodeName selector.
  a.fieldSelector = std::string(request.queryParam("fieldSelector").value_or(""));
  a.labelSelector = std::string(request.queryParam("labelSelector").value_or(""));
  return a;
}

}  // namespace

http::Response statusResponse(const ApiError& error) {
  http::Response r;
  r.status = error.code;
  r.headers.set("Content-Type", "application/json");
  r.headers.set("Cache-Control", "no-cache, private");
  r.body = error.body();
  return r;
}

http::Response jsonResponse(int status, std::string body, std::string contentType) {
  http::Response r;
  r.status = status;
  r.headers.set("Content-Type", std::move(contentType));
  r.headers.set("Cache-Control", "no-cache, private");
  r.body = std::move(body);
  return r;
}

ApiServer::ApiServer(ApiServerOptions options, Registry& registry,
                     const auth::Authenticator& authenticator, const auth::Authorizer& authorizer,
                     Admission& admission, const Encoder& encoder, SchemaHooks schema,
                     AuthHooks authHooks, Metrics& metrics,
                     std::function<std::int64_t()> storageSize)
    : options_(std::move(options)),
      registry_(registry),
      authenticator_(authenticator),
      authorizer_(authorizer),
      admission_(admission),
      encoder_(encoder),
      schema_(std::move(schema)),
      authHooks_(std::move(authHooks)),
      metrics_(metrics),
      storageSize_(std::move(storageSize)),
      discovery_(registry, options_.gitVersion) {}

ApiServer::~ApiServer() = default;

ApiResult<auth::UserInfo> ApiServer::authenticate(const http::Request& request) const {
  // The authenticator answers for anonymous access too (health and version paths only); an
  // error (bad credentials) and no user at all are both 401.
  auto user = authenticator_.authenticate(request);
  if (!user || !*user) return apiFail(kubeapi::unauthorizedStatus("Unauthorized"));
  return **user;
}

std::optional<ApiError> ApiServer::authorize(const RequestInfo& info, const auth::UserInfo& user,
                                             const http::Request& request) const {
  auth::Attributes attributes = attributesOf(info, user, request);
  auth::AuthorizationResult result = authorizer_.authorize(attributes);
  if (result.decision == auth::Decision::kAllow) return std::nullopt;
  std::string message = auth::forbiddenMessage(attributes, result.reason);
  GroupResource gr{info.apiGroup, info.isResourceRequest ? info.resource : ""};
  return kubeapi::forbiddenStatus(gr, info.isResourceRequest ? info.name : "", message);
}

void ApiServer::handle(http::Request& request, std::shared_ptr<http::ResponseWriter> writer) {
  auto info = parseRequestInfo(request.method, request.path, request.query);
  if (!info) {
    writer->respond(statusResponse(kubeapi::badRequestStatus(info.error().message())));
    return;
  }
  auto started = std::chrono::steady_clock::now();
  bool watching = info->verb == "watch";
  if (watching) metrics_.watchOpened();
  writer =
      observedWriter(std::move(writer), [this, metricsInfo = *info, started, watching](int code) {
        metrics_.request(metricsInfo, code, std::chrono::steady_clock::now() - started);
        if (watching) metrics_.watchClosed();
      });
  auto authenticated = authenticate(request);
  if (!authenticated) {
    writer->respond(statusResponse(authenticated.error()));
    return;
  }
  auto user = impersonate(request, *authenticated, authorizer_);
  if (!user) {
    writer->respond(statusResponse(user.error()));
    return;
  }
  if (auto denied = authorize(*info, *user, request)) {
    writer->respond(statusResponse(*denied));
    return;
  }
  if (!info->isResourceRequest) {
    serveNonResource(request, *info, *user, std::move(writer));
    return;
  }
  Call call{request, writer, std::move(*info), std::move(*user)};
  serveResource(call);
}

void ApiServer::serveNonResource(http::Request& request, const RequestInfo& info,
                                 const auth::UserInfo& user,
                                 std::shared_ptr<http::ResponseWriter> writer) {
  (void)user;
  const std::string& path = request.path;
  if (request.method != "GET" && request.method != "HEAD") {
    writer->respond(statusResponse(pathNotFound()));
    return;
  }
  if (isHealthPath(path)) {
    if (path.starts_with("/version")) {
      writer->respond(jsonResponse(200, discovery_.version().dump(2), "application/json"));
      return;
    }
    bool ok = path.starts_with("/readyz") ? ready_.load() : true;
    http::Response r;
    r.status = ok ? 200 : 500;
    r.headers.set("Content-Type", "text/plain; charset=utf-8");
    r.headers.set("X-Content-Type-Options", "nosniff");
    if (request.queryParam("verbose")) {
      r.body = fmt::format("[{}]ping ok\n[{}]etcd ok\n{} check {}\n", ok ? "+" : "-",
                           ok ? "+" : "-", path.substr(1), ok ? "passed" : "failed");
    } else {
      r.body = ok ? "ok" : "not ready";
    }
    writer->respond(std::move(r));
    return;
  }
  if (path == "/metrics") {
    std::map<std::string, std::int64_t> objects;
    for (const auto& entry : registry_.entries()) {
      if (!entry->store) continue;
      GroupResource gr{entry->served.group, entry->served.resource};
      objects[gr.str()] = entry->store->count();
    }
    http::Response r;
    r.headers.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    r.body = metrics_.render(objects, storageSize_ ? storageSize_() : 0);
    writer->respond(std::move(r));
    return;
  }
  if (auto doc = discovery_.serve(request)) {
    writer->respond(std::move(*doc));
    return;
  }
  if (schema_.openapi) {
    if (auto doc = schema_.openapi(request)) {
      writer->respond(std::move(*doc));
      return;
    }
  }
  (void)info;
  writer->respond(statusResponse(pathNotFound()));
}

}  // namespace berth::controlplane::apiserver
