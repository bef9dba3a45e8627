// The HTTP/1.1 server on loopback with libcurl (and a raw socket for what curl won't send):
// requests and keep-alive, streamed responses written from other threads, the client leaving,
// limits and timeouts, graceful shutdown.
#include "common/http/server.h"

#include <condition_variable>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "common/http/test_support.h"

namespace berth::http {
namespace {

using namespace std::chrono_literals;
using testing::Curl;
using testing::Fetched;
using testing::FetchOptions;
using testing::RawClient;
using testing::startServer;
using testing::waitUntil;

// A latch a test thread and a handler meet at.
class Signal {
 public:
  void set() {
    std::lock_guard lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  bool wait(std::chrono::milliseconds deadline = 30s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, deadline, [&] { return set_; });
  }
  bool isSet() {
    std::lock_guard lock(mu_);
    return set_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

std::string url(const Server& s, std::string_view path) {
  return fmt::format("http://127.0.0.1:{}{}", s.port(), path);
}

Response text(int status, std::string body) {
  return {status, {{"Content-Type", "text/plain"}}, std::move(body)};
}

TEST(HttpServer, ServesARequestWithItsPathQueryHeadersAndBody) {
  std::mutex mu;
  Request seen;
  auto server = startServer([&](Request& r, std::shared_ptr<ResponseWriter> w) {
    {
      std::lock_guard lock(mu);
      seen = r;
    }
    w->respond({201, {{"X-Answer", "42"}}, "made " + r.body});
  });
  Curl curl;
  auto f = curl.fetch(url(*server, "/api/v1/name%20space?watch=1&label=a+b&label=c%3Dd"),
                      {.method = "POST", .body = "payload", .headers = {"X-Test: one"}});
  ASSERT_EQ(f.code, CURLE_OK) << f.error;
  EXPECT_EQ(f.status, 201);
  EXPECT_EQ(f.body, "made payload");
  EXPECT_EQ(f.header("x-answer"), "42");
  EXPECT_EQ(f.header("content-length"), "12");
  EXPECT_FALSE(f.header("date").empty());
  std::lock_guard lock(mu);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/api/v1/name%20space?watch=1&label=a+b&label=c%3Dd");
  EXPECT_EQ(seen.path, "/api/v1/name space");
  EXPECT_EQ(seen.rawQuery, "watch=1&label=a+b&label=c%3Dd");
  EXPECT_EQ(seen.queryParam("watch"), "1");
  EXPECT_EQ(seen.queryParams("label"), (std::vector<std::string_view>{"a b", "c=d"}));
  EXPECT_EQ(seen.queryParam("missing"), std::nullopt);
  EXPECT_EQ(seen.headers.get("x-TEST"), "one");
  EXPECT_EQ(seen.body, "payload");
  EXPECT_EQ(seen.httpVersion, 11);
  EXPECT_FALSE(seen.tls);
  EXPECT_FALSE(seen.peerCertificate);
  EXPECT_TRUE(seen.remoteAddress.starts_with("127.0.0.1:")) << seen.remoteAddress;
}

TEST(HttpServer, KeepsTheConnectionAliveBetweenRequests) {
  std::mutex mu;
  std::vector<std::string> remotes;
  auto server = startServer([&](Request& r, std::shared_ptr<ResponseWriter> w) {
    {
      std::lock_guard lock(mu);
      remotes.push_back(r.remoteAddress);
    }
    w->respond(text(200, r.path));
  });
  Curl curl;
  auto first = curl.fetch(url(*server, "/one"));
  auto second = curl.fetch(url(*server, "/two"), {.method = "PUT", .body = std::string(5000, 'x')});
  ASSERT_EQ(second.code, CURLE_OK) << second.error;
  EXPECT_EQ(first.body, "/one");
  EXPECT_EQ(second.body, "/two");
  EXPECT_EQ(first.connects, 1);
  EXPECT_EQ(second.connects, 0);  // reused
  std::lock_guard lock(mu);
  ASSERT_EQ(remotes.size(), 2u);
  EXPECT_EQ(remotes[0], remotes[1]);
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  auto server = startServer(
      [](Request& r, std::shared_ptr<ResponseWriter> w) { w->respond(text(200, r.path)); });
  RawClient c(server->port());
  ASSERT_TRUE(
      c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n"
             "Connection: close\r\n\r\n"));
  auto all = c.readToEnd();
  ASSERT_TRUE(all);
  auto a = all->find("\r\n\r\n/a"), b = all->find("\r\n\r\n/b");
  EXPECT_NE(a, std::string::npos) << *all;
  EXPECT_NE(b, std::string::npos) << *all;
  EXPECT_LT(a, b);
}

TEST(HttpServer, HeadGetsTheLengthWithoutTheBodyAndHttp10Closes) {
  auto server = startServer(
      [](Request&, std::shared_ptr<ResponseWriter> w) { w->respond(text(200, "twelve bytes")); });
  RawClient head(server->port());
  ASSERT_TRUE(head.send("HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto h = head.readToEnd();
  ASSERT_TRUE(h);
  EXPECT_NE(h->find("Content-Length: 12\r\n"), std::string::npos) << *h;
  EXPECT_TRUE(h->ends_with("\r\n\r\n")) << *h;
  RawClient old(server->port());
  ASSERT_TRUE(old.send("GET / HTTP/1.0\r\n\r\n"));
  auto o = old.readToEnd();
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->starts_with("HTTP/1.0 200 OK\r\n")) << *o;
  EXPECT_TRUE(o->ends_with("twelve bytes")) << *o;
}

TEST(HttpServer, ChunkedAndLargeRequestBodies) {
  auto server = startServer([](Request& r, std::shared_ptr<ResponseWriter> w) {
    w->respond(text(200, std::to_string(r.body.size())));
  });
  Curl curl;
  // curl sends Expect: 100-continue for a body this large and waits for the 100.
  auto big = curl.fetch(url(*server, "/"), {.method = "POST", .body = std::string(2 << 20, 'b')});
  ASSERT_EQ(big.code, CURLE_OK) << big.error;
  EXPECT_EQ(big.body, std::to_string(2 << 20));
  RawClient c(server->port());
  ASSERT_TRUE(
      c.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
             "Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  auto out = c.readToEnd();
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->ends_with("\r\n\r\n11")) << *out;
}

TEST(HttpServer, LimitsGetTheirStatusAndAShortTextBody) {
  ServerOptions o;
  o.maxBodyBytes = 1000;
  o.maxHeaderBytes = 2000;
  std::atomic<int> calls = 0;
  auto server = startServer(
      [&](Request&, std::shared_ptr<ResponseWriter> w) {
        ++calls;
        w->respond(text(200, "ok"));
      },
      o);
  Curl curl;
  auto body = curl.fetch(url(*server, "/"), {.method = "POST", .body = std::string(1001, 'x')});
  EXPECT_EQ(body.status, 413) << body.error;
  EXPECT_EQ(body.body, "413 Request Entity Too Large");
  auto header = curl.fetch(url(*server, "/"), {.headers = {"X-Big: " + std::string(3000, 'h')}});
  EXPECT_EQ(header.status, 431) << header.error;
  EXPECT_EQ(header.body, "431 Request Header Fields Too Large");
  // A chunked body over the limit is caught while it is read.
  RawClient chunked(server->port());
  ASSERT_TRUE(chunked.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                           fmt::format("{:x}\r\n{}\r\n", 1500, std::string(1500, 'c'))));
  auto c = chunked.readToEnd();
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->starts_with("HTTP/1.1 413 ")) << *c;
  struct Case {
    std::string request;
    std::string status;
  };
  for (const auto& [request, status] : std::vector<Case>{
           {"GARBAGE\r\n\r\n", "400"},
           {"GET / HTTP/1.1\r\nBad Header\r\n\r\n", "400"},
           {"GET / HTTP/1.1\r\n\r\n", "400"},  // no Host
           {"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", "400"},
       }) {
    RawClient raw(server->port());
    ASSERT_TRUE(raw.send(request));
    auto out = raw.readToEnd();
    ASSERT_TRUE(out) << request;
    EXPECT_TRUE(out->starts_with("HTTP/1.1 " + status + " ")) << request << ": " << *out;
    EXPECT_NE(out->find("Connection: close\r\n"), std::string::npos) << *out;
  }
  EXPECT_EQ(calls, 0);
}

TEST(HttpServer, SlowHeadersAndIdleConnectionsAreClosed) {
  ServerOptions o;
  o.headerTimeout = 200ms;
  o.idleTimeout = 300ms;
  auto server = startServer(
      [](Request&, std::shared_ptr<ResponseWriter> w) { w->respond(text(200, "ok")); }, o);
  RawClient slow(server->port());
  ASSERT_TRUE(slow.send("GET /half-a-request-li"));
  auto out = slow.readToEnd();
  ASSERT_TRUE(out) << "the server never closed a connection that stopped mid-line";
  EXPECT_EQ(*out, "");
  RawClient idle(server->port());
  ASSERT_TRUE(idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(idle.readUntil("ok").find("200 OK"), std::string::npos);
  auto rest = idle.readToEnd();
  ASSERT_TRUE(rest) << "the server kept an idle keep-alive connection";
  EXPECT_EQ(*rest, "");
}

TEST(HttpServer, MaxConnectionsRefusesTheOneTooMany) {
  ServerOptions o;
  o.maxConnections = 2;
  auto server = startServer(
      [](Request&, std::shared_ptr<ResponseWriter> w) { w->respond(text(200, "ok")); }, o);
  auto a = std::make_unique<RawClient>(server->port());
  RawClient b(server->port());
  // Both held (each sent a byte, so both were accepted and are reading their heads).
  ASSERT_TRUE(a->send("G"));
  ASSERT_TRUE(b.send("G"));
  Curl curl;
  ASSERT_TRUE(waitUntil([&] { return curl.fetch(url(*server, "/")).code != CURLE_OK; }));
  a.reset();  // frees a slot
  ASSERT_TRUE(waitUntil([&] { return curl.fetch(url(*server, "/")).status == 200; }));
}

TEST(HttpServer, StreamsChunksWrittenFromAnotherThreadAfterTheHandlerReturned) {
  Signal firstArrived;
  std::thread writerThread;
  std::promise<std::shared_ptr<ResponseWriter>> handed;
  auto server = startServer([&](Request& r, std::shared_ptr<ResponseWriter> w) {
    if (r.path == "/plain") return w->respond(text(200, "plain"));
    EXPECT_TRUE(w->start(200, {{"Content-Type", "application/json"}}));
    EXPECT_TRUE(w->write("{\"n\":1}\n"));
    handed.set_value(w);
  });
  writerThread = std::thread([&] {
    auto w = handed.get_future().get();
    // The client holds the first event before the rest is written: the body is streamed.
    EXPECT_TRUE(firstArrived.wait());
    EXPECT_TRUE(w->write("{\"n\":2}\n"));
    EXPECT_TRUE(w->write("{\"n\":3}\n"));
    w->finish();
    EXPECT_FALSE(w->write("late"));
  });
  Curl curl;
  auto f = curl.fetch(url(*server, "/watch"), {.onData = [&](std::string_view) {
                        firstArrived.set();
                        return true;
                      }});
  writerThread.join();
  ASSERT_EQ(f.code, CURLE_OK) << f.error;
  EXPECT_EQ(f.header("transfer-encoding"), "chunked");
  EXPECT_EQ(f.body, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
  // The connection is kept for the next request.
  auto again = curl.fetch(url(*server, "/plain"));
  EXPECT_EQ(again.body, "plain");
  EXPECT_EQ(again.connects, 0);
}

TEST(HttpServer, AClientThatLeavesFiresOnClose) {
  Signal closed;
  std::promise<std::shared_ptr<ResponseWriter>> handed;
  auto server = startServer([&](Request&, std::shared_ptr<ResponseWriter> w) {
    w->onClose([&] { closed.set(); });
    w->start(200, {});
    w->write("first\n");
    handed.set_value(w);
  });
  Curl curl;
  auto f = curl.fetch(url(*server, "/watch"), {.onData = [](std::string_view) { return false; }});
  EXPECT_EQ(f.code, CURLE_WRITE_ERROR);
  ASSERT_TRUE(closed.wait()) << "onClose never fired";
  auto w = handed.get_future().get();
  EXPECT_TRUE(w->closed());
  EXPECT_FALSE(w->write("after"));
}

TEST(HttpServer, ASlowStreamReaderIsDropped) {
  ServerOptions o;
  o.maxQueuedStreamBytes = 64 << 10;
  Signal closed;
  std::promise<std::shared_ptr<ResponseWriter>> handed;
  auto server = startServer(
      [&](Request&, std::shared_ptr<ResponseWriter> w) {
        w->onClose([&] { closed.set(); });
        w->start(200, {});
        handed.set_value(w);
      },
      o);
  RawClient c(server->port());  // reads nothing
  ASSERT_TRUE(c.send("GET /watch HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto w = handed.get_future().get();
  // Writing never blocks; once the kernel's buffers and our bound are full, write() says no.
  std::size_t written = 0;
  const std::string piece(256 << 10, 'w');
  while (w->write(piece) && written < (1u << 30))
    written += piece.size();
  EXPECT_LT(written, 1u << 30) << "write() never reported the slow client";
  EXPECT_TRUE(closed.wait());
}

TEST(HttpServer, AHandlerThatDropsItsWriterAnswers500) {
  auto server = startServer([](Request&, std::shared_ptr<ResponseWriter>) {});
  Curl curl;
  auto f = curl.fetch(url(*server, "/"));
  EXPECT_EQ(f.status, 500);
}

TEST(HttpServer, ShutdownFinishesInFlightRequestsAndClosesStreams) {
  Signal handling, release, streamClosed;
  std::promise<std::shared_ptr<ResponseWriter>> handed;
  auto server = startServer([&](Request& r, std::shared_ptr<ResponseWriter> w) {
    if (r.path == "/stream") {
      w->onClose([&] { streamClosed.set(); });
      w->start(200, {});
      handed.set_value(w);
      return;
    }
    if (r.path != "/slow") return w->respond(text(200, "quick"));
    handling.set();
    release.wait();
    w->respond(text(200, "finished"));
  });
  std::thread streamClient([&] {
    Curl curl;
    auto f = curl.fetch(url(*server, "/stream"));
    EXPECT_EQ(f.body, "bye\n");
  });
  auto stream = handed.get_future().get();
  std::future<Fetched> slow = std::async(std::launch::async, [&] {
    Curl curl;
    return curl.fetch(url(*server, "/slow"));
  });
  ASSERT_TRUE(handling.wait());
  std::thread stopper([&] { server->shutdown(60s); });
  // New connections are refused once shutdown began.
  ASSERT_TRUE(waitUntil([&] {
    Curl curl;
    return curl.fetch(url(*server, "/")).code == CURLE_COULDNT_CONNECT;
  }));
  EXPECT_FALSE(streamClosed.isSet());
  release.set();
  auto done = slow.get();
  EXPECT_EQ(done.status, 200);
  EXPECT_EQ(done.body, "finished");
  // A stream that finishes within the grace ends as usual.
  stream->write("bye\n");
  stream->finish();
  stopper.join();
  streamClient.join();
  EXPECT_FALSE(streamClosed.isSet());
}

TEST(HttpServer, ShutdownAfterTheGraceClosesStreamsWithOnClose) {
  Signal streamClosed;
  std::promise<void> started;
  auto server = startServer([&](Request&, std::shared_ptr<ResponseWriter> w) {
    w->onClose([&] { streamClosed.set(); });
    w->start(200, {});
    started.set_value();
  });
  std::thread client([&] {
    Curl curl;
    auto f = curl.fetch(url(*server, "/stream"));
    EXPECT_NE(f.code, CURLE_OK);  // the stream never ended properly
  });
  started.get_future().wait();
  server->shutdown(100ms);
  EXPECT_TRUE(streamClosed.isSet());
  client.join();
}

TEST(HttpServer, RefusesAnUnusableBindAddress) {
  ServerOptions o;
  o.bindAddress = "not-an-address";
  auto s = Server::start(o, [](Request&, std::shared_ptr<ResponseWriter>) {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("not-an-address"), std::string::npos);
}

}  // namespace
}  // namespace berth::http
