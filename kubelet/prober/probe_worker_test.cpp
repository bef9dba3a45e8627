// The worker's state machine (worker.go's doProbe) and its ticker, driven by hand: each run is
// prepare() then record() with a scripted outcome.
#include "kubelet/prober/probe_worker.h"

#include <gtest/gtest.h>

namespace berth::kubelet::prober {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Step = ProbeWorker::Step;

constexpr std::int64_t kSecond = 1'000'000'000;

ContainerStatus running(const std::string& id, std::int64_t startedAt = 0) {
  ContainerStatus c;
  c.id = id;
  c.name = "app";
  c.state = ContainerState::kRunning;
  c.startedAt = startedAt;
  return c;
}

ProbeWorker worker(ProbeType type, json probe, bool restartableInit = false) {
  json container = {{"name", "app"}, {probeSpecField(type), probe}};
  return ProbeWorker(type, container, restartableInit);
}

WorkerView view(const ContainerStatus& c, bool started = true) {
  return WorkerView{.container = &c,
                    .started = started,
                    .podDeleting = false,
                    .restartPolicy = "Always",
                    .wallNowNs = 100 * kSecond};
}

ProbeOutcome outcome(char r) {
  switch (r) {
    case 'S':
      return {HandlerResult::kSuccess, "ok"};
    case 'W':
      return {HandlerResult::kWarning, "redirect"};
    case 'U':
      return {HandlerResult::kUnknown, "?"};
    default:
      return {HandlerResult::kFailure, "bad"};
  }
}

// One column per run: the handler's answer ('S', 'F', 'W', 'U', 'E' for a prober error) and
// the result held after it ('s' success, 'f' failure, 'u' unknown, '-' held, so no run).
struct ThresholdCase {
  const char* name;
  ProbeType type;
  int successThreshold;
  int failureThreshold;
  const char* answers;
  const char* results;
};

class ThresholdTest : public ::testing::TestWithParam<ThresholdCase> {};

TEST_P(ThresholdTest, ResultsFollowThresholds) {
  const ThresholdCase& tc = GetParam();
  ProbeWorker w = worker(tc.type, {{"exec", {{"command", {"true"}}}},
                                   {"successThreshold", tc.successThreshold},
                                   {"failureThreshold", tc.failureThreshold}});
  ContainerStatus c = running("c1");
  const bool started = tc.type != ProbeType::kStartup;
  std::string got;
  for (const char* a = tc.answers; *a; ++a) {
    if (w.prepare(view(c, started)) != Step::kProbe) {
      got += '-';
      continue;
    }
    if (*a == 'E') {
      w.record(std::unexpected(Error(Code::kUnavailable, "exec failed")));
    } else {
      w.record(outcome(*a));
    }
    switch (w.result().value_or(ProbeResult::kUnknown)) {
      case ProbeResult::kSuccess:
        got += 's';
        break;
      case ProbeResult::kFailure:
        got += 'f';
        break;
      case ProbeResult::kUnknown:
        got += 'u';
        break;
    }
  }
  EXPECT_EQ(got, tc.results);
}

INSTANTIATE_TEST_SUITE_P(
    Worker, ThresholdTest,
    ::testing::Values(
        // Readiness starts failed and passes after successThreshold successes in a row.
        ThresholdCase{"ReadinessOneSuccess", ProbeType::kReadiness, 1, 3, "SFFFS", "sssfs"},
        ThresholdCase{"ReadinessTwoSuccesses", ProbeType::kReadiness, 2, 3, "SSFSS", "fssss"},
        ThresholdCase{"ReadinessBrokenRun", ProbeType::kReadiness, 3, 1, "SSFSSS", "fffffs"},
        // Liveness starts alive, fails after failureThreshold failures, then holds.
        ThresholdCase{"LivenessThree", ProbeType::kLiveness, 1, 3, "FFSFFFS", "sssssf-"},
        ThresholdCase{"LivenessOne", ProbeType::kLiveness, 1, 1, "SFS", "sf-"},
        // Warnings are successes; unknown handler results are failures; errors do not count.
        ThresholdCase{"WarningCounts", ProbeType::kReadiness, 1, 3, "W", "s"},
        ThresholdCase{"UnknownIsFailure", ProbeType::kLiveness, 1, 2, "UU", "sf"},
        ThresholdCase{"ErrorsDropped", ProbeType::kLiveness, 1, 2, "FEEF", "sssf"},
        // Startup is unknown until decided either way, then holds.
        ThresholdCase{"StartupSucceeds", ProbeType::kStartup, 1, 3, "FFSS", "uus-"},
        ThresholdCase{"StartupFails", ProbeType::kStartup, 1, 3, "FFFS", "uuf-"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ProbeWorkerTest, NewContainerResetsResultAndHold) {
  ProbeWorker w = worker(ProbeType::kLiveness, {{"exec", json::object()}, {"failureThreshold", 1}});
  ContainerStatus c1 = running("c1");
  ASSERT_EQ(w.prepare(view(c1)), Step::kProbe);
  EXPECT_TRUE(w.takeChanged());  // the initial success is published
  w.record(outcome('F'));
  EXPECT_EQ(w.result(), ProbeResult::kFailure);
  EXPECT_TRUE(w.takeChanged());
  EXPECT_EQ(w.prepare(view(c1)), Step::kWait);  // on hold until the container is replaced

  ContainerStatus c2 = running("c2");
  EXPECT_EQ(w.prepare(view(c2)), Step::kProbe);
  EXPECT_EQ(w.containerId(), "c2");
  EXPECT_EQ(w.result(), ProbeResult::kSuccess);
  EXPECT_TRUE(w.takeChanged());
}

TEST(ProbeWorkerTest, ReadinessOfNewContainerStartsFailed) {
  ProbeWorker w = worker(ProbeType::kReadiness, {{"exec", json::object()}});
  ContainerStatus c1 = running("c1");
  ASSERT_EQ(w.prepare(view(c1)), Step::kProbe);
  w.record(outcome('S'));
  EXPECT_EQ(w.result(), ProbeResult::kSuccess);
  ContainerStatus c2 = running("c2");
  w.prepare(view(c2));
  EXPECT_EQ(w.result(), ProbeResult::kFailure);
}

TEST(ProbeWorkerTest, StartupGatesTheOthers) {
  ContainerStatus c = running("c1");
  ProbeWorker liveness = worker(ProbeType::kLiveness, {{"exec", json::object()}});
  ProbeWorker readiness = worker(ProbeType::kReadiness, {{"exec", json::object()}});
  ProbeWorker startup = worker(ProbeType::kStartup, {{"exec", json::object()}});
  EXPECT_EQ(liveness.prepare(view(c, false)), Step::kWait);
  EXPECT_EQ(readiness.prepare(view(c, false)), Step::kWait);
  EXPECT_EQ(startup.prepare(view(c, false)), Step::kProbe);
  EXPECT_EQ(liveness.prepare(view(c, true)), Step::kProbe);
  EXPECT_EQ(readiness.prepare(view(c, true)), Step::kProbe);
  EXPECT_EQ(startup.prepare(view(c, true)), Step::kWait);
}

TEST(ProbeWorkerTest, InitialDelayCountsWholeSecondsSinceStart) {
  ProbeWorker w =
      worker(ProbeType::kReadiness, {{"exec", json::object()}, {"initialDelaySeconds", 5}});
  // Started 4.9 s before "now" (100 s): int(4.9) < 5.
  ContainerStatus c = running("c1", 100 * kSecond - 4'900'000'000);
  EXPECT_EQ(w.prepare(view(c)), Step::kWait);
  EXPECT_EQ(w.result(), ProbeResult::kFailure);  // the initial value is set meanwhile
  c.startedAt = 95 * kSecond;
  EXPECT_EQ(w.prepare(view(c)), Step::kProbe);
}

struct StoppedCase {
  const char* name;
  ContainerState state;
  const char* restartPolicy;
  bool restartableInit;
  Step expected;
};

class NotRunningTest : public ::testing::TestWithParam<StoppedCase> {};

TEST_P(NotRunningTest, FailsAndStopsOnlyWhenNoRestartComes) {
  const StoppedCase& tc = GetParam();
  ProbeWorker w = worker(ProbeType::kReadiness, {{"exec", json::object()}}, tc.restartableInit);
  ContainerStatus c = running("c1");
  c.state = tc.state;
  WorkerView v = view(c);
  v.restartPolicy = tc.restartPolicy;
  EXPECT_EQ(w.prepare(v), tc.expected);
  EXPECT_EQ(w.result(), ProbeResult::kFailure);
}

INSTANTIATE_TEST_SUITE_P(
    Worker, NotRunningTest,
    ::testing::Values(
        StoppedCase{"ExitedNever", ContainerState::kExited, "Never", false, Step::kStop},
        StoppedCase{"ExitedAlways", ContainerState::kExited, "Always", false, Step::kWait},
        StoppedCase{"ExitedOnFailure", ContainerState::kExited, "OnFailure", false, Step::kWait},
        StoppedCase{"SidecarExitedNever", ContainerState::kExited, "Never", true, Step::kWait},
        StoppedCase{"CreatedNever", ContainerState::kCreated, "Never", false, Step::kWait}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ProbeWorkerTest, DeletionPassesLivenessAndStartupAndStopsThem) {
  ContainerStatus c = running("c1");
  for (ProbeType type : {ProbeType::kLiveness, ProbeType::kStartup}) {
    ProbeWorker w = worker(type, {{"exec", json::object()}});
    WorkerView v = view(c, type != ProbeType::kStartup);
    v.podDeleting = true;
    EXPECT_EQ(w.prepare(v), Step::kStop);
    EXPECT_EQ(w.result(), ProbeResult::kSuccess);
  }
  ProbeWorker readiness = worker(ProbeType::kReadiness, {{"exec", json::object()}});
  WorkerView v = view(c);
  v.podDeleting = true;
  EXPECT_EQ(readiness.prepare(v), Step::kProbe);
}

TEST(ProbeWorkerTest, NoContainerWaits) {
  ProbeWorker w = worker(ProbeType::kLiveness, {{"exec", json::object()}});
  EXPECT_EQ(w.prepare(WorkerView{}), Step::kWait);
  EXPECT_FALSE(w.result());
}

TEST(ProbeWorkerTest, TickerKeepsPhaseDropsMissedTicksAndRestartsOnTrigger) {
  using TP = ProbeWorker::TimePoint;
  const TP t0{std::chrono::hours(1)};
  ProbeWorker w = worker(ProbeType::kLiveness, {{"exec", json::object()}, {"periodSeconds", 10}});
  w.start(t0);
  EXPECT_EQ(w.due(), t0);
  w.afterRun(t0 + 2s);  // a 2 s probe
  EXPECT_EQ(w.due(), t0 + 10s);
  w.afterRun(t0 + 35s);  // a probe that outlived three ticks: one is kept, at once
  EXPECT_EQ(w.due(), t0 + 30s);
  w.afterRun(t0 + 36s);
  EXPECT_EQ(w.due(), t0 + 40s);
  w.trigger(t0 + 37s);  // a manual run restarts the ticker from then
  EXPECT_EQ(w.due(), t0 + 37s);
  w.afterRun(t0 + 37s);
  EXPECT_EQ(w.due(), t0 + 47s);
  w.setInFlight(true);
  w.trigger(t0 + 50s);  // during a run: once more right after it
  EXPECT_EQ(w.due(), t0 + 47s);
  w.afterRun(t0 + 52s);
  EXPECT_EQ(w.due(), t0 + 52s);
}

}  // namespace
}  // namespace berth::kubelet::prober
