#pragma once
// The HTTP face of berth-server: one http::Handler that runs the apiserver's filter chain
// (request info, authentication, authorization) and then serves the request: discovery, OpenAPI,
// health and version paths, and the resource verbs over the Registry.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/http/backend_connection.h"
#include "common/http/server.h"
#include "controlplane/apiserver/admission.h"
#include "controlplane/apiserver/api_error.h"
#include "controlplane/apiserver/discovery.h"
#include "controlplane/apiserver/encoding.h"
#include "controlplane/apiserver/kubelet_location.h"
#include "controlplane/apiserver/list_options.h"
#include "controlplane/apiserver/metrics.h"
#include "controlplane/apiserver/registry.h"
#include "controlplane/apiserver/request_info.h"
#include "controlplane/apiserver/schema_hooks.h"
#include "controlplane/apiserver/watch_timeouts.h"
#include "controlplane/auth/authenticator.h"
#include "controlplane/auth/authorizer.h"
#include "kubeapi/version.h"

namespace berth::controlplane::apiserver {

// What the server's own review and token endpoints need of the auth layer beyond authenticating
// and authorizing requests.
struct AuthHooks {
  // The access and token reviews (resources without storage: selfsubjectaccessreviews,
  // subjectaccessreviews, localsubjectaccessreviews, selfsubjectrulesreviews, tokenreviews,
  // selfsubjectreviews): the review returned with its status, for `user` in `ns`.
  std::function<ApiResult<Json>(const std::string& resource, const auth::UserInfo& user,
                                const std::string& ns, Json review)>
      review;
  // TokenRequest (serviceaccounts/token): the request returned with its status.token, for the
  // ServiceAccount ns/name; warnings go to Warning headers.
  std::function<ApiResult<Json>(const std::string& ns, const std::string& name, Json request,
                                std::vector<std::string>& warnings)>
      issueToken;
};

struct ApiServerOptions {
  std::string gitVersion = kubeapi::kKubernetesVersion;  // what /version reports
  // The watch's server-side timeout when the client names none: min-request-timeout (1800 s),
  // times a random factor in [1, 2) as upstream spreads reconnects.
  std::chrono::seconds minRequestTimeout{1800};
  // How pods/log, exec, attach, portforward and nodes/proxy reach the node's kubelet.
  std::vector<std::string> kubeletAddressTypes = kDefaultKubeletAddressTypes;
  http::ClientTlsConfig kubeletTls;
};

class ApiServer {
 public:
  ApiServer(ApiServerOptions options, Registry& registry, const auth::Authenticator& authenticator,
            const auth::Authorizer& authorizer, Admission& admission, const Encoder& encoder,
            SchemaHooks schema, AuthHooks authHooks, Metrics& metrics,
            std::function<std::int64_t()> storageSize);
  ~ApiServer();

  // The http::Handler.
  void handle(http::Request& request, std::shared_ptr<http::ResponseWriter> writer);

  // Health: false until the server's start-up work is done (readyz), or after shutdown began.
  void setReady(bool ready) { ready_ = ready; }

 private:
  struct Call;  // one resource request being served

  ApiResult<auth::UserInfo> authenticate(const http::Request& request) const;
  std::optional<ApiError> authorize(const RequestInfo& info, const auth::UserInfo& user,
                                    const http::Request& request) const;
  void serveNonResource(http::Request& request, const RequestInfo& info, const auth::UserInfo& user,
                        std::shared_ptr<http::ResponseWriter> writer);
  void serveResource(Call& call);

  ApiResult<http::Response> get(Call& call);
  ApiResult<http::Response> list(Call& call);
  void watch(Call& call);
  ApiResult<http::Response> create(Call& call);
  ApiResult<http::Response> update(Call& call);
  ApiResult<http::Response> patch(Call& call);
  ApiResult<http::Response> remove(Call& call);
  ApiResult<http::Response> removeCollection(Call& call);
  // 201 when `updated` created the object (a PUT of an absent Lease, an apply), else 200.
  ApiResult<http::Response> writeUpdate(Call& call, const UpdateFn& updated,
                                        bool createIfMissing = false);
  // Server-side apply: PATCH with application/apply-patch+yaml (field_manager.cpp).
  ApiResult<http::Response> serverSideApply(Call& call);
  // Who writes, for metadata.managedFields: the fieldManager parameter or the User-Agent.
  schema::FieldManagerRequest fieldManager(const Call& call) const;
  // `object` with managedFields updated for an Update operation from `live` (null: a create).
  Json recordUpdate(const Call& call, const Json* live, Json object) const;
  [[nodiscard]] ApiResult<void> checkFieldSelector(const Call& call,
                                                   const ListOptions& options) const;
  [[nodiscard]] ApiResult<DeleteOptions> deleteOptions(Call& call) const;
  // Resources without storage (reviews, bindings) and subresources that are not plain reads and
  // writes of the object (binding, eviction, token, scale, ephemeralcontainers, connect).
  ApiResult<http::Response> createSubresource(Call& call);
  ApiResult<http::Response> serveSubresource(Call& call);
  // pods/{log,exec,attach,portforward} and nodes/proxy, served by the kubelet.
  static bool isKubeletSubresource(const RequestInfo& info);
  void proxyToKubelet(Call& call);
  ApiResult<std::string> kubeletUrl(const Call& call);
  ApiResult<http::Response> review(Call& call);

  ApiResult<Json> decodeBody(Call& call, const schema::ServedResource& takes) const;
  // The description's and the strategy's defaults.
  Json withDefaults(Call& call, Json object, const schema::ServedResource& takes) const;
  ApiResult<Json> applyPatch(Call& call, const BodyKind& kind, const Json& current,
                             std::string_view patch) const;

  ApiServerOptions options_;
  Registry& registry_;
  const auth::Authenticator& authenticator_;
  const auth::Authorizer& authorizer_;
  Admission& admission_;
  const Encoder& encoder_;
  SchemaHooks schema_;
  AuthHooks authHooks_;
  Metrics& metrics_;
  std::function<std::int64_t()> storageSize_;
  Discovery discovery_;
  WatchTimeouts watchTimeouts_;
  std::atomic<bool> ready_{false};
};

}  // namespace berth::controlplane::apiserver
