#pragma once
// Proxying a request to a backend, as apimachinery's UpgradeAwareHandler does for the kubelet
// (to the runtime's streaming server) and for kube-apiserver (to the kubelet): an upgrade
// (exec/attach/portForward over SPDY or WebSocket) goes with its Upgrade,
// X-Stream-Protocol-Version and Sec-WebSocket-* headers, the backend's answer comes back, and
// after a 101 bytes are spliced both ways until either side ends. Any other request is sent on and
// the backend's response streamed back as it comes (a followed log never ends on its own).
#include <memory>
#include <string>

#include "common/http/backend_connection.h"
#include "common/http/server.h"
#include "common/result.h"

namespace berth::http {

// Whether the request asks for a protocol upgrade (Connection: upgrade and an Upgrade header).
bool isUpgradeRequest(const http::Request& request);

// Serves the request through `url` ("http[s]://host:port/path?query") for the life of the stream;
// `tls` is for https (null: no client certificate, the server's not verified).
// Blocks the calling thread (the handler's) until the stream ends. Errors before anything was
// sent to the client are returned and the caller answers; afterwards they only end the stream.
[[nodiscard]] Status proxyUpgrade(const Request& request, ResponseWriter& writer,
                                  const std::string& url, const ClientTlsConfig* tls = nullptr);

// A GET (or any request without an upgrade) through `url`, its body sent along, the response
// streamed back (Transfer-Encoding: chunked towards the client). Same blocking and error rules.
[[nodiscard]] Status proxyRequest(const Request& request, ResponseWriter& writer,
                                  const std::string& url, const ClientTlsConfig* tls = nullptr);

}  // namespace berth::http
