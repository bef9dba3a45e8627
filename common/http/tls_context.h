#pragma once
// TLS for the server in one place: the context built from TlsServerConfig (TLS 1.2 and later,
// the serving chain and key, client certificates asked for and verified against the client CA
// when one is given: RequestClientCert + VerifyClientCertIfGiven, so no certificate is fine and a
// bad one fails the handshake), ALPN ("h2" when enabled, then "http/1.1"), and what a finished
// handshake tells about the peer.
#include <memory>
#include <optional>
#include <string>

#include "common/http/asio.h"
#include "common/http/server.h"
#include "common/result.h"

namespace berth::http {

// `offerHttp2`: whether ALPN may pick "h2" (TlsServerConfig::enableHttp2 and a server that
// speaks it).
[[nodiscard]] Result<std::unique_ptr<net::ssl::context>> makeTlsContext(
    const TlsServerConfig& config, bool offerHttp2);

// The verified client certificate of a finished handshake; nullopt when the client sent none.
std::optional<PeerCertificate> peerCertificate(SSL* ssl);

// The bytes of a close_notify alert for an established connection, taken from OpenSSL before
// they reach Asio's engine, so the write side can be shut while a read is in flight (Asio's
// async_shutdown would read too). SSL_write fails from then on; SSL_read carries on.
std::string closeNotify(SSL* ssl);

// The protocol ALPN agreed on ("h2", "http/1.1"), empty when the client offered none.
std::string alpnProtocol(SSL* ssl);

}  // namespace berth::http
