// berth-kubelet on a whole node (berth-server, berth-cri, CNI, a registry), driven by kubectl:
// each test creates pods bound to the node and checks what runs and what the API shows.
#include <map>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/http_client.h"
#include "kubeapi/json_fields.h"
#include "kubeapi/kubeconfig.h"
#include "kubelet/cri_client.h"
#include "runtime/cgroup_manager.h"
#include "tests/integration/kubelet/node_fixture.h"

namespace berth::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

class KubeletTest : public NodeTest {
 protected:
  std::string phase(const std::string& name) const {
    Json p = pod(name);
    return p.is_object() ? p["status"].value("phase", "") : "";
  }
  // The container's log file (CRI format lines) for restart `n`.
  std::string log(const std::string& podName, const std::string& containerName, int n = 0) const {
    Json p = pod(podName);
    std::string uid = p["metadata"]["uid"];
    return readFile(node_->podLogs() / fmt::format("{}_{}_{}", ns_, podName, uid) / containerName /
                    fmt::format("{}.log", n))
        .value_or("");
  }
  static const Json* containerStatus(const Json& pod, const std::string& name,
                                     const char* list = "containerStatuses") {
    for (const Json& c : kubeapi::jsonArray(kubeapi::jsonField(pod, "status"), list))
      if (c["name"] == name) return &c;
    return nullptr;
  }
};

TEST_F(KubeletTest, NodeRegistersReadyWithALeaseAndHealthz) {
  ASSERT_TRUE(eventually(
      [&] {
        Json n = node_->getJson({"node", node_->nodeName()});
        for (const Json& c : n["status"]["conditions"])
          if (c["type"] == "Ready") return c["status"] == "True";
        return false;
      },
      30s));
  Json n = node_->getJson({"node", node_->nodeName()});
  EXPECT_EQ(n["metadata"]["labels"]["kubernetes.io/hostname"], node_->nodeName());
  EXPECT_EQ(n["status"]["addresses"][0]["address"], "127.0.0.1");
  EXPECT_EQ(n["status"]["nodeInfo"]["containerRuntimeVersion"], "berth://" BERTH_VERSION);
  EXPECT_EQ(n["status"]["nodeInfo"]["kubeletVersion"], "v1.32.0");
  EXPECT_FALSE(n["status"]["capacity"]["memory"].get<std::string>().empty());
  Json lease = node_->getJson({"lease", node_->nodeName(), "-n", "kube-node-lease"});
  ASSERT_TRUE(lease.is_object());
  EXPECT_EQ(lease["spec"]["holderIdentity"], node_->nodeName());
  EXPECT_EQ(lease["metadata"]["ownerReferences"][0]["uid"], n["metadata"]["uid"]);
  // The lease is renewed (every 10 s for a 40 s lease).
  std::string renewed = lease["spec"]["renewTime"];
  EXPECT_TRUE(eventually(
      [&] {
        Json l = node_->getJson({"lease", node_->nodeName(), "-n", "kube-node-lease"});
        return l.is_object() && l["spec"]["renewTime"] != renewed;
      },
      20s));
  HttpClient client;
  HttpRequest request;
  request.url = fmt::format("http://127.0.0.1:{}/healthz", node_->healthzPort());
  auto r = client.send(request);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
}

TEST_F(KubeletTest, PodRunsWithEnvVolumesAndStatus) {
  node_->apply(fmt::format(R"({{"apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {{"name": "cfg", "namespace": "{}"}}, "data": {{"mode": "fast", "greeting": "hello"}}}})",
                           ns_));
  Json c = container("app",
                     "echo MODE=$MODE POD=$POD_NAME IP=$POD_IP; cat /etc/config/greeting; echo; "
                     "cat /etc/hosts; echo data > /scratch/f; cat /scratch/f; sleep 3600");
  c["env"] = {
      {{"name", "MODE"}, {"valueFrom", {{"configMapKeyRef", {{"name", "cfg"}, {"key", "mode"}}}}}},
      {{"name", "POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
      {{"name", "POD_IP"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "status.podIP"}}}}}}};
  c["volumeMounts"] = {{{"name", "config"}, {"mountPath", "/etc/config"}},
                       {{"name", "scratch"}, {"mountPath", "/scratch"}}};
  createPod("web", {{"containers", {c}},
                    {"volumes",
                     {{{"name", "config"}, {"configMap", {{"name", "cfg"}}}},
                      {{"name", "scratch"}, {"emptyDir", Json::object()}}}}});
  ASSERT_TRUE(
      waitPod("web", [](const Json& p) { return p["status"].value("phase", "") == "Running"; }));
  Json p = pod("web");
  const std::string ip = p["status"]["podIP"];
  EXPECT_TRUE(ip.starts_with("172.")) << ip;
  EXPECT_EQ(p["status"]["hostIP"], "127.0.0.1");
  EXPECT_EQ(p["status"]["qosClass"], "BestEffort");
  const Json* cs = containerStatus(p, "app");
  ASSERT_NE(cs, nullptr);
  EXPECT_TRUE(cs->value("ready", false));
  EXPECT_TRUE(cs->value("started", false));
  EXPECT_TRUE((*cs)["containerID"].get<std::string>().starts_with("berth://"));
  EXPECT_TRUE((*cs)["state"].contains("running"));
  EXPECT_EQ(cs->value("restartCount", -1), 0);
  for (const char* type :
       {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"}) {
    bool found = false;
    for (const Json& cond : p["status"]["conditions"])
      if (cond["type"] == type) found = cond["status"] == "True";
    EXPECT_TRUE(found) << type;
  }
  ASSERT_TRUE(eventually([&] { return log("web", "app").find("data") != std::string::npos; }, 30s));
  const std::string out = log("web", "app");
  EXPECT_NE(out.find("MODE=fast POD=web IP=" + ip), std::string::npos) << out;
  EXPECT_NE(out.find("hello"), std::string::npos) << out;
  // The managed /etc/hosts names the pod on its IP.
  EXPECT_NE(out.find(ip + "\tweb"), std::string::npos) << out;
}

// A persistentVolumeClaim bound to a hostPath PersistentVolume: what one pod writes there the
// next pod of the claim reads. (No binder runs here: the test binds the claim as one would.)
TEST_F(KubeletTest, ClaimedVolumeKeepsDataAcrossPods) {
  const auto data = node_->dir() / ("pv-" + ns_);
  node_->apply(fmt::format(R"({{"apiVersion": "v1", "kind": "PersistentVolume",
    "metadata": {{"name": "pv-{0}"}},
    "spec": {{"capacity": {{"storage": "1Gi"}}, "accessModes": ["ReadWriteOnce"],
             "hostPath": {{"path": "{1}", "type": "DirectoryOrCreate"}},
             "claimRef": {{"namespace": "{0}", "name": "data"}}}}}})",
                           ns_, data.string()));
  node_->apply(fmt::format(R"({{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
    "metadata": {{"name": "data", "namespace": "{0}"}},
    "spec": {{"accessModes": ["ReadWriteOnce"], "volumeName": "pv-{0}",
             "resources": {{"requests": {{"storage": "1Gi"}}}}}}}})",
                           ns_));
  node_->server().kubectlOk({"patch", "pvc", "data", "-n", ns_, "--subresource=status",
                             "--type=merge", "-p", R"({"status":{"phase":"Bound"}})"});
  auto podWith = [&](const std::string& script) {
    Json c = container("app", script);
    c["volumeMounts"] = {{{"name", "data"}, {"mountPath", "/data"}}};
    return Json{
        {"restartPolicy", "Never"},
        {"containers", {c}},
        {"volumes", {{{"name", "data"}, {"persistentVolumeClaim", {{"claimName", "data"}}}}}}};
  };
  createPod("writer", podWith("echo kept > /data/file"));
  ASSERT_TRUE(waitPod("writer",
                      [](const Json& p) { return p["status"].value("phase", "") == "Succeeded"; }));
  EXPECT_EQ(readFile(data / "file").value_or(""), "kept\n");
  createPod("reader", podWith("test \"$(cat /data/file)\" = kept"));
  EXPECT_TRUE(waitPod("reader",
                      [](const Json& p) { return p["status"].value("phase", "") == "Succeeded"; }));
  // A claim that is not bound keeps its pod waiting, with the reason in an event.
  node_->apply(fmt::format(R"({{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
    "metadata": {{"name": "unbound", "namespace": "{}"}},
    "spec": {{"accessModes": ["ReadWriteOnce"], "resources": {{"requests": {{"storage": "1Gi"}}}}}}}})",
                           ns_));
  Json waiting = podWith("true");
  waiting["volumes"][0]["persistentVolumeClaim"]["claimName"] = "unbound";
  createPod("waiting", waiting);
  EXPECT_TRUE(eventually(
      [&] {
        Json events = node_->getJson({"events", "-n", ns_, "--field-selector",
                                      "involvedObject.name=waiting,reason=FailedMount"});
        for (const Json& e : kubeapi::jsonArray(events, "items")) {
          if (e.value("message", "").find("PVC " + ns_ + "/unbound has non-bound phase") !=
              std::string::npos) {
            return true;
          }
        }
        return false;
      },
      30s));
  EXPECT_EQ(pod("waiting")["status"].value("phase", ""), "Pending");
  node_->server().kubectlOk({"delete", "pv", "pv-" + ns_, "--wait=false"});
}

TEST_F(KubeletTest, ConfigMapUpdateReachesARunningPod) {
  node_->apply(fmt::format(R"({{"apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {{"name": "live", "namespace": "{}"}}, "data": {{"v": "one"}}}})",
                           ns_));
  Json c = container("app", "while true; do cat /cfg/v; echo; sleep 0.5; done");
  c["volumeMounts"] = {{{"name", "cfg"}, {"mountPath", "/cfg"}}};
  createPod("reader", {{"containers", {c}},
                       {"volumes", {{{"name", "cfg"}, {"configMap", {{"name", "live"}}}}}}});
  ASSERT_TRUE(
      eventually([&] { return log("reader", "app").find("one") != std::string::npos; }, 60s));
  node_->server().kubectlOk(
      {"patch", "configmap", "live", "-n", ns_, "--type=merge", "-p", R"({"data":{"v":"two"}})"});
  // The next sync (syncFrequency 3 s here) projects the new data through the ..data swap.
  EXPECT_TRUE(
      eventually([&] { return log("reader", "app").find("two") != std::string::npos; }, 30s))
      << log("reader", "app");
}

TEST_F(KubeletTest, CrashingContainerRestartsWithBackoff) {
  createPod("crash", {{"containers", {container("app", "echo started; exit 3")}}});
  ASSERT_TRUE(waitPod("crash", [](const Json& p) {
    const Json* cs = containerStatus(p, "app");
    return cs && cs->value("restartCount", 0) >= 1 && (*cs)["state"].contains("waiting") &&
           (*cs)["state"]["waiting"].value("reason", "") == "CrashLoopBackOff";
  }));
  Json p = pod("crash");
  const Json* cs = containerStatus(p, "app");
  EXPECT_EQ((*cs)["lastState"]["terminated"]["exitCode"], 3);
  EXPECT_EQ((*cs)["lastState"]["terminated"]["reason"], "Error");
  EXPECT_NE((*cs)["state"]["waiting"]["message"].get<std::string>().find("back-off 10s"),
            std::string::npos);
  // Restarting under Always: still Running, never Ready.
  EXPECT_EQ(p["status"]["phase"], "Running");
  // The second restart waits out the 10 s backoff and then happens.
  EXPECT_TRUE(waitPod(
      "crash",
      [](const Json& p) {
        const Json* cs = containerStatus(p, "app");
        return cs && cs->value("restartCount", 0) >= 2;
      },
      40s));
}

TEST_F(KubeletTest, RestartPolicyNeverEndsInSucceededOrFailed) {
  Json ok = container("app", "exit 0");
  Json bad = container("app", "echo it broke > /dev/termination-log; exit 7");
  // FallbackToLogsOnError: a failed container that wrote no message gets its log's end.
  Json logged = container("app", "echo first; echo second >&2; exit 3");
  logged["terminationMessagePolicy"] = "FallbackToLogsOnError";
  createPod("ok", {{"restartPolicy", "Never"}, {"containers", {ok}}});
  createPod("bad", {{"restartPolicy", "Never"}, {"containers", {bad}}});
  createPod("logged", {{"restartPolicy", "Never"}, {"containers", {logged}}});
  EXPECT_TRUE(
      waitPod("ok", [](const Json& p) { return p["status"].value("phase", "") == "Succeeded"; }));
  for (const char* failed : {"bad", "logged"}) {
    EXPECT_TRUE(
        waitPod(failed, [](const Json& p) { return p["status"].value("phase", "") == "Failed"; }));
  }
  EXPECT_EQ((*containerStatus(pod("logged"), "app"))["state"]["terminated"]["message"],
            "first\nsecond\n");
  Json p = pod("bad");
  EXPECT_EQ((*containerStatus(p, "app"))["state"]["terminated"]["exitCode"], 7);
  // The termination message comes from the file the kubelet mounted at terminationMessagePath.
  EXPECT_EQ((*containerStatus(p, "app"))["state"]["terminated"]["message"], "it broke\n");
  EXPECT_EQ((*containerStatus(p, "app")).value("restartCount", -1), 0);
  // The sandbox of a finished pod is stopped.
  kubelet::CriClient cri("unix://" + node_->criSocket().string(), 10s);
  EXPECT_TRUE(eventually(
      [&] {
        auto sandboxes = cri.listPodSandbox();
        if (!sandboxes) return false;
        for (const auto& s : *sandboxes)
          if (s.metadata().uid() == p["metadata"]["uid"] &&
              s.state() == kubelet::cri::SANDBOX_READY)
            return false;
        return true;
      },
      30s));
}

TEST_F(KubeletTest, InitContainersThenASidecarThenTheApp) {
  Json init = container("init", "echo ready > /work/marker");
  init["volumeMounts"] = {{{"name", "work"}, {"mountPath", "/work"}}};
  Json sidecar = container("side", "echo sidecar up; sleep 3600");
  sidecar["restartPolicy"] = "Always";
  Json app = container("app", "cat /work/marker; sleep 3600");
  app["volumeMounts"] = {{{"name", "work"}, {"mountPath", "/work"}}};
  createPod("staged", {{"initContainers", {init, sidecar}},
                       {"containers", {app}},
                       {"volumes", {{{"name", "work"}, {"emptyDir", Json::object()}}}}});
  ASSERT_TRUE(
      waitPod("staged", [](const Json& p) { return p["status"].value("phase", "") == "Running"; }));
  Json p = pod("staged");
  const Json* i = containerStatus(p, "init", "initContainerStatuses");
  const Json* s = containerStatus(p, "side", "initContainerStatuses");
  ASSERT_TRUE(i && s);
  EXPECT_EQ((*i)["state"]["terminated"]["reason"], "Completed");
  EXPECT_TRUE((*s)["state"].contains("running"));
  EXPECT_TRUE(
      eventually([&] { return log("staged", "app").find("ready") != std::string::npos; }, 30s));
  // The sidecar started before the app.
  EXPECT_LE((*s)["state"]["running"]["startedAt"].get<std::string>(),
            (*containerStatus(p, "app"))["state"]["running"]["startedAt"].get<std::string>());
}

// The directory of `path` (relative to the kubelet's cgroupRoot) in the v1 hierarchy holding
// `controller`; "" when the host has no such hierarchy.
std::string cgroupDir(const NodeFixture& node, const std::string& path,
                      const std::string& controller) {
  auto cg = runtime::CgroupManager::forContainer(node.cgroupRoot() + path, "");
  if (!cg || cg->unified()) return "";
  for (const auto& [hierarchy, dir] : cg->paths()) {
    if (("," + hierarchy + ",").find("," + controller + ",") != std::string::npos) return dir;
  }
  return "";
}

std::string cgroupFile(const NodeFixture& node, const std::string& path,
                       const std::string& controller, const std::string& file) {
  if (std::string dir = cgroupDir(node, path, controller); !dir.empty()) {
    std::string value = readFile(dir + "/" + file).value_or("");
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
      value.pop_back();
    return value;
  }
  return "";
}

TEST_F(KubeletTest, PodCgroupsCarryTheirQosClassLimits) {
  if (cgroupDir(*node_, "", "cpu").empty() || cgroupDir(*node_, "", "memory").empty()) {
    GTEST_SKIP() << "needs the v1 cpu and memory hierarchies (this host's layout)";
  }
  Json guaranteed = container("app", "sleep 3600");
  guaranteed["resources"] = {{"limits", {{"cpu", "250m"}, {"memory", "64Mi"}}}};
  createPod("guaranteed", {{"containers", {guaranteed}}});
  Json burstable = container("app", "sleep 3600");
  burstable["resources"] = {{"requests", {{"cpu", "100m"}}}};
  createPod("burstable", {{"containers", {burstable}}});
  for (const char* name : {"guaranteed", "burstable"}) {
    ASSERT_TRUE(
        waitPod(name, [](const Json& p) { return p["status"].value("phase", "") == "Running"; }));
  }
  // The API defaults the requests of a container that only sets limits.
  EXPECT_EQ(pod("guaranteed")["spec"]["containers"][0]["resources"]["requests"],
            Json({{"cpu", "250m"}, {"memory", "64Mi"}}));
  EXPECT_EQ(pod("guaranteed")["status"]["qosClass"], "Guaranteed");
  const std::string g = "/kubepods/pod" + pod("guaranteed")["metadata"]["uid"].get<std::string>();
  EXPECT_EQ(cgroupFile(*node_, g, "memory", "memory.limit_in_bytes"),
            std::to_string(64 * 1024 * 1024));
  EXPECT_EQ(cgroupFile(*node_, g, "cpu", "cpu.cfs_quota_us"), "25000");
  EXPECT_EQ(cgroupFile(*node_, g, "cpu", "cpu.shares"), "256");

  const std::string b =
      "/kubepods/burstable/pod" + pod("burstable")["metadata"]["uid"].get<std::string>();
  EXPECT_EQ(cgroupFile(*node_, b, "cpu", "cpu.shares"), "102");
  EXPECT_EQ(cgroupFile(*node_, b, "cpu", "cpu.cfs_quota_us"), "-1");  // no container limits cpu
  // The burstable class gets its pods' requests, the best-effort class the minimum.
  EXPECT_EQ(cgroupFile(*node_, "/kubepods/burstable", "cpu", "cpu.shares"), "102");
  EXPECT_EQ(cgroupFile(*node_, "/kubepods/besteffort", "cpu", "cpu.shares"), "2");

  node_->server().kubectlOk(
      {"delete", "pod", "burstable", "-n", ns_, "--grace-period=1", "--wait=true"});
  EXPECT_TRUE(eventually(
      [&] { return cgroupFile(*node_, "/kubepods/burstable", "cpu", "cpu.shares") == "2"; }, 30s));
}

TEST_F(KubeletTest, DeletionStopsContainersThenRemovesEverything) {
  Json c = container("app", "trap 'echo got TERM; exit 0' TERM; while true; do sleep 0.2; done");
  c["volumeMounts"] = {{{"name", "mem"}, {"mountPath", "/mem"}}};
  Json memory = {{"name", "mem"}, {"emptyDir", {{"medium", "Memory"}}}};
  createPod("doomed", {{"containers", {c}},
                       {"terminationGracePeriodSeconds", 20},
                       {"volumes", Json::array({memory})}});
  ASSERT_TRUE(
      waitPod("doomed", [](const Json& p) { return p["status"].value("phase", "") == "Running"; }));
  Json p = pod("doomed");
  const std::string uid = p["metadata"]["uid"];
  const auto podDir = node_->kubeletRoot() / "pods" / uid;
  EXPECT_TRUE(std::filesystem::exists(podDir));
  node_->server().kubectlOk({"delete", "pod", "doomed", "-n", ns_, "--wait=true", "--timeout=60s"});
  // Gone from the API only after the container stopped (it exits on TERM) and the volumes went.
  EXPECT_FALSE(pod("doomed").is_object());
  kubelet::CriClient cri("unix://" + node_->criSocket().string(), 10s);
  EXPECT_TRUE(eventually(
      [&] {
        auto sandboxes = cri.listPodSandbox();
        if (!sandboxes) return false;
        for (const auto& s : *sandboxes)
          if (s.metadata().uid() == uid) return false;
        return !std::filesystem::exists(podDir);
      },
      30s));
  std::string mountinfo = readFile("/proc/self/mountinfo").value_or("");
  EXPECT_EQ(mountinfo.find(uid), std::string::npos) << "a mount of the pod is left";
}

TEST_F(KubeletTest, OrphanedPodDirectoriesAreRemoved) {
  // What a teardown cut short by a kubelet restart leaves: a pod directory nobody knows.
  const auto orphan = node_->kubeletRoot() / "pods" / "0rphan-uid";
  ASSERT_TRUE(makeDirs(orphan / "volumes" / "kubernetes.io~empty-dir" / "data"));
  ASSERT_TRUE(writeFile(orphan / "volumes" / "kubernetes.io~empty-dir" / "data" / "f", "x"));
  createPod("kept", {{"containers", {container("app", "sleep 3600")}}});
  ASSERT_TRUE(
      waitPod("kept", [](const Json& p) { return p["status"].value("phase", "") == "Running"; }));
  EXPECT_TRUE(eventually([&] { return !std::filesystem::exists(orphan); }, 30s));
  // The live pod's directory stays.
  EXPECT_TRUE(std::filesystem::exists(node_->kubeletRoot() / "pods" /
                                      pod("kept")["metadata"]["uid"].get<std::string>()));
}

TEST_F(KubeletTest, RestartedKubeletAdoptsRunningPods) {
  createPod("steady", {{"containers", {container("app", "sleep 3600")}}});
  ASSERT_TRUE(
      waitPod("steady", [](const Json& p) { return p["status"].value("phase", "") == "Running"; }));
  std::string id = (*containerStatus(pod("steady"), "app"))["containerID"];
  ASSERT_TRUE(node_->restartKubelet(true));
  // After the restart the same container runs, not restarted, and the pod stays Running.
  createPod("after", {{"containers", {container("app", "sleep 3600")}}});
  ASSERT_TRUE(
      waitPod("after", [](const Json& p) { return p["status"].value("phase", "") == "Running"; }));
  Json p = pod("steady");
  EXPECT_EQ((*containerStatus(p, "app"))["containerID"], id);
  EXPECT_EQ((*containerStatus(p, "app")).value("restartCount", -1), 0);
  EXPECT_EQ(p["status"]["phase"], "Running");
}

TEST_F(KubeletTest, FailingLivenessProbeRestartsTheContainer) {
  Json c = container("app", "touch /healthy; sleep 2; rm /healthy; echo removed; sleep 3600");
  c["livenessProbe"] = {
      {"exec", {{"command", {"cat", "/healthy"}}}}, {"periodSeconds", 1}, {"failureThreshold", 1}};
  createPod("live", {{"containers", {c}}, {"terminationGracePeriodSeconds", 1}});
  ASSERT_TRUE(waitPod("live", [](const Json& p) {
    const Json* cs = containerStatus(p, "app");
    return cs && cs->value("restartCount", 0) >= 1;
  }));
  Json p = pod("live");
  const Json* cs = containerStatus(p, "app");
  // Killed by the kubelet (SIGTERM, then SIGKILL after the grace): not a clean exit.
  EXPECT_NE((*cs)["lastState"]["terminated"].value("exitCode", 0), 0);
  // It was healthy until the file went: the first instance got that far.
  EXPECT_NE(log("live", "app", 0).find("removed"), std::string::npos) << log("live", "app", 0);

  // The story as `kubectl describe pod` tells it: the events of the container, by reason.
  const std::string uid = p["metadata"]["uid"];
  std::map<std::string, Json> byReason;
  ASSERT_TRUE(eventually(
      [&] {
        byReason.clear();
        Json events = node_->getJson({"events", "-n", ns_});
        for (const Json& e : kubeapi::jsonArray(events, "items")) {
          if (e["involvedObject"].value("uid", "") == uid) byReason[e.value("reason", "")] = e;
        }
        return byReason.size() >= 5;
      },
      30s));
  for (const char* reason : {"Created", "Started", "Unhealthy", "Killing"}) {
    ASSERT_TRUE(byReason.contains(reason)) << reason;
    const Json& e = byReason[reason];
    EXPECT_EQ(e["involvedObject"]["fieldPath"], "spec.containers{app}") << reason;
    EXPECT_EQ(e["involvedObject"]["kind"], "Pod");
    EXPECT_EQ(e["source"]["component"], "kubelet");
    EXPECT_EQ(e["source"]["host"], node_->nodeName());
  }
  EXPECT_TRUE(byReason.contains("Pulled") || byReason.contains("Pulling"));
  EXPECT_EQ(byReason["Started"]["message"], "Started container app");
  EXPECT_EQ(byReason["Started"]["type"], "Normal");
  EXPECT_EQ(byReason["Unhealthy"]["type"], "Warning");
  EXPECT_TRUE(
      byReason["Unhealthy"]["message"].get<std::string>().starts_with("Liveness probe failed: "))
      << byReason["Unhealthy"];
  EXPECT_EQ(byReason["Killing"]["message"],
            "Container app failed liveness probe, will be restarted");
  // A repeat is counted on the first event instead of written again.
  ASSERT_TRUE(eventually(
      [&] {
        Json events = node_->getJson({"events", "-n", ns_, "--field-selector", "reason=Started"});
        for (const Json& e : kubeapi::jsonArray(events, "items")) {
          if (e["involvedObject"].value("uid", "") == uid && e.value("count", 0) >= 2) return true;
        }
        return false;
      },
      60s));
  // The node's own events: the kubelet starting.
  Json nodeEvents = node_->getJson(
      {"events", "-n", "default", "--field-selector", "involvedObject.kind=Node,reason=Starting"});
  bool started = false;
  for (const Json& e : kubeapi::jsonArray(nodeEvents, "items"))
    started |=
        e["involvedObject"]["name"] == node_->nodeName() && e["message"] == "Starting kubelet.";
  EXPECT_TRUE(started) << nodeEvents;
}

// A liveness probe's own terminationGracePeriodSeconds replaces the pod's for its kill: a
// container that ignores SIGTERM (sh as PID 1) is killed after 2 s, not the pod's 10 minutes.
TEST_F(KubeletTest, ALivenessKillTakesTheProbesGracePeriod) {
  Json c = container("app", "sleep 3600");
  c["livenessProbe"] = {{"exec", {{"command", {"test", "-e", "/nothing"}}}},
                        {"periodSeconds", 1},
                        {"failureThreshold", 1},
                        {"terminationGracePeriodSeconds", 2}};
  createPod("stubborn", {{"containers", {c}}, {"terminationGracePeriodSeconds", 600}});
  EXPECT_TRUE(waitPod(
      "stubborn",
      [](const Json& p) {
        const Json* cs = containerStatus(p, "app");
        return cs && cs->value("restartCount", 0) >= 1;
      },
      90s));
}

TEST_F(KubeletTest, ReadinessProbesGateReady) {
  Json exec = container("app", "sleep 6; touch /ready; sleep 3600");
  exec["readinessProbe"] = {{"exec", {{"command", {"cat", "/ready"}}}}, {"periodSeconds", 1}};
  Json http = container("web", "mkdir /www; echo ok > /www/index.html; httpd -f -p 8080 -h /www");
  http["readinessProbe"] = {{"httpGet", {{"path", "/"}, {"port", 8080}}}, {"periodSeconds", 1}};
  createPod("gated", {{"containers", {exec, http}}});
  auto ready = [](const Json& p) {
    for (const Json& c : p["status"].value("conditions", Json::array()))
      if (c["type"] == "Ready") return c["status"] == "True";
    return false;
  };
  ASSERT_TRUE(
      waitPod("gated", [](const Json& p) { return p["status"].value("phase", "") == "Running"; }));
  // Running but not Ready until the file exists.
  Json early = pod("gated");
  EXPECT_FALSE((*containerStatus(early, "app")).value("ready", true));
  EXPECT_FALSE(ready(early));
  EXPECT_TRUE(waitPod("gated", ready, 30s));
  Json p = pod("gated");
  EXPECT_TRUE((*containerStatus(p, "app")).value("ready", false));
  EXPECT_TRUE((*containerStatus(p, "web")).value("ready", false));
}

TEST_F(KubeletTest, LifecycleHooksRunAroundTheContainer) {
  const auto marks = node_->dir() / ("marks-" + ns_);
  ASSERT_TRUE(makeDirs(marks));
  Json c = container(
      "app", "while [ ! -f /marks/poststart ]; do sleep 0.1; done; echo saw poststart; sleep 3600");
  c["lifecycle"] = {
      {"postStart", {{"exec", {{"command", {"sh", "-c", "echo ok > /marks/poststart"}}}}}},
      {"preStop", {{"exec", {{"command", {"sh", "-c", "echo bye > /marks/prestop"}}}}}}};
  c["volumeMounts"] = {{{"name", "marks"}, {"mountPath", "/marks"}}};
  Json marksVolume = {{"name", "marks"},
                      {"hostPath", {{"path", marks.string()}, {"type", "Directory"}}}};
  createPod("hooked", {{"containers", {c}},
                       {"terminationGracePeriodSeconds", 5},
                       {"volumes", Json::array({marksVolume})}});
  ASSERT_TRUE(eventually(
      [&] { return log("hooked", "app").find("saw poststart") != std::string::npos; }, 60s));
  EXPECT_FALSE(std::filesystem::exists(marks / "prestop"));
  node_->server().kubectlOk({"delete", "pod", "hooked", "-n", ns_, "--wait=true", "--timeout=60s"});
  EXPECT_EQ(readFile(marks / "prestop").value_or(""), "bye\n");
}

// A counter of the kubelet's /metrics (through berth-server's node proxy), -1 when absent.
std::int64_t kubeletMetric(NodeFixture& node, const std::string& name) {
  std::string text = node.server().kubectlOk(
      {"get", "--raw", "/api/v1/nodes/" + node.nodeName() + "/proxy/metrics"});
  std::size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + name.size() + 2));
}

// The evented PLEG: berth-cri's container events mark the pods, so a pod's whole life (start,
// a few seconds of running, its exit) passes without the kubelet listing the runtime every
// second; at most the periodic fallback list may fall inside it.
TEST_F(KubeletTest, ContainerEventsDriveThePodsInsteadOfRelisting) {
  ASSERT_TRUE(eventually(
      [&] { return kubeletMetric(*node_, "kubelet_evented_pleg_connection_success_count") >= 1; },
      30s));
  const std::int64_t relists = kubeletMetric(*node_, "kubelet_pleg_relist_duration_seconds_count");
  ASSERT_GE(relists, 0);
  createPod("brief", {{"restartPolicy", "Never"}, {"containers", {container("app", "sleep 4")}}});
  ASSERT_TRUE(waitPod("brief",
                      [](const Json& p) { return p["status"].value("phase", "") == "Succeeded"; }));
  EXPECT_LE(kubeletMetric(*node_, "kubelet_pleg_relist_duration_seconds_count"), relists + 1);
  EXPECT_EQ(kubeletMetric(*node_, "kubelet_evented_pleg_connection_error_count"), 0);
}

TEST_F(KubeletTest, KubeletApiAuthenticatesAndServesPods) {
  createPod("listed", {{"containers", {container("app", "sleep 3600")}}});
  ASSERT_TRUE(
      waitPod("listed", [](const Json& p) { return p["status"].value("phase", "") == "Running"; }));
  // The admin's client certificate (system:masters) from berth-server's admin.kubeconfig.
  auto kubeconfig = kubeapi::Kubeconfig::load(node_->server().adminKubeconfig());
  ASSERT_TRUE(kubeconfig);
  auto rest = kubeconfig->restConfig();
  ASSERT_TRUE(rest);
  const auto certFile = node_->dir() / "admin.crt";
  const auto keyFile = node_->dir() / "admin.key";
  ASSERT_TRUE(writeFileAtomic(certFile, rest->certData, 0600));
  ASSERT_TRUE(writeFileAtomic(keyFile, rest->keyData, 0600));
  const std::string base = fmt::format("https://127.0.0.1:{}", node_->kubeletPort());
  HttpClient anonymous(TlsOptions{.insecureSkipVerify = true});
  HttpRequest request;
  request.url = base + "/pods";
  auto r = anonymous.send(request);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 401);  // anonymous auth is off with a config file
  HttpClient admin(TlsOptions{
      .certFile = certFile.string(), .keyFile = keyFile.string(), .insecureSkipVerify = true});
  r = admin.send(request);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->status, 200) << r->body;
  Json list = Json::parse(r->body);
  EXPECT_EQ(list["kind"], "PodList");
  bool found = false;
  for (const Json& p : list["items"])
    found = found || p["metadata"]["name"] == "listed";
  EXPECT_TRUE(found);
  request.url = base + "/configz";
  r = admin.send(request);
  ASSERT_TRUE(r && r->status == 200);
  EXPECT_EQ(Json::parse(r->body)["kubeletconfig"]["syncFrequency"], "3s");
  request.url = base + fmt::format("/containerLogs/{}/listed/app", ns_);
  r = admin.send(request);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
}

}  // namespace
}  // namespace berth::testing
