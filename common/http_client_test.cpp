#include "common/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "common/unique_fd.h"

namespace berth {
namespace {

// A one-connection-at-a-time HTTP/1.1 server on 127.0.0.1 for these tests: it reads a request
// (headers and a Content-Length body), answers with what `handler` returns and closes.
class TestServer {
 public:
  using Handler = std::function<std::string(const std::string& request)>;

  explicit TestServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    EXPECT_EQ(::listen(fd_.get(), 8), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~TestServer() {
    ::shutdown(fd_.get(), SHUT_RDWR);
    thread_.join();
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<std::string> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void serve() {
    while (true) {
      UniqueFd c(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c) return;
      std::string req;
      char buf[4096];
      size_t want = std::string::npos;
      while (req.size() < want) {
        ssize_t n = ::read(c.get(), buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
        auto end = req.find("\r\n\r\n");
        if (end != std::string::npos && want == std::string::npos) {
          size_t length = 0;
          auto cl = req.find("Content-Length: ");
          if (cl != std::string::npos && cl < end) length = std::stoul(req.substr(cl + 16));
          want = end + 4 + length;
        }
      }
      {
        std::lock_guard lock(mu_);
        requests_.push_back(req);
      }
      std::string res = handler_(req);
      (void)!::write(c.get(), res.data(), res.size());
    }
  }

  Handler handler_;
  UniqueFd fd_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

std::string response(int status, const std::string& body, const std::string& headers = "") {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" +
         headers + "\r\n" + body;
}

TEST(HttpClient, CollectsBodyAndLowerCasedHeaders) {
  TestServer server([](const std::string&) {
    return response(200, "hello", "Docker-Content-Digest: sha256:abc\r\n");
  });
  HttpClient http;
  auto r = http.send({.url = server.url("/v2/"), .headers = {"Accept: a/b"}});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->header("docker-content-digest"), "sha256:abc");
  EXPECT_NE(server.requests()[0].find("Accept: a/b\r\n"), std::string::npos);
}

TEST(HttpClient, StreamsOnlySuccessfulBodies) {
  int calls = 0;
  TestServer server([&](const std::string& req) {
    ++calls;
    if (req.starts_with("GET /missing")) return response(404, R"({"errors":[]})");
    return response(206, "partial", "Content-Range: bytes 5-11/12\r\n");
  });
  HttpClient http;
  std::string streamed;
  long seenStatus = 0;
  HttpRequest req{.url = server.url("/blob")};
  req.onResponse = [&](const HttpResponse& r) {
    seenStatus = r.status;
    EXPECT_EQ(r.header("content-range"), "bytes 5-11/12");
    return Status{};
  };
  req.onData = [&](std::string_view chunk) {
    streamed.append(chunk);
    return Status{};
  };
  auto r = http.send(req);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(seenStatus, 206);
  EXPECT_EQ(streamed, "partial");
  EXPECT_TRUE(r->body.empty());

  streamed.clear();
  req.url = server.url("/missing");
  r = http.send(req);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_TRUE(streamed.empty());
  EXPECT_EQ(r->body, R"({"errors":[]})");
}

TEST(HttpClient, ACallbackErrorAbortsWithThatError) {
  TestServer server([](const std::string&) { return response(200, std::string(100000, 'x')); });
  HttpClient http;
  HttpRequest req{.url = server.url("/big")};
  req.onData = [](std::string_view) { return Status(fail(Code::kDataLoss, "too much")); };
  auto r = http.send(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kDataLoss);
  EXPECT_EQ(r.error().message(), "too much");
}

TEST(HttpClient, FollowsRedirectsAndSendsBodiesAndCredentials) {
  TestServer server([](const std::string& req) {
    if (req.starts_with("GET /old")) return response(307, "", "Location: /new\r\n");
    return response(201, "done");
  });
  HttpClient http;
  auto r = http.send({.url = server.url("/old")});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->effectiveUrl, server.url("/new"));

  HttpRequest put{.method = "PUT", .url = server.url("/upload"), .body = "payload"};
  put.basicAuth = std::make_pair("user", "pass");
  r = http.send(put);
  ASSERT_TRUE(r) << r.error().message();
  auto last = server.requests().back();
  EXPECT_TRUE(last.starts_with("PUT /upload ")) << last;
  EXPECT_NE(last.find("Authorization: Basic dXNlcjpwYXNz\r\n"), std::string::npos) << last;
  EXPECT_TRUE(last.ends_with("\r\n\r\npayload")) << last;
}

TEST(HttpClient, ConnectionRefusedIsUnavailableNamingTheUrl) {
  std::string url;
  {
    TestServer server([](const std::string&) { return response(200, ""); });
    url = server.url("/v2/");
  }  // closed: nothing listens on the port now
  HttpClient http;
  auto r = http.send({.url = url});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_TRUE(r.error().message().starts_with("GET " + url + ": ")) << r.error().message();
}

}  // namespace
}  // namespace berth
