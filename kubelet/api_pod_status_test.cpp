#include "kubelet/api_pod_status.h"

#include <gtest/gtest.h>

namespace berth::kubelet {
namespace api_pod_status_test {

using Json = nlohmann::json;
constexpr std::int64_t kSec = 1'000'000'000;

Json pod(const std::string& policy, Json containers, Json inits = Json::array()) {
  Json spec = {{"restartPolicy", policy}, {"containers", std::move(containers)}};
  if (!inits.empty()) spec["initContainers"] = std::move(inits);
  return {{"metadata", {{"name", "p"}, {"namespace", "ns"}, {"uid", "u1"}}}, {"spec", spec}};
}

ContainerStatus ctr(const std::string& name, ContainerState state, int exitCode = 0,
                    std::int64_t created = 1) {
  ContainerStatus c;
  c.id = name + "-" + std::to_string(created);
  c.name = name;
  c.state = state;
  c.exitCode = exitCode;
  c.createdAt = created;
  c.startedAt = 1700000000 * kSec;
  if (state == ContainerState::kExited) c.finishedAt = 1700000010 * kSec;
  c.imageRef = "registry/busybox@sha256:abc";
  return c;
}

RuntimePodStatus runtime(std::vector<ContainerStatus> containers) {
  RuntimePodStatus r;
  r.sandboxes = {{.id = "s1", .ready = true, .ips = {"10.88.0.5", "fd00::5"}}};
  r.containers = std::move(containers);
  return r;
}

Json generate(const Json& p, const RuntimePodStatus& r, const ProbeVerdicts& probes = {},
              std::map<std::string, WaitingReason> waiting = {}, bool terminal = false) {
  return generatePodStatus({.pod = p,
                            .runtime = r,
                            .probes = probes,
                            .waiting = std::move(waiting),
                            .nodeIps = {"10.1.0.5"},
                            .runtimeName = "berth",
                            .now = kubeapi::now(),
                            .terminal = terminal});
}

const Json& condition(const Json& status, const std::string& type) {
  for (const Json& c : status["conditions"])
    if (c["type"] == type) return c;
  static const Json kNone;
  return kNone;
}

const Json kApp = {{"name", "app"}, {"image", "busybox"}};

TEST(PodStatus, RunningPodIsReadyWithIpsAndContainerIds) {
  Json s =
      generate(pod("Always", Json::array({kApp})), runtime({ctr("app", ContainerState::kRunning)}));
  EXPECT_EQ(s["phase"], "Running");
  EXPECT_EQ(s["podIP"], "10.88.0.5");
  EXPECT_EQ(s["podIPs"].size(), 2u);
  EXPECT_EQ(s["hostIP"], "10.1.0.5");
  EXPECT_EQ(s["qosClass"], "BestEffort");
  const Json& c = s["containerStatuses"][0];
  EXPECT_EQ(c["containerID"], "berth://app-1");
  EXPECT_EQ(c["imageID"], "registry/busybox@sha256:abc");
  EXPECT_TRUE(c["ready"].get<bool>());
  EXPECT_TRUE(c["started"].get<bool>());
  EXPECT_EQ(c["state"]["running"]["startedAt"], "2023-11-14T22:13:20Z");
  for (const char* type :
       {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
    EXPECT_EQ(condition(s, type)["status"], "True") << type;
  }
}

TEST(PodStatus, ReadinessProbeGatesReady) {
  Json app = kApp;
  app["readinessProbe"] = {{"exec", {{"command", {"true"}}}}};
  Json p = pod("Always", Json::array({app}));
  Json s = generate(p, runtime({ctr("app", ContainerState::kRunning)}));
  EXPECT_FALSE(s["containerStatuses"][0]["ready"].get<bool>());
  EXPECT_EQ(condition(s, "Ready")["status"], "False");
  EXPECT_EQ(condition(s, "Ready")["reason"], "ContainersNotReady");
  EXPECT_EQ(condition(s, "Ready")["message"], "containers with unready status: [app]");
  ProbeVerdicts ready{.ready = {"app-1"}};
  s = generate(p, runtime({ctr("app", ContainerState::kRunning)}), ready);
  EXPECT_EQ(condition(s, "Ready")["status"], "True");
}

TEST(PodStatus, CrashLoopShowsWaitingWithTheLastTermination) {
  Json s = generate(
      pod("Always", Json::array({kApp})), runtime({ctr("app", ContainerState::kExited, 2)}), {},
      {{"app", {"CrashLoopBackOff", "back-off 10s restarting failed container=app"}}});
  const Json& c = s["containerStatuses"][0];
  EXPECT_EQ(c["state"]["waiting"]["reason"], "CrashLoopBackOff");
  EXPECT_EQ(c["lastState"]["terminated"]["exitCode"], 2);
  EXPECT_EQ(c["lastState"]["terminated"]["reason"], "Error");
  // Restarting under Always: the pod still counts as Running.
  EXPECT_EQ(s["phase"], "Running");
}

TEST(PodStatus, PhaseFollowsExitCodesAndRestartPolicy) {
  Json two = Json::array({kApp, {{"name", "b"}, {"image", "busybox"}}});
  auto ok = ctr("app", ContainerState::kExited, 0);
  auto bad = ctr("b", ContainerState::kExited, 1);
  auto good = ctr("b", ContainerState::kExited, 0);
  EXPECT_EQ(generate(pod("Never", two), runtime({ok, good}))["phase"], "Succeeded");
  EXPECT_EQ(generate(pod("Never", two), runtime({ok, bad}))["phase"], "Failed");
  EXPECT_EQ(generate(pod("OnFailure", two), runtime({ok, bad}))["phase"], "Running");
  EXPECT_EQ(generate(pod("OnFailure", two), runtime({ok, good}))["phase"], "Succeeded");
  EXPECT_EQ(generate(pod("Always", two), runtime({ok, good}))["phase"], "Running");
  EXPECT_EQ(generate(pod("Always", two), runtime({ok, bad}), {}, {}, true)["phase"], "Failed");
  Json done = generate(pod("Never", two), runtime({ok, good}));
  EXPECT_EQ(condition(done, "Ready")["reason"], "PodCompleted");
  EXPECT_EQ(done["containerStatuses"][0]["state"]["terminated"]["reason"], "Completed");
}

TEST(PodStatus, InitContainersKeepThePodPending) {
  Json p =
      pod("Always", Json::array({kApp}), Json::array({{{"name", "init"}, {"image", "busybox"}}}));
  Json s = generate(p, runtime({ctr("init", ContainerState::kRunning)}));
  EXPECT_EQ(s["phase"], "Pending");
  EXPECT_EQ(condition(s, "Initialized")["status"], "False");
  EXPECT_EQ(condition(s, "Initialized")["message"], "containers with incomplete status: [init]");
  EXPECT_EQ(s["containerStatuses"][0]["state"]["waiting"]["reason"], "PodInitializing");
  // A failed init container under Never fails the pod.
  Json never =
      pod("Never", Json::array({kApp}), Json::array({{{"name", "init"}, {"image", "busybox"}}}));
  EXPECT_EQ(generate(never, runtime({ctr("init", ContainerState::kExited, 1)}))["phase"], "Failed");
  // Succeeded: the apps start.
  s = generate(p, runtime({ctr("app", ContainerState::kRunning, 0, 2),
                           ctr("init", ContainerState::kExited, 0)}));
  EXPECT_EQ(s["phase"], "Running");
  EXPECT_EQ(condition(s, "Initialized")["status"], "True");
}

TEST(PodStatus, RestartsShowTheEarlierInstanceAsLastState) {
  auto first = ctr("app", ContainerState::kExited, 137, 1);
  auto second = ctr("app", ContainerState::kRunning, 0, 2);
  second.restartCount = 1;
  Json s = generate(pod("Always", Json::array({kApp})), runtime({second, first}));
  const Json& c = s["containerStatuses"][0];
  EXPECT_EQ(c["restartCount"], 1);
  EXPECT_TRUE(c["state"].contains("running"));
  EXPECT_EQ(c["lastState"]["terminated"]["exitCode"], 137);
  EXPECT_EQ(c["lastState"]["terminated"]["containerID"], "berth://app-1");
}

TEST(PodStatus, TransitionTimesAndForeignConditionsAreKept) {
  Json p = pod("Always", Json::array({kApp}));
  p["status"] = {
      {"startTime", "2020-01-01T00:00:00Z"},
      {"conditions",
       {{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", "2020-01-01T00:00:01Z"}},
        {{"type", "PodScheduled"},
         {"status", "True"},
         {"lastTransitionTime", "2020-01-01T00:00:00Z"}},
        {{"type", "example.com/gate"}, {"status", "False"}}}}};
  p["spec"]["readinessGates"] = {{{"conditionType", "example.com/gate"}}};
  Json s = generate(p, runtime({ctr("app", ContainerState::kRunning)}));
  EXPECT_EQ(s["startTime"], "2020-01-01T00:00:00Z");
  EXPECT_EQ(condition(s, "PodScheduled")["lastTransitionTime"], "2020-01-01T00:00:00Z");
  EXPECT_EQ(condition(s, "example.com/gate")["status"], "False");
  // The gate is False: Ready is not, and its transition time moves.
  EXPECT_EQ(condition(s, "Ready")["status"], "False");
  EXPECT_EQ(condition(s, "Ready")["reason"], "ReadinessGatesNotReady");
  EXPECT_NE(condition(s, "Ready")["lastTransitionTime"], "2020-01-01T00:00:01Z");
  EXPECT_EQ(condition(s, "ContainersReady")["status"], "True");
}

TEST(PodStatus, HostNetworkPodHasTheNodeIps) {
  Json p = pod("Always", Json::array({kApp}));
  p["spec"]["hostNetwork"] = true;
  Json s = generate(p, runtime({ctr("app", ContainerState::kRunning)}));
  EXPECT_EQ(s["podIP"], "10.1.0.5");
}

}  // namespace api_pod_status_test
}  // namespace berth::kubelet
