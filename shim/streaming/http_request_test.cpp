#include "shim/streaming/http_request.h"

#include <gtest/gtest.h>

namespace berth::shim {
namespace {

TEST(HttpRequest, ParsesAnUpgradeRequest) {
  auto r = parseHttpRequest(
      "POST /exec/abc?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
      "Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n"
      "X-Stream-Protocol-Version: v3.channel.k8s.io, v2.channel.k8s.io\r\n\r\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->path, "/exec/abc");
  EXPECT_EQ(r->query, "x=1");
  EXPECT_EQ(r->header("upgrade"), "SPDY/3.1");
  EXPECT_EQ(r->header("missing"), std::nullopt);
  EXPECT_EQ(
      r->headerValues("x-stream-protocol-version"),
      (std::vector<std::string>{"v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io"}));
}

TEST(HttpRequest, MalformedHeadsNameWhatIsWrong) {
  struct Case {
    const char* head;
    const char* want;
  } cases[] = {
      {"GET\r\n\r\n", "malformed request line"},
      {"GET exec HTTP/1.1\r\n\r\n", "malformed request line"},
      {"GET /exec SPDY/3\r\n\r\n", "malformed request line"},
      {"GET /exec HTTP/1.1\r\nNo colon here\r\n\r\n", "malformed header line \"No colon here\""},
      {"GET /exec HTTP/1.1\r\nBad Name: x\r\n\r\n", "malformed header line"},
      {"GET /exec HTTP/1.1\r\nA: b\r\n", "not terminated"},
  };
  for (const auto& c : cases) {
    auto r = parseHttpRequest(c.head);
    ASSERT_FALSE(r) << c.head;
    EXPECT_NE(r.error().message().find(c.want), std::string::npos) << r.error().message();
  }
}

TEST(HttpRequest, QueryValuesAreDecodedInOrder) {
  auto r = parseHttpRequest(
      "GET /portforward/t?port=80&x=1&port=8080%2C9090&port=&p%6frt=a+b&port=%zz HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->queryValues("port"),
            (std::vector<std::string>{"80", "8080,9090", "", "a b", "%zz"}));
  EXPECT_EQ(r->queryValues("x"), std::vector<std::string>{"1"});
  EXPECT_TRUE(r->queryValues("y").empty());
}

TEST(HttpRequest, ResponsesCarryALengthUnlessSwitching) {
  EXPECT_EQ(httpResponse(404, "Not Found", {}, "nope"),
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 4\r\n\r\nnope");
  EXPECT_EQ(httpResponse(101, "Switching Protocols", {{"Upgrade", "SPDY/3.1"}}),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\n\r\n");
}

}  // namespace
}  // namespace berth::shim
