#pragma once
// The resources issue 13 has berth-server serve, declared as kube-apiserver 1.32 declares them:
// the tests of the derivations and the OpenAPI check run against this list. berth-server's own
// list lives in controlplane/apiserver; this one is a test fixture it may start from.
#include <vector>

#include "controlplane/schema/served.h"

namespace berth::controlplane::schema {

std::vector<ServedResource> servedFixture();

}  // namespace berth::controlplane::schema
