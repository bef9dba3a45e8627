#pragma once
// The API client's transfers: one libcurl multi handle driven by one I/O thread, so every
// request and watch of a client shares one connection pool, and over TLS one HTTP/2 connection
// (ALPN; HTTP/1.1 where the server does not offer h2), as client-go multiplexes its requests.
// Requests come from any thread; a caller blocks in wait() while the I/O thread works.
// Streaming bodies (watches) are handed to a callback on the I/O thread; a callback that can't
// take a chunk now pauses the transfer (HTTP/2 flow control then holds the server back) until
// resume().
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"

namespace berth::kubeapi {

struct EngineTls {
  std::string caFile;
  std::string caData;  // PEM
  bool insecureSkipVerify = false;
  std::string certFile;
  std::string certData;
  std::string keyFile;
  std::string keyData;
  // The name to send as SNI and to verify the certificate against, when not the URL's host
  // (kubeconfig's tls-server-name): the URL's host is swapped for it and the connection still
  // goes to the original address (CURLOPT_CONNECT_TO).
  std::string serverName;
};

struct EngineRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::chrono::milliseconds timeout{0};  // the whole transfer; 0: none
  // Streaming: called on the I/O thread with each chunk of a 2xx body. Returning false means
  // "not taken": the transfer pauses and the same chunk comes again after resume().
  std::function<bool(std::string_view)> onData;
  // Streaming: called on the I/O thread once the response's status and headers are known.
  std::function<void(long status)> onHeaders;
  // Called on the I/O thread once the transfer has ended (wait() then returns at once).
  std::function<void()> onDone;
};

struct EngineResponse {
  long status = 0;
  std::multimap<std::string, std::string> headers;  // lower-cased names
  std::string body;      // collected (for a stream: only a non-2xx body, capped at 1 MiB)
  long httpVersion = 0;  // CURL_HTTP_VERSION_*: 2 = 1.1, 3 = 2
  std::string header(std::string_view lowerName) const;
};

class HttpEngine {
 public:
  class Transfer;

  [[nodiscard]] static Result<std::shared_ptr<HttpEngine>> create(EngineTls tls);
  ~HttpEngine();
  HttpEngine(const HttpEngine&) = delete;
  HttpEngine& operator=(const HttpEngine&) = delete;

  // Starts a transfer; it runs until done, cancelled, or the engine goes.
  std::shared_ptr<Transfer> start(EngineRequest request);
  // start() and wait().
  [[nodiscard]] Result<EngineResponse> perform(EngineRequest request);
  // A new client certificate (PEM) for the transfers started from now on. libcurl reuses a
  // connection only for a transfer with the same certificate, so they open new connections;
  // transfers already running (watches) keep theirs until they end.
  void setClientCertificate(std::string certPem, std::string keyPem);

  class Transfer {
   public:
    // Blocks until the transfer ends; transport failures are errors (kUnavailable,
    // kDeadlineExceeded, kUnauthenticated, kCancelled), any HTTP status is a response.
    [[nodiscard]] Result<EngineResponse> wait();
    bool done() const;
    // Ends the transfer (kCancelled); safe from any thread, any number of times.
    void cancel();
    // Continues a paused stream.
    void resume();

   private:
    friend class HttpEngine;
    struct State;
    explicit Transfer(std::shared_ptr<State> state) : state_(std::move(state)) {}
    std::shared_ptr<State> state_;
  };

 private:
  HttpEngine() = default;

  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared: transfers hold it weakly to post cancel/resume
};

}  // namespace berth::kubeapi
