#include "kubeapi/http_engine.h"

#include <curl/curl.h>

#include <fmt/format.h>

#include "common/http_client.h"

namespace berth::kubeapi {

struct HttpEngine::Transfer::State {
  EngineRequest request;
  EngineResponse response;
  std::weak_ptr<HttpEngine::Impl> engine;
  // Owned by the I/O thread while the transfer runs.
  CURL* easy = nullptr;
  curl_slist* headerList = nullptr;
  curl_slist* connectTo = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {};
  bool headersReported = false;
  bool paused = false;
  // Shared with waiters.
  mutable std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::optional<Error> error;
};

struct HttpEngine::Impl {
  using State = Transfer::State;

  CURLM* multi = nullptr;
  EngineTls tls;
  std::thread thread;
  std::mutex mu;
  std::vector<std::function<void()>> commands;
  bool stopping = false;
  std::map<CURL*, std::shared_ptr<State>> active;  // I/O thread only

  void post(std::function<void()> command) {
    std::lock_guard lock(mu);
    if (stopping) return;
    commands.push_back(std::move(command));
    curl_multi_wakeup(multi);
  }

  static size_t onHeader(char* data, size_t size, size_t count, void* p) {
    auto* s = static_cast<State*>(p);
    std::string_view line(data, size * count);
    addResponseHeaderLine(line, s->response.headers);
    if (line == "\r\n" || line == "\n") {
      long status = 0;
      curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
      if (status >= 200 && !s->headersReported) {
        s->headersReported = true;
        s->response.status = status;
        if (s->request.onHeaders) s->request.onHeaders(status);
      }
    }
    return size * count;
  }

  static size_t onBody(char* data, size_t size, size_t count, void* p) {
    auto* s = static_cast<State*>(p);
    std::string_view chunk(data, size * count);
    long status = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    if (s->request.onData) {
      if (status >= 200 && status < 300) {
        if (!s->request.onData(chunk)) {
          s->paused = true;
          return CURL_WRITEFUNC_PAUSE;
        }
        return chunk.size();
      }
      // An error body of a stream: kept for the error, bounded.
      if (s->response.body.size() < (1 << 20)) s->response.body.append(chunk);
      return chunk.size();
    }
    s->response.body.append(chunk);
    return chunk.size();
  }

  // tls-server-name: the URL names the server by that name, and CONNECT_TO sends the
  // connection to the address the URL had.
  Status redirectToServerName(CURL* c, const std::shared_ptr<State>& s) {
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> url(curl_url(), curl_url_cleanup);
    if (!url || curl_url_set(url.get(), CURLUPART_URL, s->request.url.c_str(), 0) != CURLUE_OK)
      return fail(Code::kInvalidArgument, "bad URL {}", s->request.url);
    char* host = nullptr;
    char* port = nullptr;
    curl_url_get(url.get(), CURLUPART_HOST, &host, 0);
    curl_url_get(url.get(), CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    std::string connectTo = fmt::format("{}:{}:{}:{}", tls.serverName, port ? port : "",
                                        host ? host : "", port ? port : "");
    curl_free(host);
    curl_free(port);
    curl_url_set(url.get(), CURLUPART_HOST, tls.serverName.c_str(), 0);
    char* rewritten = nullptr;
    curl_url_get(url.get(), CURLUPART_URL, &rewritten, 0);
    if (!rewritten) return fail(Code::kInvalidArgument, "bad URL {}", s->request.url);
    curl_easy_setopt(c, CURLOPT_URL, rewritten);  // curl copies it
    curl_free(rewritten);
    s->connectTo = curl_slist_append(nullptr, connectTo.c_str());
    curl_easy_setopt(c, CURLOPT_CONNECT_TO, s->connectTo);
    return {};
  }

  void setBlob(CURL* c, CURLoption option, const std::string& data) {
    curl_blob blob{const_cast<char*>(data.data()), data.size(), CURL_BLOB_COPY};
    curl_easy_setopt(c, option, &blob);
  }

  void add(const std::shared_ptr<State>& s) {
    CURL* c = curl_easy_init();
    if (!c) {
      finish(s, Error(Code::kResourceExhausted, "curl_easy_init failed"));
      return;
    }
    s->easy = c;
    const auto& r = s->request;
    curl_easy_setopt(c, CURLOPT_PRIVATE, s.get());
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
    if (!tls.serverName.empty()) {
      if (auto st = redirectToServerName(c, s); !st) {
        finish(s, st.error());
        return;
      }
    } else {
      curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
    }
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    // h2 over TLS by ALPN, HTTP/1.1 otherwise; new transfers wait for an existing connection
    // to say whether it multiplexes rather than opening their own.
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(c, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
    if (r.timeout.count() > 0)
      curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &Impl::onHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, s.get());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Impl::onBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s.get());
    if (!tls.caData.empty()) {
      setBlob(c, CURLOPT_CAINFO_BLOB, tls.caData);
    } else if (!tls.caFile.empty()) {
      curl_easy_setopt(c, CURLOPT_CAINFO, tls.caFile.c_str());
    }
    if (!tls.certData.empty()) {
      setBlob(c, CURLOPT_SSLCERT_BLOB, tls.certData);
      curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    } else if (!tls.certFile.empty()) {
      curl_easy_setopt(c, CURLOPT_SSLCERT, tls.certFile.c_str());
    }
    if (!tls.keyData.empty()) {
      setBlob(c, CURLOPT_SSLKEY_BLOB, tls.keyData);
      curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
    } else if (!tls.keyFile.empty()) {
      curl_easy_setopt(c, CURLOPT_SSLKEY, tls.keyFile.c_str());
    }
    if (tls.insecureSkipVerify) {
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (r.method == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (r.method != "GET") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    }
    for (const auto& h : r.headers)
      s->headerList = curl_slist_append(s->headerList, h.c_str());
    s->headerList = curl_slist_append(s->headerList, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->headerList);
    if (curl_multi_add_handle(multi, c) != CURLM_OK) {
      finish(s, Error(Code::kInternal, "curl_multi_add_handle failed"));
      return;
    }
    active.emplace(c, s);
  }

  // Ends a transfer: the handle leaves the multi handle, waiters wake up.
  void finish(const std::shared_ptr<State>& s, std::optional<Error> error) {
    if (s->easy) {
      curl_multi_remove_handle(multi, s->easy);
      long version = 0;
      curl_easy_getinfo(s->easy, CURLINFO_HTTP_VERSION, &version);
      s->response.httpVersion = version;
      if (!error) curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->response.status);
      active.erase(s->easy);
      curl_easy_cleanup(s->easy);
      s->easy = nullptr;
    }
    curl_slist_free_all(s->headerList);
    s->headerList = nullptr;
    curl_slist_free_all(s->connectTo);
    s->connectTo = nullptr;
    {
      std::lock_guard lock(s->mu);
      s->done = true;
      s->error = std::move(error);
    }
    s->cv.notify_all();
    if (s->request.onDone) s->request.onDone();
  }

  void run() {
    while (true) {
      std::vector<std::function<void()>> batch;
      {
        std::lock_guard lock(mu);
        if (stopping) break;
        batch.swap(commands);
      }
      for (auto& command : batch)
        command();
      int running = 0;
      curl_multi_perform(multi, &running);
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        auto it = active.find(msg->easy_handle);
        if (it == active.end()) continue;
        auto s = it->second;
        CURLcode rc = msg->data.result;
        std::optional<Error> error;
        if (rc != CURLE_OK) {
          std::string reason = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);
          error = Error(codeForCurlCode(rc),
                        fmt::format("{} {}: {}", s->request.method, s->request.url, reason));
        }
        finish(s, std::move(error));
      }
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
    // Transfers queued before the stop still end, so that no waiter waits forever.
    std::vector<std::function<void()>> rest;
    {
      std::lock_guard lock(mu);
      rest.swap(commands);
    }
    for (auto& command : rest)
      command();
    while (!active.empty())
      finish(active.begin()->second, Error(Code::kCancelled, "API client closed"));
  }
};

std::string EngineResponse::header(std::string_view lowerName) const {
  auto it = headers.find(std::string(lowerName));
  return it == headers.end() ? std::string() : it->second;
}

Result<std::shared_ptr<HttpEngine>> HttpEngine::create(EngineTls tls) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::shared_ptr<HttpEngine> engine(new HttpEngine());
  engine->impl_ = std::make_shared<Impl>();
  auto& impl = *engine->impl_;
  impl.multi = curl_multi_init();
  if (!impl.multi) return fail(Code::kResourceExhausted, "curl_multi_init failed");
  curl_multi_setopt(impl.multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  impl.tls = std::move(tls);
  impl.thread = std::thread([p = engine->impl_.get()] { p->run(); });
  return engine;
}

HttpEngine::~HttpEngine() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    curl_multi_wakeup(impl_->multi);
  }
  if (impl_->thread.joinable()) impl_->thread.join();
  curl_multi_cleanup(impl_->multi);
  impl_->multi = nullptr;
}

std::shared_ptr<HttpEngine::Transfer> HttpEngine::start(EngineRequest request) {
  auto state = std::make_shared<Transfer::State>();
  state->request = std::move(request);
  state->engine = impl_;
  std::shared_ptr<Transfer> transfer(new Transfer(state));
  bool queued = false;
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->stopping) {
      impl_->commands.push_back([impl = impl_.get(), state] { impl->add(state); });
      curl_multi_wakeup(impl_->multi);
      queued = true;
    }
  }
  if (!queued) {
    std::lock_guard lock(state->mu);
    state->done = true;
    state->error = Error(Code::kCancelled, "API client closed");
  }
  return transfer;
}

Result<EngineResponse> HttpEngine::perform(EngineRequest request) {
  return start(std::move(request))->wait();
}

void HttpEngine::setClientCertificate(std::string certPem, std::string keyPem) {
  // On the I/O thread, ahead of every transfer started after this call.
  impl_->post([impl = impl_.get(), cert = std::move(certPem), key = std::move(keyPem)] {
    impl->tls.certData = cert;
    impl->tls.keyData = key;
    impl->tls.certFile.clear();
    impl->tls.keyFile.clear();
  });
}

Result<EngineResponse> HttpEngine::Transfer::wait() {
  std::unique_lock lock(state_->mu);
  state_->cv.wait(lock, [&] { return state_->done; });
  if (state_->error) return std::unexpected(*state_->error);
  return state_->response;
}

bool HttpEngine::Transfer::done() const {
  std::lock_guard lock(state_->mu);
  return state_->done;
}

void HttpEngine::Transfer::cancel() {
  auto engine = state_->engine.lock();
  if (!engine) return;
  engine->post([impl = engine.get(), state = state_] {
    if (state->easy) impl->finish(state, Error(Code::kCancelled, "request cancelled"));
  });
}

void HttpEngine::Transfer::resume() {
  auto engine = state_->engine.lock();
  if (!engine) return;
  engine->post([state = state_] {
    if (state->easy && state->paused) {
      state->paused = false;
      curl_easy_pause(state->easy, CURLPAUSE_CONT);
    }
  });
}

}  // namespace berth::kubeapi
