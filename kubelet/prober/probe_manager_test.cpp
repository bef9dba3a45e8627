// The ProbeManager over a FakeClock: workers run by runDue() after the clock moves, exec probes
// answered by a scripted ExecSync (per container ID), verdicts and change callbacks checked.
#include "kubelet/prober/probe_manager.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace berth::kubelet::prober {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

json execProbe(json extra = json::object()) {
  json p = {{"exec", {{"command", {"check"}}}}, {"periodSeconds", 10}};
  p.update(extra);
  return p;
}

class ProbeManagerTest : public ::testing::Test {
 protected:
  ProbeManagerTest() {
    ProbeManagerOptions o;
    o.clock = &clock_;
    o.wallClockNs = [this] { return nowNs(); };
    o.random = [] { return 0.0; };
    o.onChange = [this](const std::string& uid) { changes_.push_back(uid); };
    manager_ = std::make_unique<ProbeManager>(Prober(exec()), std::move(o));
  }

  std::int64_t nowNs() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.now().time_since_epoch())
        .count();
  }
  // Exit codes by "<container id> <probe command>"; unknown commands exit 0.
  ExecFunction exec() {
    return [this](const std::string& id, const std::vector<std::string>& cmd,
                  std::chrono::seconds) -> Result<ExecResult> {
      std::string key = id + " " + cmd.front();
      calls_.push_back(key);
      auto it = exits_.find(key);
      return ExecResult{it == exits_.end() ? 0 : it->second, "", ""};
    };
  }

  static json pod(json containers, json initContainers = json::array(),
                  const std::string& restartPolicy = "Always") {
    return {{"metadata", {{"uid", "u1"}, {"name", "web"}, {"namespace", "default"}}},
            {"spec",
             {{"containers", containers},
              {"initContainers", initContainers},
              {"restartPolicy", restartPolicy}}}};
  }
  RuntimePodStatus status(std::vector<ContainerStatus> containers) {
    RuntimePodStatus s;
    s.uid = "u1";
    s.name = "web";
    s.ns = "default";
    s.sandboxes.push_back({.id = "s1", .ready = true, .ips = {"10.1.0.7"}});
    s.containers = std::move(containers);
    return s;
  }
  ContainerStatus running(const std::string& name, const std::string& id) {
    ContainerStatus c;
    c.id = id;
    c.name = name;
    c.state = ContainerState::kRunning;
    c.startedAt = nowNs();
    return c;
  }
  // Moves the clock one second at a time, running what is due each time.
  void advance(std::chrono::seconds d) {
    for (auto i = 0s; i < d; i += 1s) {
      clock_.advance(1s);
      manager_->runDue();
    }
  }
  int callsOf(const std::string& key) const {
    return static_cast<int>(std::count(calls_.begin(), calls_.end(), key));
  }

  kubeapi::FakeClock clock_;
  std::map<std::string, int> exits_;
  std::vector<std::string> calls_;
  std::vector<std::string> changes_;
  std::unique_ptr<ProbeManager> manager_;
};

TEST_F(ProbeManagerTest, ReadinessAndLivenessBecomeVerdicts) {
  manager_->addPod(pod({{{"name", "app"},
                         {"readinessProbe", execProbe({{"periodSeconds", 5}})},
                         {"livenessProbe", execProbe({{"failureThreshold", 2},
                                                      {"exec", {{"command", {"alive"}}}}})}}}));
  manager_->runDue();  // no status yet: nothing to probe
  EXPECT_TRUE(calls_.empty());
  EXPECT_TRUE(manager_->verdicts("u1").ready.empty());

  manager_->updateContainers(status({running("app", "c1")}));
  manager_->runDue();
  ProbeVerdicts v = manager_->verdicts("u1");
  EXPECT_EQ(v.ready, std::set<std::string>{"c1"});
  EXPECT_TRUE(v.livenessFailed.empty());
  EXPECT_FALSE(changes_.empty());

  exits_["c1 alive"] = 1;
  advance(10s);
  EXPECT_TRUE(manager_->verdicts("u1").livenessFailed.empty());  // 1 of 2 failures
  advance(10s);
  EXPECT_EQ(manager_->verdicts("u1").livenessFailed, std::set<std::string>{"c1"});
  const int livenessRuns = callsOf("c1 alive");
  advance(30s);
  EXPECT_EQ(callsOf("c1 alive"), livenessRuns);  // held until the container is replaced

  // The restart: results start over for the new container.
  manager_->updateContainers(status({running("app", "c2")}));
  advance(10s);
  v = manager_->verdicts("u1");
  EXPECT_TRUE(v.livenessFailed.empty());
  EXPECT_EQ(v.ready, std::set<std::string>{"c2"});
  EXPECT_GT(callsOf("c2 alive"), 0);
}

TEST_F(ProbeManagerTest, PeriodAndInitialDelayFollowTheClock) {
  manager_->addPod(
      pod({{{"name", "app"}, {"livenessProbe", execProbe({{"initialDelaySeconds", 15}})}}}));
  manager_->updateContainers(status({running("app", "c1")}));
  manager_->runDue();
  advance(14s);
  EXPECT_EQ(callsOf("c1 check"), 0);  // runs at 0 and 10 s fell inside the delay
  advance(6s);                        // the tick at 20 s
  EXPECT_EQ(callsOf("c1 check"), 1);
  advance(9s);
  EXPECT_EQ(callsOf("c1 check"), 1);
  advance(1s);
  EXPECT_EQ(callsOf("c1 check"), 2);
}

TEST_F(ProbeManagerTest, StartupProbeGatesLivenessAndReadiness) {
  exits_["c1 started"] = 1;
  manager_->addPod(pod({{{"name", "app"},
                         {"startupProbe", execProbe({{"periodSeconds", 1},
                                                     {"failureThreshold", 30},
                                                     {"exec", {{"command", {"started"}}}}})},
                         {"readinessProbe", execProbe({{"exec", {{"command", {"ready"}}}}})},
                         {"livenessProbe", execProbe({{"exec", {{"command", {"alive"}}}}})}}}));
  manager_->updateContainers(status({running("app", "c1")}));
  manager_->runDue();
  advance(5s);
  ProbeVerdicts v = manager_->verdicts("u1");
  EXPECT_EQ(v.notStarted, std::set<std::string>{"c1"});
  EXPECT_TRUE(v.ready.empty());
  EXPECT_TRUE(v.startupFailed.empty());
  EXPECT_EQ(callsOf("c1 ready") + callsOf("c1 alive"), 0);

  exits_["c1 started"] = 0;
  advance(1s);  // startup passes and readiness runs at once
  v = manager_->verdicts("u1");
  EXPECT_TRUE(v.notStarted.empty());
  EXPECT_EQ(v.ready, std::set<std::string>{"c1"});
  const int startupRuns = callsOf("c1 started");
  advance(20s);
  EXPECT_EQ(callsOf("c1 started"), startupRuns);  // done for this container
  EXPECT_GT(callsOf("c1 alive"), 0);
}

TEST_F(ProbeManagerTest, StartupFailureIsAVerdict) {
  exits_["c1 check"] = 1;
  manager_->addPod(
      pod({{{"name", "app"},
            {"startupProbe", execProbe({{"periodSeconds", 1}, {"failureThreshold", 3}})}}}));
  manager_->updateContainers(status({running("app", "c1")}));
  manager_->runDue();
  advance(1s);
  EXPECT_TRUE(manager_->verdicts("u1").startupFailed.empty());
  advance(1s);
  ProbeVerdicts v = manager_->verdicts("u1");
  EXPECT_EQ(v.startupFailed, std::set<std::string>{"c1"});
  EXPECT_EQ(v.notStarted, std::set<std::string>{"c1"});
}

TEST_F(ProbeManagerTest, SidecarsAreProbedAndPlainInitContainersAreNot) {
  manager_->addPod(
      pod({{{"name", "app"}}},
          {{{"name", "proxy"}, {"restartPolicy", "Always"}, {"readinessProbe", execProbe()}},
           {{"name", "setup"}, {"readinessProbe", execProbe()}}}));
  manager_->updateContainers(status({running("proxy", "p1"), running("setup", "s1")}));
  manager_->runDue();
  EXPECT_EQ(manager_->verdicts("u1").ready, std::set<std::string>{"p1"});
  EXPECT_EQ(callsOf("s1 check"), 0);
}

TEST_F(ProbeManagerTest, WorkerStopsWhenItsContainerWillNotComeBack) {
  manager_->addPod(
      pod({{{"name", "app"}, {"readinessProbe", execProbe()}}}, json::array(), "Never"));
  manager_->updateContainers(status({running("app", "c1")}));
  manager_->runDue();
  EXPECT_EQ(manager_->counters().size(), 1u);
  ContainerStatus exited = running("app", "c1");
  exited.state = ContainerState::kExited;
  manager_->updateContainers(status({exited}));
  advance(10s);
  EXPECT_TRUE(manager_->verdicts("u1").ready.empty());
  EXPECT_FALSE(manager_->nextDue());  // no worker left
  EXPECT_TRUE(manager_->counters().empty());
}

TEST_F(ProbeManagerTest, DeletionStandsDownLivenessAndRemovePodForgetsAll) {
  exits_["c1 alive"] = 1;
  json p = pod(
      {{{"name", "app"},
        {"livenessProbe", execProbe({{"failureThreshold", 1}, {"exec", {{"command", {"alive"}}}}})},
        {"readinessProbe", execProbe()}}});
  manager_->addPod(p);
  p["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z";
  manager_->addPod(p);  // the update
  manager_->updateContainers(status({running("app", "c1")}));
  advance(20s);
  EXPECT_EQ(callsOf("c1 alive"), 0);
  EXPECT_TRUE(manager_->verdicts("u1").livenessFailed.empty());
  EXPECT_EQ(manager_->verdicts("u1").ready, std::set<std::string>{"c1"});

  manager_->removePod("u1");
  EXPECT_TRUE(manager_->verdicts("u1").ready.empty());
  EXPECT_TRUE(manager_->counters().empty());
  EXPECT_FALSE(manager_->nextDue());
}

TEST_F(ProbeManagerTest, CountersByResult) {
  manager_->addPod(pod({{{"name", "app"}, {"livenessProbe", execProbe()}}}));
  manager_->updateContainers(status({running("app", "c1")}));
  manager_->runDue();
  advance(10s);
  exits_["c1 check"] = 1;
  advance(10s);
  std::map<std::string, std::uint64_t> byResult;
  for (const auto& c : manager_->counters()) {
    EXPECT_EQ(c.probeType, "Liveness");
    EXPECT_EQ(c.container, "app");
    EXPECT_EQ(c.pod, "web");
    EXPECT_EQ(c.ns, "default");
    EXPECT_EQ(c.podUid, "u1");
    byResult[c.result] = c.value;
  }
  EXPECT_EQ(byResult, (std::map<std::string, std::uint64_t>{{"failed", 1}, {"successful", 2}}));
}

TEST_F(ProbeManagerTest, FirstRunsAreSpreadRightAfterStart) {
  ProbeManagerOptions o;
  o.clock = &clock_;
  o.random = [] { return 0.5; };
  ProbeManager m(Prober(exec()), o);
  m.addPod(pod({{{"name", "app"}, {"livenessProbe", execProbe()}}}));
  ASSERT_TRUE(m.nextDue());
  EXPECT_EQ(*m.nextDue(), clock_.now() + 5s);

  clock_.advance(60s);  // a manager older than the period starts probes at once
  json later = pod({{{"name", "app"}, {"livenessProbe", execProbe()}}});
  later["metadata"]["uid"] = "u2";
  m.removePod("u1");
  m.addPod(later);
  EXPECT_EQ(*m.nextDue(), clock_.now());
}

TEST(ProbeManagerThreadsTest, BackgroundThreadsProbeAndReport) {
  std::atomic<int> changes{0};
  ProbeManagerOptions o;
  o.onChange = [&](const std::string&) { ++changes; };
  o.random = [] { return 0.0; };
  ProbeManager m(Prober([](const std::string&, const std::vector<std::string>&,
                           std::chrono::seconds) -> Result<ExecResult> { return ExecResult{}; }),
                 o);
  m.start();
  m.addPod({{"metadata", {{"uid", "u1"}, {"name", "web"}, {"namespace", "default"}}},
            {"spec",
             {{"containers",
               {{{"name", "app"}, {"readinessProbe", {{"exec", {{"command", {"x"}}}}}}}}}}}});
  RuntimePodStatus s;
  s.uid = "u1";
  ContainerStatus c;
  c.id = "c1";
  c.name = "app";
  c.state = ContainerState::kRunning;
  s.containers.push_back(c);
  m.updateContainers(s);
  for (int i = 0; i < 500 && m.verdicts("u1").ready.empty(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(m.verdicts("u1").ready, std::set<std::string>{"c1"});
  EXPECT_GT(changes.load(), 0);
  m.stop();
}

}  // namespace
}  // namespace berth::kubelet::prober
