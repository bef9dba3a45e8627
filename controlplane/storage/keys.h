#pragma once
// Where an object lives in the store: "/registry/<resource>[.<group>]/[<namespace>/]<name>"
// ("/registry/pods/default/web-1", "/registry/deployments.apps/default/web",
// "/registry/nodes/n1"). A prefix ends with '/', so "/registry/pods/" never matches
// "/registry/podtemplates/...".
#include <string>
#include <string_view>

namespace berth::controlplane::storage {

// Every object of a resource: "/registry/pods/".
std::string resourcePrefix(std::string_view group, std::string_view resource);
// The objects of one namespace: "/registry/pods/default/"; `ns` empty: resourcePrefix.
std::string namespacePrefix(std::string_view group, std::string_view resource, std::string_view ns);
// One object; `ns` empty for a cluster-scoped one.
std::string objectKey(std::string_view group, std::string_view resource, std::string_view ns,
                      std::string_view name);

}  // namespace berth::controlplane::storage
