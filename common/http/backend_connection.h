#pragma once
// A client connection to a backend a server proxies to (berth-server to a kubelet, the kubelet to
// the runtime's streaming server): TCP, or TLS with an optional client certificate. One thread
// may read while another writes, as a splice needs; TLS calls are serialized inside.
#include <openssl/types.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"

namespace berth::http {

struct ClientTlsConfig {
  // PEM bundle the backend's serving certificate must chain to, its name or address checked;
  // empty: not verified (kube-apiserver without --kubelet-certificate-authority).
  std::string caFile;
  std::string certFile;  // client certificate (PEM); empty: none
  std::string keyFile;
};

// "http://host:port/path?query" or "https://...", split for dialing.
struct BackendUrl {
  bool tls = false;
  std::string host;  // without brackets
  std::string port;
  std::string pathAndQuery;
  std::string hostHeader;
};
[[nodiscard]] Result<BackendUrl> parseBackendUrl(std::string_view url);

class BackendConnection {
 public:
  // Connects (and for https, handshakes with `tls`, which must be given). Errors read as Go's
  // dialer does ("dial tcp 127.0.0.1:10250: connect: connection refused").
  [[nodiscard]] static Result<std::unique_ptr<BackendConnection>> dial(const BackendUrl& url,
                                                                       const ClientTlsConfig* tls);
  ~BackendConnection();
  BackendConnection(const BackendConnection&) = delete;
  BackendConnection& operator=(const BackendConnection&) = delete;

  // What is available, at least a byte; 0 at the end of the stream or after shutdown().
  // kDeadlineExceeded after `timeout` without a byte.
  [[nodiscard]] Result<std::size_t> read(
      std::span<char> buffer, std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  [[nodiscard]] Status writeAll(std::string_view data);
  // Unblocks a reader and a writer and ends the connection; any thread.
  void shutdown();

 private:
  BackendConnection(UniqueFd fd, SSL_CTX* ctx, SSL* ssl)
      : fd_(std::move(fd)), ctx_(ctx), ssl_(ssl) {}
  // Waits for `events` on the socket; false once shut down or past `deadline`.
  bool wait(short events, std::optional<std::chrono::steady_clock::time_point> deadline);

  UniqueFd fd_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;  // null for plain TCP
  std::mutex sslMu_;
  std::atomic<bool> shut_{false};
};

}  // namespace berth::http
