#pragma once
// berth-server's authentication, authorization, auth admission plugins and token endpoints,
// built from its flags and PKI out of controlplane/auth.
#include <memory>
#include <vector>

#include "controlplane/apiserver/api_server.h"
#include "controlplane/apiserver/server_admission.h"
#include "controlplane/auth/authentication.h"
#include "controlplane/auth/authorization.h"
#include "controlplane/auth/pki_store.h"
#include "controlplane/auth/service_account_token.h"
#include "controlplane/server.h"
#include "controlplane/storage/object_lookup.h"

namespace berth::controlplane {

class ServerAuth {
 public:
  [[nodiscard]] static Result<std::unique_ptr<ServerAuth>> create(
      const ServerOptions& options, const auth::ClusterPki& pki,
      const storage::ObjectLookup& lookup);

  const auth::Authenticator& authenticator() const { return *authentication_.request; }
  const auth::Authorizer& authorizer() const { return *authorization_.authorizer; }
  apiserver::AuthAdmission admission() const;
  apiserver::AuthHooks hooks() const;
  // The default RBAC objects bootstrap writes.
  std::vector<nlohmann::json> bootstrapPolicy() const;

 private:
  ServerAuth() = default;

  const storage::ObjectLookup* lookup_ = nullptr;
  std::shared_ptr<const storage::ObjectLookup> sharedLookup_;
  auth::Authentication authentication_;
  std::unique_ptr<auth::ServiceAccountTokenGenerator> tokens_;
  auth::Authorization authorization_;
};

}  // namespace berth::controlplane
