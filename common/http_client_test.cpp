#include "common/http_client.h"

#include <gtest/gtest.h>

#include "common/http_server_for_test.h"

namespace berth {
namespace {

using testing::response;
using testing::TestServer;

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
