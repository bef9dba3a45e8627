#include "controlplane/server_auth.h"

#include "common/file_util.h"
#include "controlplane/auth/access_review.h"
#include "controlplane/auth/bootstrap_policy.h"
#include "controlplane/auth/node_restriction.h"
#include "controlplane/auth/token_request.h"
#include "controlplane/auth/token_review.h"

namespace berth::controlplane {
namespace {

using apiserver::ApiError;
using apiserver::ApiResult;
using apiserver::Json;

// controlplane/auth's errors carry the Status message; the code says which Status.
ApiError statusOf(const Error& e) {
  ApiError status;
  status.message = e.message();
  switch (e.code()) {
    case Code::kNotFound:
      status.code = 404;
      status.reason = "NotFound";
      break;
    case Code::kInvalidArgument:
      status.code = 422;
      status.reason = "Invalid";
      break;
    case Code::kFailedPrecondition:
      status.code = 400;
      status.reason = "BadRequest";
      break;
    case Code::kAborted:
      status.code = 409;
      status.reason = "Conflict";
      break;
    case Code::kPermissionDenied:
      status.code = 403;
      status.reason = "Forbidden";
      break;
    default:
      return kubeapi::internalErrorStatus(e.message());
  }
  return status;
}

template <class T>
ApiResult<T> apiResult(Result<T> r) {
  if (!r) return std::unexpected(statusOf(r.error()));
  return std::move(*r);
}

// A lookup the auth layer may share ownership of; the server owns the real one.
class BorrowedLookup final : public storage::ObjectLookup {
 public:
  explicit BorrowedLookup(const storage::ObjectLookup& lookup) : lookup_(lookup) {}
  storage::ObjectPtr get(std::string_view group, std::string_view resource, std::string_view ns,
                         std::string_view name) const override {
    return lookup_.get(group, resource, ns, name);
  }
  std::vector<storage::ObjectPtr> list(std::string_view group, std::string_view resource,
                                       std::string_view ns) const override {
    return lookup_.list(group, resource, ns);
  }

 private:
  const storage::ObjectLookup& lookup_;
};

auth::AdmissionOperation operationOf(const std::string& op) {
  if (op == "CREATE") return auth::AdmissionOperation::kCreate;
  if (op == "UPDATE") return auth::AdmissionOperation::kUpdate;
  if (op == "DELETE") return auth::AdmissionOperation::kDelete;
  return auth::AdmissionOperation::kConnect;
}

std::string nameOf(const apiserver::AdmissionAttributes& a, const Json* object) {
  if (!a.info.name.empty()) return a.info.name;
  if (object && object->contains("metadata") && (*object)["metadata"].contains("name")) {
    return (*object)["metadata"].value("name", "");
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<ServerAuth>> ServerAuth::create(const ServerOptions& options,
                                                       const auth::ClusterPki& pki,
                                                       const storage::ObjectLookup& lookup) {
  auto server = std::unique_ptr<ServerAuth>(new ServerAuth());
  server->lookup_ = &lookup;
  server->sharedLookup_ = std::make_shared<BorrowedLookup>(lookup);

  auth::AuthenticationOptions authn;
  authn.clientCertificates = true;
  if (!options.tokenAuthFile.empty()) authn.tokenAuthFile = options.tokenAuthFile;
  authn.bootstrapTokens = true;
  if (options.serviceAccountKeyFiles.empty()) {
    authn.serviceAccountKeys.push_back(pki.serviceAccountKey.publicKey());
  }
  for (const std::string& file : options.serviceAccountKeyFiles) {
    std::string pem = BERTH_TRY_CTX(readFile(file), "--service-account-key-file " + file);
    auto keys =
        BERTH_TRY_CTX(auth::PublicKey::allFromPem(pem), "--service-account-key-file " + file);
    for (auto& k : keys)
      authn.serviceAccountKeys.push_back(std::move(k));
  }
  authn.serviceAccountIssuers = {options.serviceAccountIssuer};
  authn.apiAudiences = options.apiAudiences;
  authn.anonymous = options.anonymousAuth;
  authn.lookup = server->sharedLookup_;
  server->authentication_ = BERTH_TRY(auth::buildAuthentication(authn));

  auth::KeyPair signingKey = pki.serviceAccountKey;
  if (!options.serviceAccountSigningKeyFile.empty()) {
    std::string pem = BERTH_TRY_CTX(readFile(options.serviceAccountSigningKeyFile),
                                    "--service-account-signing-key-file");
    signingKey = BERTH_TRY_CTX(auth::KeyPair::fromPem(pem), "--service-account-signing-key-file");
  }
  server->tokens_ = std::make_unique<auth::ServiceAccountTokenGenerator>(BERTH_TRY(
      auth::ServiceAccountTokenGenerator::create(options.serviceAccountIssuer, signingKey)));

  auto modes = BERTH_TRY_CTX(auth::parseAuthorizationModes(options.authorizationMode),
                             "--authorization-mode");
  server->authorization_ = auth::buildAuthorization(modes, server->sharedLookup_);
  return server;
}

apiserver::AuthAdmission ServerAuth::admission() const {
  apiserver::AuthAdmission admission;
  admission.nodeRestriction = [this](const apiserver::AdmissionAttributes& a, const Json* object,
                                     const Json* old) -> std::optional<ApiError> {
    auth::AdmissionRequest request;
    request.user = a.user;
    request.operation = operationOf(a.operation);
    request.group = a.info.apiGroup;
    request.resource = a.info.resource;
    request.subresource = a.info.subresource;
    request.namespace_ = a.info.namespace_;
    request.name = nameOf(a, object);
    request.object = object;
    request.oldObject = old;
    auto admitted = auth::admitNodeRestriction(request, *lookup_);
    if (!admitted) return statusOf(admitted.error());
    return std::nullopt;
  };
  if (authorization_.escalation) {
    admission.rbacEscalation = [this](const apiserver::AdmissionAttributes& a, const Json& object,
                                      const Json* old) -> std::optional<ApiError> {
      const std::string& resource = a.info.resource;
      Status checked;
      if (resource == "roles" || resource == "clusterroles") {
        checked = authorization_.escalation->checkRoleWrite(a.user, resource, a.info.namespace_,
                                                            object, old);
      } else if (resource == "rolebindings" || resource == "clusterrolebindings") {
        checked = authorization_.escalation->checkBindingWrite(a.user, resource, a.info.namespace_,
                                                               object, old);
      }
      if (!checked) return statusOf(checked.error());
      return std::nullopt;
    };
  }
  return admission;
}

apiserver::AuthHooks ServerAuth::hooks() const {
  apiserver::AuthHooks hooks;
  hooks.issueToken = [this](const std::string& ns, const std::string& name, Json request,
                            std::vector<std::string>& warnings) -> ApiResult<Json> {
    auth::TokenRequestOptions options;
    options.apiAudiences = authentication_.apiAudiences;
    auto issued = auth::issueTokenRequest(*tokens_, *lookup_, ns, name, std::move(request), options,
                                          std::chrono::system_clock::now());
    if (!issued) return std::unexpected(statusOf(issued.error()));
    for (auto& w : issued->warnings)
      warnings.push_back(std::move(w));
    return std::move(issued->tokenRequest);
  };
  hooks.review = [this](const std::string& resource, const auth::UserInfo& user,
                        const std::string& ns, Json review) -> ApiResult<Json> {
    const auth::Authorizer& authorizer = *authorization_.authorizer;
    if (resource == "selfsubjectaccessreviews") {
      return apiResult(auth::reviewSelfSubjectAccess(authorizer, user, std::move(review)));
    }
    if (resource == "subjectaccessreviews") {
      return apiResult(auth::reviewSubjectAccess(authorizer, std::move(review)));
    }
    if (resource == "localsubjectaccessreviews") {
      return apiResult(auth::reviewLocalSubjectAccess(authorizer, ns, std::move(review)));
    }
    if (resource == "selfsubjectrulesreviews") {
      return apiResult(
          auth::reviewSelfSubjectRules(*authorization_.rules, user, std::move(review)));
    }
    if (resource == "tokenreviews") {
      return apiResult(auth::reviewToken(authentication_, std::move(review)));
    }
    if (resource == "selfsubjectreviews") return auth::reviewSelf(user, std::move(review));
    return std::unexpected(apiserver::pathNotFound());
  };
  return hooks;
}

std::vector<Json> ServerAuth::bootstrapPolicy() const {
  const auth::BootstrapPolicy& policy = auth::bootstrapPolicy();
  std::vector<Json> objects;
  for (const auto* list :
       {&policy.clusterRoles, &policy.clusterRoleBindings, &policy.roles, &policy.roleBindings}) {
    objects.insert(objects.end(), list->begin(), list->end());
  }
  // Kubelet TLS bootstrap with bootstrap tokens works out of the box, as in k3s.
  const auto& tls = auth::tlsBootstrapClusterRoleBindings();
  objects.insert(objects.end(), tls.begin(), tls.end());
  return objects;
}

}  // namespace berth::controlplane
