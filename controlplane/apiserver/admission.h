#pragma once
// Admission control (k8s.io/apiserver's admission.Interface): the server's plugins, run at the
// points the store offers (WriteHooks for create and update, a hook for delete). A plugin may
// change the object (mutating) or refuse the request with the upstream plugin's error.
#include <functional>
#include <optional>
#include <string>

#include "controlplane/apiserver/api_error.h"
#include "controlplane/apiserver/request_info.h"
#include "controlplane/apiserver/resource_store.h"
#include "controlplane/auth/user.h"

namespace berth::controlplane::apiserver {

struct AdmissionAttributes {
  const RequestInfo& info;
  const auth::UserInfo& user;
  std::string operation;  // CREATE, UPDATE, DELETE, CONNECT
  bool dryRun = false;
};

class Admission {
 public:
  virtual ~Admission() = default;
  virtual WriteHooks hooksFor(const AdmissionAttributes& attributes) = 0;
  virtual std::function<std::optional<ApiError>(const Json& object)> deleteHookFor(
      const AdmissionAttributes& attributes) = 0;
  // Requests that are neither writes nor deletes of a stored object (CONNECT: exec, attach,
  // portforward, proxy; subresource creates like eviction and binding) get this check.
  virtual std::optional<ApiError> admitOther(const AdmissionAttributes& /*attributes*/,
                                             const Json* /*object*/) {
    return std::nullopt;
  }
};

}  // namespace berth::controlplane::apiserver
