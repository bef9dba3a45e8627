#include "images/registry_client.h"

#include <gtest/gtest.h>

#include "common/http_server_for_test.h"

namespace berth::images {
namespace {

using berth::testing::response;
using berth::testing::TestServer;

// A plain-HTTP registry answers a TLS ClientHello with a 400 in plain HTTP.
std::string plainRegistry(const std::string& request) {
  if (request.front() == '\x16') return response(400, "Client sent an HTTP request");
  if (request.starts_with("GET /v2/ ")) return response(200, "{}");
  return response(404, R"({"errors":[{"code":"NOT_FOUND","message":"nope"}]})");
}

RegistryEndpoint loopbackDefault(const TestServer& server) {
  RegistryConfig none;
  auto eps = none.endpoints(server.hostPort());
  EXPECT_EQ(eps.size(), 1u);
  return eps.front();
}

TEST(RegistryClient, ALoopbackRegistryThatSpeaksHttpIsUsedOverHttp) {
  TestServer server(plainRegistry);
  RegistryClient client(loopbackDefault(server), "busybox");
  auto ping = client.ping();
  ASSERT_TRUE(ping) << ping.error().message();
  EXPECT_EQ(client.endpoint().url, "http://" + server.hostPort());
  EXPECT_TRUE(client.endpoint().plainHttp);
  // The TLS attempt, then the request over HTTP; the clone starts on HTTP.
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].front(), '\x16');
  EXPECT_TRUE(requests[1].starts_with("GET /v2/ HTTP/1.1\r\n")) << requests[1];
  ASSERT_TRUE(client.clone().ping());
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(RegistryClient, WithoutTheFallbackATlsFailureIsAFailedPreconditionNamingTheUrl) {
  TestServer server(plainRegistry);
  RegistryEndpoint ep = loopbackDefault(server);
  ep.httpFallback = false;  // as when registries.yaml gives the host TLS settings
  auto ping = RegistryClient(ep, "busybox").ping();
  ASSERT_FALSE(ping);
  EXPECT_EQ(ping.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(ping.error().message().find("https://" + server.hostPort() + "/v2/: TLS: "),
            std::string::npos)
      << ping.error().message();
}

}  // namespace
}  // namespace berth::images
