// Serving pods/log, exec, attach, portforward and nodes/proxy through the node's kubelet, as
// kube-apiserver does (its LocationStreamer for logs, UpgradeAwareHandler for the rest), with the
// server's kubelet client certificate.
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

void ApiServer::proxyToKubelet(Call& call) {
  http::ResponseWriter& writer = *call.writer;
  auto url = kubeletUrl(call);
  if (!url) return writer.respond(statusResponse(url.error()));
  if (url->empty())
    return writer.respond({.status = 200, .headers = {{"Content-Type", "text/plain"}}});
  const http::ClientTlsConfig* tls = &options_.kubeletTls;
  Status proxied = http::isUpgradeRequest(call.request)
                       ? http::proxyUpgrade(call.request, writer, *url, tls)
                       : http::proxyRequest(call.request, writer, *url, tls);
  if (proxied || writer.closed()) return;
  serverLogger()->warn("kubelet proxy [{} {}]: {}", call.request.method, *url,
                       proxied.error().message());
  // A failure before anything reached the client, as upstream's responder reports it.
  kubeapi::ApiStatus status;
  status.code = 500;
  status.message = fmt::format("error dialing backend: {}", proxied.error().message());
  writer.respond(statusResponse(status));
}

}  // namespace berth::controlplane::apiserver
