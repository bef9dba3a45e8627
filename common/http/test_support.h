#pragma once
// For the HTTP server's tests (and other tests of servers built on it): certificates made with
// openssl at test time, a libcurl request helper, and a raw TCP client for what curl won't send
// (half a request line, pipelined requests, frames).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <curl/curl.h>
#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/http/server.h"
#include "common/spawn.h"
#include "common/temp_dir_for_test.h"
#include "common/unique_fd.h"

namespace berth::http::testing {

// A server on the options' address (an ephemeral loopback port by default), or null with the
// test marked failed.
inline std::unique_ptr<Server> startServer(Handler handler, ServerOptions o = {}) {
  auto s = Server::start(std::move(o), std::move(handler));
  EXPECT_TRUE(s) << s.error().message();
  return s ? std::move(*s) : nullptr;
}

// A CA, a server certificate for 127.0.0.1 and localhost, a client certificate from the CA
// (CN=alice, O=dev, O=ops), and a client certificate from a CA the server does not trust.
class Certificates {
 public:
  Certificates() : dir_("berth-http-certs") {}

  Status make() {
    BERTH_TRY(
        writeFile(p("server.cnf"),
                  "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"));
    BERTH_TRY(writeFile(p("client.cnf"), "extendedKeyUsage=clientAuth\n"));
    BERTH_TRY(ca("ca", "/CN=berth test CA"));
    BERTH_TRY(ca("rogue-ca", "/CN=someone else's CA"));
    BERTH_TRY(leaf("server", "/CN=127.0.0.1", "ca", "server.cnf"));
    BERTH_TRY(leaf("client", "/O=dev/O=ops/CN=alice", "ca", "client.cnf"));
    BERTH_TRY(leaf("rogue", "/O=system:masters/CN=mallory", "rogue-ca", "client.cnf"));
    BERTH_TRY(leaf("rogue-server", "/CN=127.0.0.1", "rogue-ca", "server.cnf"));
    return {};
  }
  std::string p(const std::string& name) const { return (dir_.path() / name).string(); }
  std::string caFile() const { return p("ca.pem"); }

 private:
  static Status run(std::vector<std::string> args) {
    SpawnOptions o{.path = "openssl", .args = std::move(args)};
    o.captureStdout = o.captureStderr = true;
    o.timeout = std::chrono::seconds(60);
    auto r = BERTH_TRY(runProgram(o));
    if (!r.status.success()) return fail(Code::kInternal, "openssl: {}", r.stderrData);
    return {};
  }
  Status ca(const std::string& name, const std::string& subject) {
    return run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", p(name + ".key"), "-out",
                p(name + ".pem"), "-days", "2", "-subj", subject});
  }
  Status leaf(const std::string& name, const std::string& subject, const std::string& ca,
              const std::string& ext) {
    BERTH_TRY(
        run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", p(name + ".key"), "-out", p(name + ".csr"), "-subj", subject}));
    return run({"openssl", "x509", "-req", "-in", p(name + ".csr"), "-CA", p(ca + ".pem"), "-CAkey",
                p(ca + ".key"), "-CAcreateserial", "-out", p(name + ".pem"), "-days", "2",
                "-extfile", p(ext)});
  }
  berth::testing::TempDir dir_;
};

struct FetchOptions {
  std::string method = "GET";
  std::optional<std::string> body;
  std::vector<std::string> headers;  // "Name: value"
  long httpVersion = CURL_HTTP_VERSION_1_1;
  std::string caFile;    // https: the CA to verify the server with
  std::string certFile;  // https: a client certificate
  std::string keyFile;
  // Called with each piece of the body; false aborts the transfer.
  std::function<bool(std::string_view)> onData;
  long timeoutSeconds = 30;
};

struct Fetched {
  CURLcode code = CURLE_OK;
  std::string error;
  long status = 0;
  long httpVersion = 0;  // CURL_HTTP_VERSION_*
  long connects = 0;     // new connections this transfer made (0: one was reused)
  std::multimap<std::string, std::string> headers;  // lower-cased names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// One easy handle; reusing it reuses its connection (keep-alive).
class Curl {
 public:
  Curl() : h_(curl_easy_init()) {}
  ~Curl() { curl_easy_cleanup(h_); }
  Curl(const Curl&) = delete;
  Curl& operator=(const Curl&) = delete;

  Fetched fetch(const std::string& url, const FetchOptions& o = {}) {
    Fetched f;
    Context ctx{&f, &o};
    char error[CURL_ERROR_SIZE] = {};
    curl_easy_reset(h_);
    curl_easy_setopt(h_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h_, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(h_, CURLOPT_HTTP_VERSION, o.httpVersion);
    curl_easy_setopt(h_, CURLOPT_TIMEOUT, o.timeoutSeconds);
    curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
    if (o.method == "HEAD")
      curl_easy_setopt(h_, CURLOPT_NOBODY, 1L);
    else
      curl_easy_setopt(h_, CURLOPT_CUSTOMREQUEST, o.method.c_str());
    if (o.body) {
      curl_easy_setopt(h_, CURLOPT_POSTFIELDS, o.body->data());
      curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(o.body->size()));
    }
    curl_slist* headers = nullptr;
    for (const auto& h : o.headers)
      headers = curl_slist_append(headers, h.c_str());
    curl_easy_setopt(h_, CURLOPT_HTTPHEADER, headers);
    if (!o.caFile.empty()) curl_easy_setopt(h_, CURLOPT_CAINFO, o.caFile.c_str());
    if (!o.certFile.empty()) {
      curl_easy_setopt(h_, CURLOPT_SSLCERT, o.certFile.c_str());
      curl_easy_setopt(h_, CURLOPT_SSLKEY, o.keyFile.c_str());
    }
    curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, &Curl::onBody);
    curl_easy_setopt(h_, CURLOPT_WRITEDATA, &ctx);
    curl_easy_setopt(h_, CURLOPT_HEADERFUNCTION, &Curl::onHeader);
    curl_easy_setopt(h_, CURLOPT_HEADERDATA, &ctx);
    f.code = curl_easy_perform(h_);
    f.error = error[0] ? error : curl_easy_strerror(f.code);
    curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &f.status);
    curl_easy_getinfo(h_, CURLINFO_HTTP_VERSION, &f.httpVersion);
    curl_easy_getinfo(h_, CURLINFO_NUM_CONNECTS, &f.connects);
    curl_slist_free_all(headers);
    return f;
  }

 private:
  struct Context {
    Fetched* out;
    const FetchOptions* options;
  };
  static size_t onBody(char* data, size_t size, size_t n, void* user) {
    auto* c = static_cast<Context*>(user);
    std::string_view piece(data, size * n);
    c->out->body += piece;
    if (c->options->onData && !c->options->onData(piece)) return 0;
    return size * n;
  }
  static size_t onHeader(char* data, size_t size, size_t n, void* user) {
    auto* c = static_cast<Context*>(user);
    std::string line(data, size * n);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (auto& ch : name)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' '))
        value.erase(0, 1);
      while (!value.empty() && (value.back() == '\n' || value.back() == '\r'))
        value.pop_back();
      c->out->headers.emplace(name, value);
    }
    return size * n;
  }
  CURL* h_;
};

// A plain TCP client on 127.0.0.1.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  bool connected() const { return connected_; }
  int fd() const { return fd_.get(); }
  bool send(std::string_view bytes) { return writeAll(fd_.get(), bytes).has_value(); }
  // Everything until the server closes, or until `deadline` passes (then nullopt).
  std::optional<std::string> readToEnd(
      std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
    std::string out;
    auto end = std::chrono::steady_clock::now() + deadline;
    char buf[16384];
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      ssize_t n = ::read(fd_.get(), buf, sizeof buf);
      if (n <= 0) return out;  // EOF, or a reset: the server is done with us
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  // Reads until `text` has arrived (or EOF/deadline); returns what was read.
  std::string readUntil(std::string_view text,
                        std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
    auto end = std::chrono::steady_clock::now() + deadline;
    char buf[16384];
    while (buffered_.find(text) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      ssize_t n = ::read(fd_.get(), buf, sizeof buf);
      if (n <= 0) break;
      buffered_.append(buf, static_cast<std::size_t>(n));
    }
    std::size_t at = buffered_.find(text);
    std::size_t take = at == std::string::npos ? buffered_.size() : at + text.size();
    std::string out = buffered_.substr(0, take);
    buffered_.erase(0, take);
    return out;
  }
  std::string buffered() const { return buffered_; }

 private:
  UniqueFd fd_;
  bool connected_ = false;
  std::string buffered_;
};

// Polls `condition` until it holds or `deadline` passes.
inline bool waitUntil(const std::function<bool()>& condition,
                      std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace berth::http::testing
