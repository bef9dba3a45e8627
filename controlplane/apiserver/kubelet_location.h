#pragma once
// Where kube-apiserver sends a pod's log, exec, attach and portforward subresources and a node's
// proxy: the kubelet's URL built from the Node (status.addresses, daemonEndpoints) and the path
// and query the kubelet API takes (pkg/registry/core/pod/strategy.go LogLocation,
// streamLocation, PortForwardLocation; pkg/registry/core/node/strategy.go ResourceLocation).
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include "controlplane/apiserver/api_error.h"

namespace berth::controlplane::apiserver {

using Json = nlohmann::json;
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// k3s's order; kube-apiserver's default is Hostname,InternalDNS,InternalIP,ExternalDNS,ExternalIP,
// which needs node names that resolve (--kubelet-preferred-address-types either way).
inline const std::vector<std::string> kDefaultKubeletAddressTypes = {"InternalIP", "ExternalIP",
                                                                     "Hostname"};

// "https://<address>:<kubeletEndpoint port>" of the first address of a preferred type, or 500
// "no preferred addresses found; known addresses: [...]".
[[nodiscard]] ApiResult<std::string> kubeletBaseUrl(const Json& node,
                                                    const std::vector<std::string>& addressTypes);

// The container a request names, or the pod's only container; 400 with upstream's messages.
[[nodiscard]] ApiResult<std::string> podContainer(const Json& pod, std::string_view container);

// "/containerLogs/{ns}/{pod}/{container}?follow=true&..." from pods/log's query (PodLogOptions).
[[nodiscard]] ApiResult<std::string> podLogPath(const Json& pod, const QueryParams& query);

// "/exec/..." or "/attach/{ns}/{pod}/{container}?input=1&output=1&..." (PodExecOptions,
// PodAttachOptions), or "/portForward/{ns}/{pod}"; `subresource` is exec, attach or portforward.
[[nodiscard]] ApiResult<std::string> podStreamPath(const Json& pod, std::string_view subresource,
                                                   const QueryParams& query);

// "/{rest}?{rawQuery}" for nodes/{name}/proxy/{rest...}.
std::string nodeProxyPath(const std::vector<std::string>& rest, bool trailingSlash,
                          std::string_view rawQuery);

}  // namespace berth::controlplane::apiserver
