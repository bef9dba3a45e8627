#include "kubelet/pod_actions.h"

#include <gtest/gtest.h>

namespace berth::kubelet {
namespace pod_actions_test {

using Json = nlohmann::json;

Json container(const std::string& name) {
  return {{"name", name}, {"image", "busybox"}};
}

Json pod(const std::string& policy, Json containers, Json inits = Json::array()) {
  Json spec = {{"restartPolicy", policy}, {"containers", std::move(containers)}};
  if (!inits.empty()) spec["initContainers"] = std::move(inits);
  return {{"metadata", {{"name", "p"}, {"namespace", "ns"}, {"uid", "u1"}}}, {"spec", spec}};
}

SandboxStatus sandbox(const std::string& id, bool ready, std::uint32_t attempt = 0) {
  return {
      .id = id, .ready = ready, .attempt = attempt, .createdAt = attempt + 1, .ips = {"10.0.0.2"}};
}

ContainerStatus ctr(const std::string& name, ContainerState state, int exitCode = 0,
                    const Json* spec = nullptr) {
  ContainerStatus c;
  c.id = name + "-id";
  c.name = name;
  c.state = state;
  c.exitCode = exitCode;
  if (spec) c.hash = containerHash(*spec);
  return c;
}

struct Case {
  std::string name;
  Json pod;
  RuntimePodStatus runtime;
  ProbeVerdicts probes;
  PodActions want;
};

// gtest names the case (instead of dumping its bytes into the test's name).
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

class PodActionsTable : public ::testing::TestWithParam<Case> {};

TEST_P(PodActionsTable, Plans) {
  const Case& c = GetParam();
  PodActions got = computePodActions(c.pod, c.runtime, c.probes);
  EXPECT_EQ(got.killPod, c.want.killPod);
  EXPECT_EQ(got.createSandbox, c.want.createSandbox);
  EXPECT_EQ(got.sandboxId, c.want.sandboxId);
  EXPECT_EQ(got.attempt, c.want.attempt);
  EXPECT_EQ(got.initContainersToStart, c.want.initContainersToStart);
  EXPECT_EQ(got.containersToStart, c.want.containersToStart);
  ASSERT_EQ(got.containersToKill.size(), c.want.containersToKill.size());
  for (std::size_t i = 0; i < got.containersToKill.size(); ++i) {
    EXPECT_EQ(got.containersToKill[i].id, c.want.containersToKill[i].id);
    EXPECT_EQ(got.containersToKill[i].probeGracePeriod,
              c.want.containersToKill[i].probeGracePeriod);
  }
}

const Json kApp = container("app");
const Json kTwo = Json::array({container("a"), container("b")});
Json sidecar(const std::string& name) {
  Json c = container(name);
  c["restartPolicy"] = "Always";
  return c;
}

ContainerStatus runningSidecar() {
  const Json spec = sidecar("side");
  return ctr("side", ContainerState::kRunning, 0, &spec);
}

std::vector<Case> cases() {
  std::vector<Case> v;
  v.push_back({"NewPodCreatesSandboxAndAllContainers",
               pod("Always", kTwo),
               {},
               {},
               {.killPod = true, .createSandbox = true, .containersToStart = {0, 1}}});
  v.push_back({"NewPodWithInitStartsFirstInitOnly",
               pod("Always", Json::array({kApp}), Json::array({container("i1"), container("i2")})),
               {},
               {},
               {.killPod = true, .createSandbox = true, .initContainersToStart = {0}}});
  v.push_back({"RunningPodIsLeftAlone",
               pod("Always", Json::array({kApp})),
               {.sandboxes = {sandbox("s1", true)},
                .containers = {ctr("app", ContainerState::kRunning, 0, &kApp)}},
               {},
               {.sandboxId = "s1"}});
  v.push_back(
      {"ExitedContainerRestartsUnderAlways",
       pod("Always", Json::array({kApp})),
       {.sandboxes = {sandbox("s1", true)}, .containers = {ctr("app", ContainerState::kExited, 0)}},
       {},
       {.sandboxId = "s1", .containersToStart = {0}}});
  v.push_back(
      {"SucceededContainerStaysUnderOnFailureAndPodIsDone",
       pod("OnFailure", Json::array({kApp})),
       {.sandboxes = {sandbox("s1", true)}, .containers = {ctr("app", ContainerState::kExited, 0)}},
       {},
       {.killPod = true, .sandboxId = "s1"}});
  v.push_back(
      {"FailedContainerRestartsUnderOnFailure",
       pod("OnFailure", Json::array({kApp})),
       {.sandboxes = {sandbox("s1", true)}, .containers = {ctr("app", ContainerState::kExited, 3)}},
       {},
       {.sandboxId = "s1", .containersToStart = {0}}});
  v.push_back(
      {"NeverKillsThePodWhenAllExited",
       pod("Never", kTwo),
       {.sandboxes = {sandbox("s1", true)},
        .containers = {ctr("a", ContainerState::kExited, 0), ctr("b", ContainerState::kExited, 1)}},
       {},
       {.killPod = true, .sandboxId = "s1"}});
  v.push_back(
      {"NeverKeepsTheOtherRunning",
       pod("Never", kTwo),
       {.sandboxes = {sandbox("s1", true)},
        .containers = {ctr("a", ContainerState::kExited, 1), ctr("b", ContainerState::kRunning)}},
       {},
       {.sandboxId = "s1"}});
  v.push_back({"DeadSandboxIsRecreatedWithTheNextAttempt",
               pod("Always", Json::array({kApp})),
               {.sandboxes = {sandbox("s1", false, 2)},
                .containers = {ctr("app", ContainerState::kExited, 137)}},
               {},
               {.killPod = true, .createSandbox = true, .attempt = 3, .containersToStart = {0}}});
  v.push_back({"DeadSandboxUnderNeverIsNotRecreated",
               pod("Never", Json::array({kApp})),
               {.sandboxes = {sandbox("s1", false, 0)},
                .containers = {ctr("app", ContainerState::kExited, 0)}},
               {},
               {.killPod = true, .attempt = 1}});
  v.push_back({"DeadSandboxUnderOnFailureWithAllSucceededIsDone",
               pod("OnFailure", Json::array({kApp})),
               {.sandboxes = {sandbox("s1", false, 0)},
                .containers = {ctr("app", ContainerState::kExited, 0)}},
               {},
               {.killPod = true, .attempt = 1}});
  v.push_back({"TwoReadySandboxesAreReplaced",
               pod("Always", Json::array({kApp})),
               {.sandboxes = {sandbox("s2", true, 1), sandbox("s1", true, 0)}},
               {},
               {.killPod = true, .createSandbox = true, .attempt = 2, .containersToStart = {0}}});
  v.push_back(
      {"ChangedSpecRestartsEvenUnderNever",
       pod("Never", Json::array({kApp})),
       {.sandboxes = {sandbox("s1", true)}, .containers = {[] {
                                              auto c = ctr("app", ContainerState::kRunning);
                                              c.hash = 42;
                                              return c;
                                            }()}},
       {},
       {.sandboxId = "s1", .containersToStart = {0}, .containersToKill = {{"app-id", "app", ""}}}});
  v.push_back(
      {"FailedLivenessRestartsUnderAlways",
       pod("Always", Json::array({kApp})),
       {.sandboxes = {sandbox("s1", true)},
        .containers = {ctr("app", ContainerState::kRunning, 0, &kApp)}},
       {.livenessFailed = {"app-id"}},
       {.sandboxId = "s1", .containersToStart = {0}, .containersToKill = {{"app-id", "app", ""}}}});
  static const Json kProbeGrace = [] {
    Json c = container("app");
    c["livenessProbe"] = {{"exec", {{"command", {"true"}}}}, {"terminationGracePeriodSeconds", 3}};
    return c;
  }();
  v.push_back({"FailedLivenessKillsWithTheProbesGrace",
               pod("Always", Json::array({kProbeGrace})),
               {.sandboxes = {sandbox("s1", true)},
                .containers = {ctr("app", ContainerState::kRunning, 0, &kProbeGrace)}},
               {.livenessFailed = {"app-id"}},
               {.sandboxId = "s1",
                .containersToStart = {0},
                .containersToKill = {{.id = "app-id", .name = "app", .probeGracePeriod = 3}}}});
  v.push_back({"FailedLivenessUnderNeverKillsThePod",
               pod("Never", Json::array({kApp})),
               {.sandboxes = {sandbox("s1", true)},
                .containers = {ctr("app", ContainerState::kRunning, 0, &kApp)}},
               {.livenessFailed = {"app-id"}},
               {.killPod = true, .sandboxId = "s1"}});
  v.push_back(
      {"RunningInitContainerIsWaitedFor",
       pod("Always", Json::array({kApp}), Json::array({container("i1"), container("i2")})),
       {.sandboxes = {sandbox("s1", true)}, .containers = {ctr("i1", ContainerState::kRunning)}},
       {},
       {.sandboxId = "s1"}});
  v.push_back(
      {"NextInitContainerAfterASuccess",
       pod("Always", Json::array({kApp}), Json::array({container("i1"), container("i2")})),
       {.sandboxes = {sandbox("s1", true)}, .containers = {ctr("i1", ContainerState::kExited, 0)}},
       {},
       {.sandboxId = "s1", .initContainersToStart = {1}}});
  v.push_back(
      {"FailedInitContainerRetriesUnderAlways",
       pod("Always", Json::array({kApp}), Json::array({container("i1")})),
       {.sandboxes = {sandbox("s1", true)}, .containers = {ctr("i1", ContainerState::kExited, 1)}},
       {},
       {.sandboxId = "s1", .initContainersToStart = {0}}});
  v.push_back(
      {"FailedInitContainerUnderNeverFailsThePod",
       pod("Never", Json::array({kApp}), Json::array({container("i1")})),
       {.sandboxes = {sandbox("s1", true)}, .containers = {ctr("i1", ContainerState::kExited, 1)}},
       {},
       {.killPod = true, .sandboxId = "s1"}});
  v.push_back(
      {"AppsStartAfterInitContainersSucceeded",
       pod("Always", kTwo, Json::array({container("i1")})),
       {.sandboxes = {sandbox("s1", true)}, .containers = {ctr("i1", ContainerState::kExited, 0)}},
       {},
       {.sandboxId = "s1", .containersToStart = {0, 1}}});
  v.push_back({"SidecarMustStartBeforeTheApps",
               pod("Always", Json::array({kApp}), Json::array({sidecar("side")})),
               {.sandboxes = {sandbox("s1", true)}, .containers = {runningSidecar()}},
               {.notStarted = {"side-id"}},
               {.sandboxId = "s1"}});
  v.push_back({"StartedSidecarLetsTheAppsStart",
               pod("Always", Json::array({kApp}), Json::array({sidecar("side")})),
               {.sandboxes = {sandbox("s1", true)}, .containers = {runningSidecar()}},
               {},
               {.sandboxId = "s1", .containersToStart = {0}}});
  v.push_back({"ExitedSidecarRestartsEvenUnderNever",
               pod("Never", Json::array({kApp}), Json::array({sidecar("side")})),
               {.sandboxes = {sandbox("s1", true)},
                .containers = {ctr("app", ContainerState::kRunning),
                               ctr("side", ContainerState::kExited, 1)}},
               {},
               {.sandboxId = "s1", .initContainersToStart = {0}}});
  v.push_back({"AppsDoneKillsThePodAndItsSidecars",
               pod("Never", Json::array({kApp}), Json::array({sidecar("side")})),
               {.sandboxes = {sandbox("s1", true)},
                .containers = {ctr("app", ContainerState::kExited, 0), runningSidecar()}},
               {},
               {.killPod = true, .sandboxId = "s1"}});
  v.push_back(
      {"CreatedButNotStartedContainerIsReplaced",
       pod("Always", Json::array({kApp})),
       {.sandboxes = {sandbox("s1", true)}, .containers = {ctr("app", ContainerState::kCreated)}},
       {},
       {.sandboxId = "s1", .containersToStart = {0}, .containersToKill = {{"app-id", "app", ""}}}});
  return v;
}

INSTANTIATE_TEST_SUITE_P(Cases, PodActionsTable, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

TEST(ContainerHash, IgnoresResourcesButNotTheImage) {
  Json a = {{"name", "app"}, {"image", "busybox:1"}, {"resources", {{"limits", {{"cpu", "1"}}}}}};
  Json b = a;
  b["resources"]["limits"]["cpu"] = "2";
  EXPECT_EQ(containerHash(a), containerHash(b));
  b["image"] = "busybox:2";
  EXPECT_NE(containerHash(a), containerHash(b));
}

}  // namespace pod_actions_test
}  // namespace berth::kubelet
