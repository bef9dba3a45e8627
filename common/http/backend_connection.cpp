#include "common/http/backend_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "common/http/ssl_error.h"

namespace berth::http {
namespace {

constexpr int kHandshakeTimeoutSeconds = 30;
// A waiting reader looks at the TLS state again this often: the writer may have buffered bytes.
constexpr auto kPollSlice = std::chrono::milliseconds(500);

bool isIpAddress(const std::string& host) {
  in6_addr a;
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), &a) == 1;
}

// errno as Go's syscall.Errno spells it ("connection refused"), so messages read as upstream's.
std::string goErrnoText(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

std::string dialAddress(const BackendUrl& u) {
  return u.host.find(':') != std::string::npos ? fmt::format("[{}]:{}", u.host, u.port)
                                               : fmt::format("{}:{}", u.host, u.port);
}

Result<UniqueFd> connectTcp(const BackendUrl& u) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &res); rc != 0)
    return fail(Code::kUnavailable, "dial tcp: lookup {}: {}", u.host, ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, ::freeaddrinfo);
  int lastErr = 0;
  for (auto* a = res; a; a = a->ai_next) {
    UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (!fd) continue;
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) return fd;
    lastErr = errno;
  }
  return fail(Code::kUnavailable, "dial tcp {}: connect: {}", dialAddress(u), goErrnoText(lastErr));
}

void setSocketTimeouts(int fd, int seconds) {
  timeval tv{.tv_sec = seconds, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

Result<SSL_CTX*> clientContext(const ClientTlsConfig& tls) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return fail(Code::kInternal, "TLS context: {}", sslErrorText());
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> guard(ctx, SSL_CTX_free);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Retries after WANT_* come back with what is left, not the same buffer.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (!tls.caFile.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, tls.caFile.c_str(), nullptr) != 1)
      return fail(Code::kInvalidArgument, "CA file {}: {}", tls.caFile, sslErrorText());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  if (!tls.certFile.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, tls.certFile.c_str()) != 1)
      return fail(Code::kInvalidArgument, "client certificate {}: {}", tls.certFile,
                  sslErrorText());
    if (SSL_CTX_use_PrivateKey_file(ctx, tls.keyFile.c_str(), SSL_FILETYPE_PEM) != 1)
      return fail(Code::kInvalidArgument, "client key {}: {}", tls.keyFile, sslErrorText());
  }
  static const unsigned char kAlpn[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn - 1);
  return guard.release();
}

}  // namespace

Result<BackendUrl> parseBackendUrl(std::string_view url) {
  BackendUrl u;
  if (url.starts_with("https://")) {
    u.tls = true;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return fail(Code::kUnimplemented, "backend URL {:?}: only http and https are supported", url);
  }
  auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  u.pathAndQuery = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  u.hostHeader = std::string(authority);
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return fail(Code::kInvalidArgument, "backend URL {:?}: bad host", url);
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (rest.starts_with(':')) u.port = std::string(rest.substr(1));
  } else {
    auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) u.port = std::string(authority.substr(colon + 1));
  }
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  return u;
}

Result<std::unique_ptr<BackendConnection>> BackendConnection::dial(const BackendUrl& url,
                                                                   const ClientTlsConfig* tls) {
  auto fd = BERTH_TRY(connectTcp(url));
  if (!url.tls) {
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK);
    return std::unique_ptr<BackendConnection>(
        new BackendConnection(std::move(fd), nullptr, nullptr));
  }
  static const ClientTlsConfig kNoVerify;
  SSL_CTX* ctx = BERTH_TRY(clientContext(tls ? *tls : kNoVerify));
  SSL* ssl = SSL_new(ctx);
  std::unique_ptr<BackendConnection> conn(new BackendConnection(std::move(fd), ctx, ssl));
  if (!ssl) return fail(Code::kInternal, "TLS session: {}", sslErrorText());
  if (isIpAddress(url.host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, url.host.c_str());
    SSL_set1_host(ssl, url.host.c_str());
  }
  int raw = conn->fd_.get();
  SSL_set_fd(ssl, raw);
  setSocketTimeouts(raw, kHandshakeTimeoutSeconds);
  if (SSL_connect(ssl) != 1) {
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      return fail(Code::kUnavailable, "tls: failed to verify certificate: {}",
                  X509_verify_cert_error_string(verify));
    }
    return fail(Code::kUnavailable, "TLS handshake with {}: {}", dialAddress(url), sslErrorText());
  }
  setSocketTimeouts(raw, 0);
  ::fcntl(raw, F_SETFL, ::fcntl(raw, F_GETFL) | O_NONBLOCK);
  return conn;
}

BackendConnection::~BackendConnection() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
}

bool BackendConnection::wait(short events,
                             std::optional<std::chrono::steady_clock::time_point> deadline) {
  if (shut_) return false;
  auto slice = kPollSlice;
  if (deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        *deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    slice = std::min(slice, left);
  }
  pollfd p{.fd = fd_.get(), .events = events, .revents = 0};
  ::poll(&p, 1, static_cast<int>(slice.count()));
  return !shut_;
}

Result<std::size_t> BackendConnection::read(std::span<char> buffer,
                                            std::optional<std::chrono::milliseconds> timeout) {
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (timeout) deadline = std::chrono::steady_clock::now() + *timeout;
  while (true) {
    if (shut_) return 0;
    short events = POLLIN;
    if (!ssl_) {
      auto n = ::read(fd_.get(), buffer.data(), buffer.size());
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EAGAIN && errno != EINTR) return failErrno("read from backend");
    } else {
      std::lock_guard lock(sslMu_);
      int n = SSL_read(ssl_, buffer.data(), static_cast<int>(buffer.size()));
      if (n > 0) return static_cast<std::size_t>(n);
      int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
        return 0;
      if (err == SSL_ERROR_WANT_WRITE)
        events = POLLOUT;
      else if (err != SSL_ERROR_WANT_READ)
        return fail(Code::kUnavailable, "read from backend: {}", sslErrorText());
    }
    if (!wait(events, deadline)) {
      if (shut_) return 0;
      return fail(Code::kDeadlineExceeded, "backend did not answer in time");
    }
  }
}

Status BackendConnection::writeAll(std::string_view data) {
  while (!data.empty()) {
    if (shut_) return fail(Code::kUnavailable, "write to backend: connection closed");
    short events = POLLOUT;
    if (!ssl_) {
      auto n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR) return failErrno("write to backend");
    } else {
      std::lock_guard lock(sslMu_);
      int n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_WANT_READ)
        events = POLLIN;
      else if (err != SSL_ERROR_WANT_WRITE)
        return fail(Code::kUnavailable, "write to backend: {}", sslErrorText());
    }
    wait(events, std::nullopt);
  }
  return {};
}

void BackendConnection::shutdown() {
  shut_ = true;
  ::shutdown(fd_.get(), SHUT_RDWR);
}

}  // namespace berth::http
