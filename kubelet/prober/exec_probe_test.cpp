// The exec handler and the Prober's dispatch, with ExecSync replaced by a function (the seam the
// kubelet binds to the CRI client).
#include "kubelet/prober/exec_probe.h"

#include <gtest/gtest.h>

#include "kubelet/prober/prober.h"

namespace berth::kubelet::prober {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct Call {
  std::string id;
  std::vector<std::string> cmd;
  std::chrono::seconds timeout;
};

// Records calls; answers with `answer`.
ExecFunction recorder(std::vector<Call>& calls, Result<ExecResult> answer) {
  return [&calls, answer](const std::string& id, const std::vector<std::string>& cmd,
                          std::chrono::seconds timeout) {
    calls.push_back({id, cmd, timeout});
    return answer;
  };
}

TEST(ExecProbeTest, ExitCodeDecides) {
  std::vector<Call> calls;
  auto ok = execProbe(recorder(calls, ExecResult{0, "out", "err"}), "c1", {"true"}, 3s);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->result, HandlerResult::kSuccess);
  EXPECT_EQ(ok->output, "outerr");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].id, "c1");
  EXPECT_EQ(calls[0].timeout, 3s);

  auto bad = execProbe(recorder(calls, ExecResult{1, "", "no"}), "c1", {"false"}, 1s);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->result, HandlerResult::kFailure);
  EXPECT_EQ(bad->output, "no");
}

TEST(ExecProbeTest, TimeoutIsAFailure) {
  std::vector<Call> calls;
  auto r = execProbe(
      recorder(calls, std::unexpected(Error(Code::kDeadlineExceeded, "ExecSync c1: deadline"))),
      "c1", {"sleep", "10"}, 1s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result, HandlerResult::kFailure);
  EXPECT_EQ(r->output, "command \"sleep 10\" timed out");
}

TEST(ExecProbeTest, RuntimeErrorIsAnError) {
  std::vector<Call> calls;
  auto r = execProbe(recorder(calls, std::unexpected(Error(Code::kUnavailable, "no runtime"))),
                     "c1", {"true"}, 1s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "exec probe: no runtime");
}

TEST(ProberTest, ExecCommandExpandsStaticEnvAndUsesTimeoutSeconds) {
  std::vector<Call> calls;
  Prober prober(recorder(calls, ExecResult{0, "", ""}));
  json container = {
      {"name", "app"},
      {"env",
       {{{"name", "FILE"}, {"value", "/tmp/ok"}},
        {{"name", "POD"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}}}}};
  json probe = {{"exec", {{"command", {"cat", "$(FILE)", "$(POD)", "$(NOPE)", "$$(FILE)"}}}},
                {"timeoutSeconds", 4}};
  auto r = prober.probe(probe, container, "c9", "10.0.0.5");
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].cmd, (std::vector<std::string>{"cat", "/tmp/ok", "", "$(NOPE)", "$(FILE)"}));
  EXPECT_EQ(calls[0].timeout, 4s);
}

TEST(ProberTest, ErrorsAreTriedThreeTimes) {
  std::vector<Call> calls;
  Prober prober(recorder(calls, std::unexpected(Error(Code::kUnavailable, "down"))));
  auto r = prober.probe({{"exec", {{"command", {"true"}}}}}, json::object(), "c1", "");
  EXPECT_FALSE(r);
  EXPECT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].timeout, 1s);  // the default timeoutSeconds
}

TEST(ProberTest, ProbeWithoutHandlerOrWithBadPortIsAnError) {
  std::vector<Call> calls;
  Prober prober(recorder(calls, ExecResult{}));
  auto none = prober.runProbe({{"periodSeconds", 1}}, {{"name", "app"}}, "c1", "10.0.0.1");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(), "missing probe handler for container \"app\"");
  auto port =
      prober.runProbe({{"tcpSocket", {{"port", "grpc"}}}}, {{"name", "app"}}, "c1", "10.0.0.1");
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().message(), "tcpSocket: port \"grpc\" not found in container \"app\"");
}

TEST(ProberTest, UserAgentNamesMajorMinor) {
  EXPECT_EQ(kubeUserAgent("probe"), "kube-probe/1.32");
  EXPECT_EQ(probeTypeName(ProbeType::kStartup), "Startup");
}

}  // namespace
}  // namespace berth::kubelet::prober
