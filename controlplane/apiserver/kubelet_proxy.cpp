// Serving pods/log, exec, attach, portforward and nodes/proxy through the node's kubelet, as
// kube-apiserver does (its LocationStreamer for logs, UpgradeAwareHandler for the rest), with the
// server's kubelet client certificate.
#include <thread>

#include <fmt/format.h>

#include "common/http/stream_proxy.h"
#include "controlplane/apiserver/api_call.h"
#include "controlplane/apiserver/json_fields.h"
#include "controlplane/server_log.h"

namespace berth::controlplane::apiserver {

bool ApiServer::isKubeletSubresource(const RequestInfo& info) {
  if (!info.apiGroup.empty() || info.name.empty()) return false;
  const std::string& sub = info.subresource;
  if (info.resource == "pods")
    return sub == "log" || sub == "exec" || sub == "attach" || sub == "portforward";
  return info.resource == "nodes" && sub == "proxy";
}

ApiResult<std::string> ApiServer::kubeletUrl(const Call& call) {
  const RequestInfo& info = call.info;
  std::string nodeName = info.name;
  std::string path;
  if (info.resource == "pods") {
    auto pod = BERTH_TRY(registry_.store("", "pods")->get(info.namespace_, info.name));
    const Json& json = pod->json();
    nodeName = jsonString(jsonField(json, "spec"), "nodeName");
    if (info.subresource == "log") {
      path = BERTH_TRY(podLogPath(json, call.request.query));
      if (nodeName.empty()) return std::string();  // not scheduled yet: an empty log
    } else {
      path = BERTH_TRY(podStreamPath(json, info.subresource, call.request.query));
    }
  } else {
    std::vector<std::string> rest(info.parts.begin() + std::min<std::size_t>(3, info.parts.size()),
                                  info.parts.end());
    path = nodeProxyPath(rest, call.request.path.ends_with('/'), call.request.rawQuery);
  }
  auto node = BERTH_TRY(registry_.store("", "nodes")->get("", nodeName));
  return BERTH_TRY(kubeletBaseUrl(node->json(), options_.kubeletAddressTypes)) + path;
}

namespace {

bool isFollowedLog(const RequestInfo& info, const http::Request& request) {
  auto follow = request.queryParam("follow");
  return info.subresource == "log" && follow && (*follow == "true" || *follow == "1");
}

// Serves the request through the kubelet; a failure before anything reached the client is
// answered as upstream's responder reports it.
void proxy(const http::Request& request, http::ResponseWriter& writer, const std::string& url,
           const http::ClientTlsConfig& tls) {
  Status proxied = http::isUpgradeRequest(request) ? http::proxyUpgrade(request, writer, url, &tls)
                                                   : http::proxyRequest(request, writer, url, &tls);
  if (proxied || writer.closed()) return;
  serverLogger()->warn("kubelet proxy [{} {}]: {}", request.method, url, proxied.error().message());
  kubeapi::ApiStatus status;
  status.code = 500;
  status.message = fmt::format("error dialing backend: {}", proxied.error().message());
  writer.respond(statusResponse(status));
}

}  // namespace

void ApiServer::proxyToKubelet(Call& call) {
  http::ResponseWriter& writer = *call.writer;
  auto url = kubeletUrl(call);
  if (!url) return writer.respond(statusResponse(url.error()));
  if (url->empty()) {
    return writer.respond({.status = 200, .headers = {{"Content-Type", "text/plain"}}});
  }
  if (isFollowedLog(call.info, call.request)) {
    // A followed log lasts as long as the container: it keeps a thread of its own, as an upgraded
    // stream does, instead of a worker; the client going away ends it (onClose).
    std::thread([request = call.request, writer = call.writer, url = std::move(*url),
                 tls = options_.kubeletTls] {
      proxy(request, *writer, url, tls);
    }).detach();
    return;
  }
  proxy(call.request, writer, *url, options_.kubeletTls);
}

}  // namespace berth::controlplane::apiserver
