#include "kubelet/prober/lifecycle.h"

#include <atomic>

#include <gtest/gtest.h>

#include "common/free_port_for_test.h"
#include "common/http/test_support.h"

namespace berth::kubelet::prober {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const json kPod = {{"metadata", {{"uid", "u1"}, {"name", "web"}, {"namespace", "default"}}},
                   {"spec", {{"terminationGracePeriodSeconds", 30}}}};

json containerWith(const std::string& hook, json handler) {
  return {{"name", "app"}, {"lifecycle", {{hook, handler}}}};
}

struct ExecCall {
  std::vector<std::string> cmd;
  std::chrono::seconds timeout;
};

// ExecSync stand-in: answers `answer` after `takes` on the fake clock.
HookRunner runner(kubeapi::FakeClock& clock, std::vector<ExecCall>& calls,
                  Result<ExecResult> answer, std::chrono::seconds takes = 0s) {
  return HookRunner{
      .exec =
          [&clock, &calls, answer, takes](const std::string&, const std::vector<std::string>& cmd,
                                          std::chrono::seconds timeout) {
            calls.push_back({cmd, timeout});
            clock.advance(takes);
            return answer;
          },
      .clock = &clock};
}

TEST(PostStartTest, NoHookIsFine) {
  kubeapi::FakeClock clock;
  std::vector<ExecCall> calls;
  json c = {{"name", "app"}};
  EXPECT_TRUE(runPostStart({kPod, c, "c1", "10.0.0.1"}, runner(clock, calls, ExecResult{})));
  EXPECT_TRUE(calls.empty());
}

TEST(PostStartTest, ExecSuccessAndFailureMessage) {
  kubeapi::FakeClock clock;
  std::vector<ExecCall> calls;
  json c = containerWith("postStart", {{"exec", {{"command", {"sh", "-c", "exit 3"}}}}});
  EXPECT_TRUE(runPostStart({kPod, c, "c1", ""}, runner(clock, calls, ExecResult{0, "", ""})));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].cmd, (std::vector<std::string>{"sh", "-c", "exit 3"}));
  EXPECT_EQ(calls[0].timeout, 0s);

  auto st = runPostStart({kPod, c, "c1", ""}, runner(clock, calls, ExecResult{3, "out\n", "err"}));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            "Exec lifecycle hook ([sh -c exit 3]) for Container \"app\" in Pod "
            "\"web_default(u1)\" failed - error: command 'sh -c exit 3' exited with 3: err, "
            "message: \"out\\nerr\"");
}

TEST(PostStartTest, SleepSleepsOnTheClock) {
  kubeapi::FakeClock clock;
  std::vector<ExecCall> calls;
  json c = containerWith("postStart", {{"sleep", {{"seconds", 5}}}});
  EXPECT_TRUE(runPostStart({kPod, c, "c1", ""}, runner(clock, calls, ExecResult{})));
  EXPECT_EQ(clock.slept(), 5s);
}

TEST(PostStartTest, InvalidHandler) {
  kubeapi::FakeClock clock;
  std::vector<ExecCall> calls;
  json c = containerWith("postStart", json::object());
  auto st = runPostStart({kPod, c, "c1", ""}, runner(clock, calls, ExecResult{}));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message().rfind("Cannot run handler: invalid handler", 0), 0u);
}

class HttpHookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = http::testing::startServer(
        [this](http::Request& req, std::shared_ptr<http::ResponseWriter> w) {
          paths_.push_back(req.path);
          w->respond({.status = req.path == "/broken" ? 500 : 200, .headers = {}, .body = "x"});
        });
  }
  void TearDown() override { server_->shutdown(1s); }
  json container(const std::string& path, json extra = json::object()) {
    json get = {{"path", path}, {"port", "hook"}};
    get.update(extra);
    json c = containerWith("postStart", {{"httpGet", get}});
    c["ports"] = {{{"name", "hook"}, {"containerPort", server_->port()}}};
    return c;
  }
  kubeapi::FakeClock clock_;
  std::vector<ExecCall> calls_;
  std::unique_ptr<http::Server> server_;
  std::vector<std::string> paths_;
};

TEST_F(HttpHookTest, AnyResponseSucceedsAndHostDefaultsToPodIp) {
  json c = container("/started");
  EXPECT_TRUE(runPostStart({kPod, c, "c1", "127.0.0.1"}, runner(clock_, calls_, ExecResult{})));
  json broken = container("/broken");
  EXPECT_TRUE(
      runPostStart({kPod, broken, "c1", "127.0.0.1"}, runner(clock_, calls_, ExecResult{})));
  EXPECT_EQ(paths_, (std::vector<std::string>{"/started", "/broken"}));
}

TEST_F(HttpHookTest, HttpsHookAnsweredInPlainHttpIsRetriedAsHttp) {
  json c = container("/tls", {{"scheme", "HTTPS"}});
  auto st = runPostStart({kPod, c, "c1", "127.0.0.1"}, runner(clock_, calls_, ExecResult{}));
  EXPECT_TRUE(st) << st.error().message();
  EXPECT_EQ(paths_.back(), "/tls");
}

TEST_F(HttpHookTest, NoPodIpFails) {
  json c = container("/x");
  auto st = runPostStart({kPod, c, "c1", ""}, runner(clock_, calls_, ExecResult{}));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            "HTTP lifecycle hook (/x) for Container \"app\" in Pod \"web_default(u1)\" failed - "
            "error: failed to find networking container: the pod has no IP");
}

TEST(HttpHookNoServerTest, RefusedConnectionFails) {
  auto port = berth::testing::freeLoopbackPort();
  ASSERT_TRUE(port);
  kubeapi::FakeClock clock;
  std::vector<ExecCall> calls;
  json c = containerWith("postStart", {{"httpGet", {{"path", "/h"}, {"port", *port}}}});
  auto st = runPostStart({kPod, c, "c1", "127.0.0.1"}, runner(clock, calls, ExecResult{}));
  ASSERT_FALSE(st);
  EXPECT_EQ(
      st.error().message().rfind("HTTP lifecycle hook (/h) for Container \"app\" in Pod "
                                 "\"web_default(u1)\" failed - error: Get \"http://127.0.0.1:",
                                 0),
      0u)
      << st.error().message();
}

TEST(PreStopTest, HookTimeComesOutOfTheGrace) {
  kubeapi::FakeClock clock;
  std::vector<ExecCall> calls;
  json c = containerWith("preStop", {{"exec", {{"command", {"drain"}}}}});
  auto left = runPreStop({kPod, c, "c1", ""}, runner(clock, calls, ExecResult{}, 7s), 30s);
  EXPECT_EQ(left, 23s);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].timeout, 30s);  // the hook may use the whole grace, no more
}

TEST(PreStopTest, AtLeastTheMinimumIsLeft) {
  kubeapi::FakeClock clock;
  std::vector<ExecCall> calls;
  json c = containerWith("preStop", {{"sleep", {{"seconds", 100}}}});
  auto left = runPreStop({kPod, c, "c1", ""}, runner(clock, calls, ExecResult{}), 10s);
  EXPECT_EQ(clock.slept(), 10s);  // cut off when the grace is spent
  EXPECT_EQ(left, kMinimumGracePeriod);
}

TEST(PreStopTest, NoGraceNoHook) {
  kubeapi::FakeClock clock;
  std::vector<ExecCall> calls;
  json c = containerWith("preStop", {{"exec", {{"command", {"drain"}}}}});
  EXPECT_EQ(runPreStop({kPod, c, "c1", ""}, runner(clock, calls, ExecResult{}), 0s),
            kMinimumGracePeriod);
  EXPECT_TRUE(calls.empty());
  json none = {{"name", "app"}};
  EXPECT_EQ(runPreStop({kPod, none, "c1", ""}, runner(clock, calls, ExecResult{}), 30s), 30s);
}

TEST(PreStopTest, FailureIsReportedAndTheStopGoesOn) {
  kubeapi::FakeClock clock;
  std::vector<ExecCall> calls;
  json c = containerWith("preStop", {{"exec", {{"command", {"drain"}}}}});
  std::optional<Error> failure;
  auto left = runPreStop({kPod, c, "c1", ""}, runner(clock, calls, ExecResult{1, "", "no"}, 2s),
                         30s, &failure);
  EXPECT_EQ(left, 28s);
  ASSERT_TRUE(failure);
  EXPECT_NE(failure->message().find("exited with 1: no"), std::string::npos);
}

TEST(KillGracePeriodTest, Precedence) {
  json container = {{"name", "app"},
                    {"livenessProbe", {{"terminationGracePeriodSeconds", 5}}},
                    {"startupProbe", json::object()}};
  json pod = kPod;
  EXPECT_EQ(killGracePeriod(pod, container), 30);
  EXPECT_EQ(killGracePeriod(pod, container, ProbeType::kLiveness), 5);
  EXPECT_EQ(killGracePeriod(pod, container, ProbeType::kStartup), 30);
  EXPECT_EQ(killGracePeriod(pod, container, ProbeType::kReadiness), 30);
  pod["metadata"]["deletionGracePeriodSeconds"] = 0;
  EXPECT_EQ(killGracePeriod(pod, container, ProbeType::kLiveness), 0);
  json bare = {{"metadata", {{"name", "p"}}}};
  EXPECT_EQ(killGracePeriod(bare, container, ProbeType::kLiveness), 2);
}

}  // namespace
}  // namespace berth::kubelet::prober
