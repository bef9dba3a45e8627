#pragma once
// Proxying an exec/attach/portForward upgrade to the runtime's streaming server (the kubelet's
// proxyStream with apimachinery's UpgradeAwareHandler, its only mode since
// redirect-container-streaming was removed): the client's request, with its Upgrade,
// X-Stream-Protocol-Version and Sec-WebSocket-* headers, goes to the URL the CRI returned; the
// runtime's answer goes back, and after a 101 bytes are spliced both ways until either side ends.
#include <memory>
#include <string>

#include "common/http/server.h"
#include "common/result.h"

namespace berth::kubelet::server {

// Whether the request asks for a protocol upgrade (Connection: upgrade and an Upgrade header).
bool isUpgradeRequest(const http::Request& request);

// Serves the request through `url` ("http://host:port/path?query") for the life of the stream.
// Blocks the calling thread (the handler's) until the stream ends. Errors before anything was
// sent to the client are returned and the caller answers; afterwards they only end the stream.
[[nodiscard]] Status proxyUpgrade(const http::Request& request, http::ResponseWriter& writer,
                                  const std::string& url);

}  // namespace berth::kubelet::server
