#pragma once
// User impersonation (Impersonate-User, -Group, -Uid, -Extra-<key> headers), as the apiserver's
// WithImpersonation filter: the requester must be allowed the `impersonate` verb on each
// (users, groups, serviceaccounts, uids, userextras/<key>); the request then runs as the user it
// names. `kubectl --as` and `kubectl auth can-i --as` use it.
#include <optional>

#include "common/http/server.h"
#include "controlplane/apiserver/api_error.h"
#include "controlplane/auth/authorizer.h"

namespace berth::controlplane::apiserver {

// The user the request acts as: `user` itself when no Impersonate-* header is present.
[[nodiscard]] ApiResult<auth::UserInfo> impersonate(const http::Request& request,
                                                    const auth::UserInfo& user,
                                                    const auth::Authorizer& authorizer);

}  // namespace berth::controlplane::apiserver
