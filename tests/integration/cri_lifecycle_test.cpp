// berth-cri's pod and container lifecycle, end to end: a real registry (docker-registry on
// 127.0.0.1), our CNI bridge + host-local on a bridge of this test, berth-runtime under
// berth-monitor, driven over gRPC. Root.
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <chrono>
#include <cstring>
#include <set>
#include <sstream>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/scope_guard.h"
#include "common/spawn.h"
#include "runtime/v1/api.grpc.pb.h"
#include "tests/integration/cri_fixture.h"
#include "tests/integration/registry_fixture.h"

namespace berth {
namespace {

namespace v1 = ::runtime::v1;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// The memory limit file of a container whose cgroup nests under this process's own (v1), or
// beside it on a cgroup v2 host (under its parent, whose processes-free leaf rule runc follows).
fs::path memoryLimitFile(const std::string& id) {
  std::string self = readFile("/proc/self/cgroup").value_or("");
  std::istringstream lines(self);
  std::string line;
  std::string unified;
  while (std::getline(lines, line)) {
    auto first = line.find(':'), second = line.find(':', first + 1);
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    std::istringstream names(controllers);
    for (std::string name; std::getline(names, name, ',');) {
      if (name == "memory") {
        return fs::path("/sys/fs/cgroup/memory") / path.substr(1) / id / "memory.limit_in_bytes";
      }
    }
    if (controllers.empty()) unified = path;
  }
  return fs::path("/sys/fs/cgroup") / fs::path(unified).parent_path().relative_path() / id /
         "memory.max";
}

// The kernel keeps PSI (/proc/pressure readable: built in, not psi=0) and containers get a
// cgroup2 directory (a v2 host, or a hybrid host's bare cgroup2).
bool hostHasPsi() {
  if (!readFile("/proc/pressure/cpu")) return false;
  struct statfs st {};
  for (const char* mount : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"})
    if (::statfs(mount, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC) return true;
  return false;
}

std::string sh(const std::string& cmd) {
  SpawnOptions o;
  o.path = "/bin/sh";
  o.args = {"sh", "-c", cmd};
  o.captureStdout = true;
  o.captureStderr = true;
  auto r = runProgram(o);
  return r ? r->stdoutData : "";
}

class CriLifecycleTest : public cri_testing::CriServerTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (namespaces, mounts, CNI)";
    if (!images::testing::RegistryServer::available()) {
      GTEST_SKIP() << "docker-registry is not installed";
    }
    cri_testing::CriServerTest::SetUp();
    // A bridge and subnet of this process (tests run in parallel).
    int pid = ::getpid();
    bridge_ = fmt::format("bcri{}", pid % 100000);
    subnet_ = fmt::format("172.{}.{}", 16 + pid % 16, (pid / 16) % 256);
    auto registry = images::testing::RegistryServer::start(dir_ / "registry", {});
    ASSERT_TRUE(registry) << registry.error().message();
    registry_ = std::move(*registry);
    auto image = images::testing::makeBusyboxImage(images::testing::ManifestFlavour::kOci);
    ASSERT_TRUE(images::testing::push(*registry_, "test/busybox", "1", image));
    imageRef_ = registry_->host() + "/test/busybox:1";
    ASSERT_TRUE(writeFile(
        dir_ / "registries.yaml",
        fmt::format("mirrors:\n  \"{0}\":\n    endpoint: [\"http://{0}\"]\n", registry_->host())));
    ASSERT_TRUE(makeDirs(dir_ / "net.d"));
    ASSERT_TRUE(writeFile(dir_ / "net.d" / "10-pods.conflist",
                          fmt::format(R"({{"cniVersion": "1.0.0", "name": "pods", "plugins": [
          {{"type": "bridge", "bridge": "{}", "isGateway": true,
            "ipam": {{"type": "host-local", "dataDir": "{}/ipam", "subnet": "{}.0/24"}}}},
          {{"type": "portmap", "capabilities": {{"portMappings": true}}}}]}})",
                                      bridge_, dir_.string(), subnet_)));
    serverConfig_ = fmt::format(
        "monitor_path: {}\npod_init_path: {}\n"
        "runtime_handlers:\n  berth-runtime:\n    path: {}\n  runc:\n    path: /usr/sbin/runc\n"
        "  crun:\n    path: /usr/bin/crun\n"
        "default_runtime_handler: berth-runtime\n"
        "cni:\n  bin_dirs: [{}]\n  conf_dir: {}/net.d\n",
        BERTH_MONITOR_PATH, BERTH_POD_INIT_PATH, BERTH_RUNTIME_PATH, BERTH_CNI_BIN_DIR,
        dir_.string());
    ASSERT_NO_FATAL_FAILURE(restartWith(""));
    v1::PullImageRequest pull;
    pull.mutable_image()->set_image(imageRef_);
    v1::PullImageResponse pulled;
    grpc::Status st = images_->PullImage(context().get(), pull, &pulled);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  void TearDown() override {
    if (runtime_) {
      // Whatever a failed test left: remove every pod (and its containers) through the server.
      v1::ListPodSandboxResponse pods;
      if (runtime_->ListPodSandbox(context().get(), {}, &pods).ok()) {
        for (const auto& p : pods.items()) {
          v1::RemovePodSandboxRequest r;
          r.set_pod_sandbox_id(p.id());
          v1::RemovePodSandboxResponse resp;
          (void)runtime_->RemovePodSandbox(context().get(), r, &resp);
        }
      }
    }
    if (!bridge_.empty()) sh("ip link del " + bridge_ + " 2>/dev/null");
    registry_.reset();
    cri_testing::CriServerTest::TearDown();
  }

  v1::PodSandboxConfig podConfig(const std::string& name) const {
    v1::PodSandboxConfig c;
    c.mutable_metadata()->set_name(name);
    c.mutable_metadata()->set_namespace_("default");
    c.mutable_metadata()->set_uid("uid-" + name);
    c.set_hostname(name);
    c.set_log_directory((dir_ / "logs" / name).string());
    (*c.mutable_labels())["app"] = name;
    return c;
  }

  std::string runPod(const v1::PodSandboxConfig& config) {
    v1::RunPodSandboxRequest req;
    *req.mutable_config() = config;
    v1::RunPodSandboxResponse resp;
    grpc::Status st = runtime_->RunPodSandbox(context().get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.pod_sandbox_id();
  }

  v1::ContainerConfig containerConfig(const std::string& name,
                                      const std::vector<std::string>& cmd) const {
    v1::ContainerConfig c;
    c.mutable_metadata()->set_name(name);
    c.mutable_image()->set_image(imageRef_);
    for (const auto& a : cmd)
      c.add_command(a);
    c.set_log_path(name + ".log");
    (*c.mutable_labels())["container"] = name;
    return c;
  }

  grpc::Status createContainer(const std::string& pod, const v1::PodSandboxConfig& podConfig,
                               const v1::ContainerConfig& config, std::string* id) {
    v1::CreateContainerRequest req;
    req.set_pod_sandbox_id(pod);
    *req.mutable_config() = config;
    *req.mutable_sandbox_config() = podConfig;
    v1::CreateContainerResponse resp;
    grpc::Status st = runtime_->CreateContainer(context().get(), req, &resp);
    *id = resp.container_id();
    return st;
  }

  v1::ContainerStatus containerStatus(const std::string& id) {
    v1::ContainerStatusRequest req;
    req.set_container_id(id);
    v1::ContainerStatusResponse resp;
    grpc::Status st = runtime_->ContainerStatus(context().get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.status();
  }

  // The container's init pid, from ContainerStatus' verbose info (0 when it can't be had).
  int containerPid(const std::string& id) {
    v1::ContainerStatusRequest req;
    req.set_container_id(id);
    req.set_verbose(true);
    v1::ContainerStatusResponse resp;
    grpc::Status st = runtime_->ContainerStatus(context().get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    if (!st.ok() || !resp.info().contains("info")) return 0;
    return nlohmann::json::parse(resp.info().at("info"))["pid"].get<int>();
  }

  grpc::Status start(const std::string& id) {
    v1::StartContainerRequest req;
    req.set_container_id(id);
    v1::StartContainerResponse resp;
    return runtime_->StartContainer(context().get(), req, &resp);
  }

  v1::ExecSyncResponse execSync(const std::string& id, const std::vector<std::string>& cmd,
                                grpc::Status* st, int64_t timeout = 0) {
    v1::ExecSyncRequest req;
    req.set_container_id(id);
    for (const auto& a : cmd)
      req.add_cmd(a);
    req.set_timeout(timeout);
    v1::ExecSyncResponse resp;
    *st = runtime_->ExecSync(context().get(), req, &resp);
    return resp;
  }

  // Polls `pred` until it holds or 10 s pass.
  template <class Pred>
  bool eventually(Pred pred) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return pred();
  }

  void runWithHandler(const std::string& handler);

  // (Re)starts berth-cri with the fixture's configuration plus `extra` (YAML lines); the image
  // store, and so the pulled image, stays.
  void restartWith(const std::string& extra) {
    server_.killAndReap();
    writeConfig(serverConfig_ + extra);
    ASSERT_NO_FATAL_FAILURE(startServer({"--log-level", "debug"}));
    runtime_ = v1::RuntimeService::NewStub(channel());
    images_ = v1::ImageService::NewStub(channel());
  }

  std::string serverConfig_;

  std::string bridge_, subnet_, imageRef_;
  std::unique_ptr<images::testing::RegistryServer> registry_;
  std::unique_ptr<v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<v1::ImageService::Stub> images_;
};

TEST_F(CriLifecycleTest, PodAndContainerFromRunToRemove) {
  auto config = podConfig("web");
  std::string pod = runPod(config);
  ASSERT_EQ(pod.size(), 64u);

  v1::PodSandboxStatusRequest statusReq;
  statusReq.set_pod_sandbox_id(pod.substr(0, 12));  // a unique prefix is enough
  statusReq.set_verbose(true);
  v1::PodSandboxStatusResponse podStatus;
  ASSERT_TRUE(runtime_->PodSandboxStatus(context().get(), statusReq, &podStatus).ok());
  EXPECT_EQ(podStatus.status().id(), pod);
  EXPECT_EQ(podStatus.status().state(), v1::SANDBOX_READY);
  EXPECT_EQ(podStatus.status().metadata().name(), "web");
  const std::string ip = podStatus.status().network().ip();
  EXPECT_EQ(ip.rfind(subnet_ + ".", 0), 0u) << ip;
  auto info = nlohmann::json::parse(podStatus.info().at("info"));
  const std::string netns = info["netNamespace"];
  EXPECT_TRUE(fs::exists(netns));

  std::string id;
  // TERM is ignored, so StopContainer's timeout runs out and SIGKILL ends it.
  auto cc = containerConfig("app", {"sh", "-c",
                                    "trap '' TERM; echo out; echo err >&2; cat /etc/hostname; "
                                    "while true; do sleep 1; done"});
  cc.add_envs()->set_key("GREETING");
  cc.mutable_envs(0)->set_value("hello");
  grpc::Status st = createContainer(pod, config, cc, &id);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(containerStatus(id).state(), v1::CONTAINER_CREATED);
  ASSERT_TRUE(start(id).ok());
  auto status = containerStatus(id);
  EXPECT_EQ(status.state(), v1::CONTAINER_RUNNING);
  EXPECT_GT(status.started_at(), 0);
  EXPECT_EQ(status.image().image(), imageRef_);
  EXPECT_EQ(status.image_ref().rfind("sha256:", 0), 0u);
  const std::string logPath = (dir_ / "logs" / "web" / "app.log").string();
  EXPECT_EQ(status.log_path(), logPath);

  // The CRI log: "<time> stdout F out", "<time> stderr F err", the pod's hostname.
  ASSERT_TRUE(eventually([&] {
    auto log = readFile(logPath);
    return log && log->find(" stdout F web\n") != std::string::npos;
  })) << readFile(logPath).value_or("(no log)");
  auto log = *readFile(logPath);
  EXPECT_NE(log.find(" stdout F out\n"), std::string::npos) << log;
  EXPECT_NE(log.find(" stderr F err\n"), std::string::npos) << log;

  // ExecSync: output, environment, exit codes, the pod's network, a timeout.
  auto r = execSync(id, {"sh", "-c", "echo $GREETING; echo oops >&2; exit 3"}, &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(r.stdout(), "hello\n");
  EXPECT_EQ(r.stderr(), "oops\n");
  EXPECT_EQ(r.exit_code(), 3);
  r = execSync(id, {"ip", "-4", "-o", "addr", "show", "eth0"}, &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_NE(r.stdout().find(ip + "/24"), std::string::npos) << r.stdout() << r.stderr();
  r = execSync(id, {"sleep", "30"}, &st, 1);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << st.error_message() << r.exit_code() << r.stdout() << r.stderr();
  // The timed-out command is gone (reaped) when the RPC answers, not a zombie in the container.
  r = execSync(id, {"ps"}, &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(r.stdout().find("sleep 30"), std::string::npos) << r.stdout();

  // Stats: the container's cgroup (nested under berth-cri's own, the pod having no parent), its
  // writable layer, the pod's network counters.
  v1::ContainerStatsRequest statsReq;
  statsReq.set_container_id(id);
  v1::ContainerStatsResponse cstats;
  st = runtime_->ContainerStats(context().get(), statsReq, &cstats);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(cstats.stats().attributes().id(), id);
  EXPECT_EQ(cstats.stats().attributes().metadata().name(), "app");
  EXPECT_GT(cstats.stats().cpu().usage_core_nano_seconds().value(), 0u);
  EXPECT_GT(cstats.stats().memory().working_set_bytes().value(), 0u);
  EXPECT_EQ(cstats.stats().writable_layer().fs_id().mountpoint(), (dir_ / "images").string());
  // Pressure comes from the container's cgroup2 directory (a hybrid host has one too) where the
  // kernel keeps PSI, and is absent where it doesn't: a "some" line for each resource.
  const bool psi = hostHasPsi();
  EXPECT_EQ(cstats.stats().cpu().psi().has_some(), psi) << cstats.stats().DebugString();
  EXPECT_EQ(cstats.stats().memory().psi().has_some(), psi);
  EXPECT_EQ(cstats.stats().io().psi().has_some(), psi);
  EXPECT_EQ(cstats.stats().io().timestamp() > 0, psi);
  v1::PodSandboxStatsRequest podStatsReq;
  podStatsReq.set_pod_sandbox_id(pod);
  v1::PodSandboxStatsResponse pstats;
  st = runtime_->PodSandboxStats(context().get(), podStatsReq, &pstats);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(pstats.stats().linux().network().default_interface().name(), "eth0");
  ASSERT_EQ(pstats.stats().linux().containers_size(), 1);
  EXPECT_EQ(pstats.stats().linux().containers(0).attributes().id(), id);
  v1::ListContainerStatsResponse allStats;
  ASSERT_TRUE(runtime_->ListContainerStats(context().get(), {}, &allStats).ok());
  EXPECT_EQ(allStats.stats_size(), 1);

  // UpdateContainerResources reaches the container's cgroup (through `runtime update`).
  v1::UpdateContainerResourcesRequest updateReq;
  updateReq.set_container_id(id);
  updateReq.mutable_linux()->set_memory_limit_in_bytes(96 << 20);
  v1::UpdateContainerResourcesResponse updated;
  st = runtime_->UpdateContainerResources(context().get(), updateReq, &updated);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(containerStatus(id).resources().linux().memory_limit_in_bytes(), 96 << 20);
  // The pod has no cgroup_parent: the container's cgroup is "<id>" under berth-cri's (this test's)
  // own, in the memory hierarchy (v1) or the unified one.
  EXPECT_EQ(readFile(memoryLimitFile(id)).value_or("(no limit file)"),
            std::to_string(96 << 20) + "\n");
  updateReq.mutable_linux()->set_cpu_shares(-1);
  st = runtime_->UpdateContainerResources(context().get(), updateReq, &updated);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();

  // UpdatePodSandboxResources: checked and recorded (the kubelet owns the pod cgroup).
  v1::UpdatePodSandboxResourcesRequest podRes;
  podRes.set_pod_sandbox_id(pod);
  podRes.mutable_resources()->set_cpu_shares(512);
  v1::UpdatePodSandboxResourcesResponse podResResp;
  st = runtime_->UpdatePodSandboxResources(context().get(), podRes, &podResResp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  podRes.set_pod_sandbox_id("feedface");
  EXPECT_EQ(runtime_->UpdatePodSandboxResources(context().get(), podRes, &podResResp).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Lists with filters.
  v1::ListContainersRequest listReq;
  listReq.mutable_filter()->set_pod_sandbox_id(pod);
  (*listReq.mutable_filter()->mutable_label_selector())["container"] = "app";
  v1::ListContainersResponse list;
  ASSERT_TRUE(runtime_->ListContainers(context().get(), listReq, &list).ok());
  ASSERT_EQ(list.containers_size(), 1);
  EXPECT_EQ(list.containers(0).id(), id);
  (*listReq.mutable_filter()->mutable_label_selector())["container"] = "other";
  list.Clear();
  ASSERT_TRUE(runtime_->ListContainers(context().get(), listReq, &list).ok());
  EXPECT_EQ(list.containers_size(), 0);
  {
    // StreamContainers: the list on a server stream.
    auto ctx = context();
    v1::StreamContainersRequest streamReq;
    streamReq.mutable_filter()->set_pod_sandbox_id(pod);
    auto stream = runtime_->StreamContainers(ctx.get(), streamReq);
    v1::StreamContainersResponse page;
    std::vector<std::string> ids;
    while (stream->Read(&page)) {
      for (const auto& c : page.containers())
        ids.push_back(c.id());
    }
    EXPECT_TRUE(stream->Finish().ok());
    EXPECT_EQ(ids, std::vector<std::string>{id});
  }
  v1::ListPodSandboxRequest podList;
  podList.mutable_filter()->mutable_state()->set_state(v1::SANDBOX_READY);
  v1::ListPodSandboxResponse pods;
  ASSERT_TRUE(runtime_->ListPodSandbox(context().get(), podList, &pods).ok());
  ASSERT_EQ(pods.items_size(), 1);
  EXPECT_EQ(pods.items(0).id(), pod);

  // Stop: TERM is ignored, the timeout runs out and SIGKILL ends it.
  v1::StopContainerRequest stopReq;
  stopReq.set_container_id(id);
  stopReq.set_timeout(1);
  v1::StopContainerResponse stopped;
  st = runtime_->StopContainer(context().get(), stopReq, &stopped);
  ASSERT_TRUE(st.ok()) << st.error_message();
  status = containerStatus(id);
  EXPECT_EQ(status.state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(status.exit_code(), 137);
  EXPECT_EQ(status.reason(), "Error");
  EXPECT_GE(status.finished_at(), status.started_at());
  EXPECT_TRUE(runtime_->StopContainer(context().get(), stopReq, &stopped).ok()) << "idempotent";
  st = start(id);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();

  v1::RemoveContainerRequest rmReq;
  rmReq.set_container_id(id);
  v1::RemoveContainerResponse removed;
  ASSERT_TRUE(runtime_->RemoveContainer(context().get(), rmReq, &removed).ok());
  EXPECT_TRUE(runtime_->RemoveContainer(context().get(), rmReq, &removed).ok()) << "idempotent";
  v1::ContainerStatusRequest csReq;
  csReq.set_container_id(id);
  v1::ContainerStatusResponse cs;
  EXPECT_EQ(runtime_->ContainerStatus(context().get(), csReq, &cs).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_FALSE(fs::exists(dir_ / "images" / "containers" / id)) << "the rootfs is gone";

  v1::StopPodSandboxRequest stopPod;
  stopPod.set_pod_sandbox_id(pod);
  v1::StopPodSandboxResponse podStopped;
  ASSERT_TRUE(runtime_->StopPodSandbox(context().get(), stopPod, &podStopped).ok());
  ASSERT_TRUE(runtime_->StopPodSandbox(context().get(), stopPod, &podStopped).ok());
  podStatus.Clear();
  statusReq.set_verbose(false);
  ASSERT_TRUE(runtime_->PodSandboxStatus(context().get(), statusReq, &podStatus).ok());
  EXPECT_EQ(podStatus.status().state(), v1::SANDBOX_NOTREADY);
  EXPECT_FALSE(fs::exists(netns)) << "the network namespace is unpinned at stop";
  EXPECT_FALSE(fs::exists(dir_ / "ipam" / "pods" / ip)) << "the address is released";

  v1::RemovePodSandboxRequest rmPod;
  rmPod.set_pod_sandbox_id(pod);
  v1::RemovePodSandboxResponse podRemoved;
  ASSERT_TRUE(runtime_->RemovePodSandbox(context().get(), rmPod, &podRemoved).ok());
  ASSERT_TRUE(runtime_->RemovePodSandbox(context().get(), rmPod, &podRemoved).ok());
  pods.Clear();
  ASSERT_TRUE(runtime_->ListPodSandbox(context().get(), {}, &pods).ok());
  EXPECT_EQ(pods.items_size(), 0);
  EXPECT_EQ(sh("ls " + (dir_ / "root" / "pods").string()), "");
  EXPECT_EQ(sh("ls " + (dir_ / "state" / "ns" / "net").string() + " 2>/dev/null"), "");
}

TEST_F(CriLifecycleTest, BadRequestsNameWhatIsWrong) {
  auto config = podConfig("bad");
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = config;
  req.set_runtime_handler("no-such-handler");
  v1::RunPodSandboxResponse resp;
  grpc::Status st = runtime_->RunPodSandbox(context().get(), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("no-such-handler"), std::string::npos) << st.error_message();

  std::string pod = runPod(config);
  st = runtime_->RunPodSandbox(
      context().get(),
      [&] {
        v1::RunPodSandboxRequest r;
        *r.mutable_config() = config;
        return r;
      }(),
      &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS) << st.error_message();

  std::string id;
  st = createContainer("0123456789abcdef", config, containerConfig("x", {"true"}), &id);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(st.error_message().find("0123456789abcdef"), std::string::npos) << st.error_message();
  auto noImage = containerConfig("x", {"true"});
  noImage.mutable_image()->set_image("localhost:1/nothing:here");
  st = createContainer(pod, config, noImage, &id);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(st.error_message().find("nothing"), std::string::npos) << st.error_message();
  auto noUser = containerConfig("x", {"true"});
  noUser.mutable_linux()->mutable_security_context()->set_run_as_username("nobody2");
  st = createContainer(pod, config, noUser, &id);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("nobody2"), std::string::npos) << st.error_message();
  // Nothing of the failed creates is left: no record, no rootfs, the name is free again.
  EXPECT_EQ(sh("ls " + (dir_ / "root" / "containers").string()), "");
  EXPECT_EQ(sh("ls " + (dir_ / "images" / "containers").string() + " 2>/dev/null"), "");
  st = createContainer(pod, config, containerConfig("x", {"true"}), &id);
  EXPECT_TRUE(st.ok()) << st.error_message();

  v1::StartContainerRequest startReq;
  startReq.set_container_id("feedface");
  v1::StartContainerResponse started;
  EXPECT_EQ(runtime_->StartContainer(context().get(), startReq, &started).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::StopPodSandboxRequest stopUnknown;
  stopUnknown.set_pod_sandbox_id("feedface");
  v1::StopPodSandboxResponse stopped;
  EXPECT_EQ(runtime_->StopPodSandbox(context().get(), stopUnknown, &stopped).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// A container killed by the OOM killer in its memory limit is EXITED with reason OOMKilled.
TEST_F(CriLifecycleTest, OomKilledContainerSaysSo) {
  auto config = podConfig("oom");
  std::string pod = runPod(config);
  std::string id;
  // dd's 256 MiB block is one allocation, far above the 32 MiB limit.
  auto cc = containerConfig("hog", {"dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1"});
  cc.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(32 << 20);
  grpc::Status st = createContainer(pod, config, cc, &id);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(start(id).ok());
  ASSERT_TRUE(eventually([&] { return containerStatus(id).state() == v1::CONTAINER_EXITED; }));
  auto status = containerStatus(id);
  EXPECT_EQ(status.exit_code(), 137);
  EXPECT_EQ(status.reason(), "OOMKilled");
}

// In the pod's shared PID namespace (the pods here use it) a container's background process
// survives its init; berth-monitor then kills the rest, as containerd's shim does, so no orphan
// stays behind holding the container's output.
TEST_F(CriLifecycleTest, ProcessesLeftByAnExitedInitAreKilled) {
  auto config = podConfig("orphans");
  std::string pod = runPod(config);
  std::string id;
  ASSERT_TRUE(
      createContainer(pod, config, containerConfig("c", {"sh", "-c", "sleep 1001 & echo bg"}), &id)
          .ok());
  ASSERT_TRUE(start(id).ok());
  ASSERT_TRUE(eventually([&] { return containerStatus(id).state() == v1::CONTAINER_EXITED; }));
  EXPECT_EQ(containerStatus(id).exit_code(), 0);
  EXPECT_EQ(sh("grep -l -a 'slee[p].1001' /proc/[0-9]*/cmdline 2>/dev/null"), "")
      << "the background sleep is gone";
}

// GetContainerEvents streams each lifecycle step; ReopenContainerLog makes the monitor write to a
// new file after the kubelet's rotation (rename, then reopen).
TEST_F(CriLifecycleTest, EventsAndLogReopen) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + 60s);  // a missing event fails, not hangs
  auto events = runtime_->GetContainerEvents(ctx.get(), v1::GetEventsRequest());
  auto config = podConfig("events");
  std::string pod = runPod(config);
  std::string id;
  ASSERT_TRUE(createContainer(pod, config,
                              containerConfig("talker", {"sh", "-c",
                                                         "trap 'exit 0' TERM; while true; do "
                                                         "echo line; sleep 0.05; done"}),
                              &id)
                  .ok());
  ASSERT_TRUE(start(id).ok());
  const std::string logPath = (dir_ / "logs" / "events" / "talker.log").string();
  ASSERT_TRUE(eventually([&] { return readFile(logPath).value_or("").size() > 0; }));
  ASSERT_EQ(::rename(logPath.c_str(), (logPath + ".1").c_str()), 0);
  v1::ReopenContainerLogRequest reopen;
  reopen.set_container_id(id);
  v1::ReopenContainerLogResponse reopened;
  grpc::Status st = runtime_->ReopenContainerLog(context().get(), reopen, &reopened);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(eventually([&] {
    return readFile(logPath).value_or("").find(" stdout F line\n") != std::string::npos;
  })) << "the new file gets the output";

  v1::StopContainerRequest stop;
  stop.set_container_id(id);
  stop.set_timeout(10);
  v1::StopContainerResponse stopped;
  ASSERT_TRUE(runtime_->StopContainer(context().get(), stop, &stopped).ok());
  EXPECT_EQ(containerStatus(id).exit_code(), 0) << "TERM was trapped: a clean exit";
  st = runtime_->ReopenContainerLog(context().get(), reopen, &reopened);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << "not running";
  v1::RemoveContainerRequest rm;
  rm.set_container_id(id);
  v1::RemoveContainerResponse removed;
  ASSERT_TRUE(runtime_->RemoveContainer(context().get(), rm, &removed).ok());

  std::vector<v1::ContainerEventType> seen;
  v1::ContainerEventResponse event;
  while (seen.size() < 4 && events->Read(&event)) {
    EXPECT_EQ(event.container_id(), id);
    EXPECT_EQ(event.pod_sandbox_status().id(), pod);
    seen.push_back(event.container_event_type());
  }
  EXPECT_EQ(seen, (std::vector<v1::ContainerEventType>{
                      v1::CONTAINER_CREATED_EVENT, v1::CONTAINER_STARTED_EVENT,
                      v1::CONTAINER_STOPPED_EVENT, v1::CONTAINER_DELETED_EVENT}));
  ctx->TryCancel();
}

// RuntimeHandler selects the OCI runtime (Debian's runc or crun), through the same monitor.
void CriLifecycleTest::runWithHandler(const std::string& handler) {
  auto config = podConfig(std::string("with-") + handler);
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = config;
  req.set_runtime_handler(handler);
  v1::RunPodSandboxResponse resp;
  grpc::Status st = runtime_->RunPodSandbox(context().get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  std::string id;
  st = createContainer(resp.pod_sandbox_id(), config,
                       containerConfig("c", {"sh", "-c", "while true; do sleep 1; done"}), &id);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(start(id).ok());
  auto r = execSync(id, {"cat", "/etc/hostname"}, &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(r.stdout(), config.hostname() + "\n");
  // The handler's own state dir (its root under berth-cri's state) knows the container.
  EXPECT_TRUE(fs::exists(dir_ / "state" / "runtimes" / handler / id)) << "--root";
  v1::PodSandboxStatusRequest statusReq;
  statusReq.set_pod_sandbox_id(resp.pod_sandbox_id());
  v1::PodSandboxStatusResponse status;
  ASSERT_TRUE(runtime_->PodSandboxStatus(context().get(), statusReq, &status).ok());
  EXPECT_EQ(status.status().runtime_handler(), handler);
  v1::RemovePodSandboxRequest rm;
  rm.set_pod_sandbox_id(resp.pod_sandbox_id());
  v1::RemovePodSandboxResponse removed;
  st = runtime_->RemovePodSandbox(context().get(), rm, &removed);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_FALSE(fs::exists(dir_ / "state" / "runtimes" / handler / id));
}

TEST_F(CriLifecycleTest, RuntimeHandlerSelectsRunc) {
  if (::access("/usr/sbin/runc", X_OK) != 0) GTEST_SKIP() << "runc is not installed";
  runWithHandler("runc");
}

TEST_F(CriLifecycleTest, RuntimeHandlerSelectsCrun) {
  if (::access("/usr/bin/crun", X_OK) != 0) GTEST_SKIP() << "crun is not installed";
  struct statfs fs {};
  if (::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type != CGROUP2_SUPER_MAGIC) {
    GTEST_SKIP() << "crun refuses hosts with hybrid cgroups (\"cgroups in hybrid mode not "
                    "supported\"), as this one has";
  }
  runWithHandler("crun");
}

// Exec, Attach and PortForward URLs served by berth-cri's streaming server, driven by Debian's
// python3-websocket (an independent client) over the v5/v4 channel protocols.
TEST_F(CriLifecycleTest, ExecAttachAndPortForwardOverWebSocket) {
  if (!runProgram({.path = "/usr/bin/python3", .args = {"python3", "-c", "import websocket"}})
           .value_or(SpawnResult{.status = {.code = 1}})
           .status.success()) {
    GTEST_SKIP() << "python3-websocket is not installed (scripts/deps.sh installs it)";
  }
  auto config = podConfig("stream");
  std::string pod = runPod(config);
  std::string id;
  auto cc =
      containerConfig("web", {"sh", "-c",
                              "mkdir -p /www && echo '<html>hello-pf</html>' > /www/index.html && "
                              "httpd -p 8080 -h /www && while read l; do echo got:$l; done"});
  cc.set_stdin(true);
  ASSERT_TRUE(createContainer(pod, config, cc, &id).ok());
  ASSERT_TRUE(start(id).ok());
  auto client = [&](const std::string& mode, const std::string& url, const std::string& data) {
    auto r = runProgram({.path = "/usr/bin/python3",
                         .args = {"python3", BERTH_WS_CLIENT, mode, url, data},
                         .captureStdout = true,
                         .captureStderr = true,
                         .timeout = 60s});
    EXPECT_TRUE(r && r->status.success()) << (r ? r->stderrData : r.error().message());
    return r ? nlohmann::json::parse(r->stdoutData, nullptr, false) : nlohmann::json();
  };

  v1::ExecRequest execReq;
  execReq.set_container_id(id);
  for (const char* a : {"sh", "-c", "cat; echo to-err >&2; exit 5"})
    execReq.add_cmd(a);
  execReq.set_stdin(true);
  execReq.set_stdout(true);
  execReq.set_stderr(true);
  v1::ExecResponse execResp;
  grpc::Status st = runtime_->Exec(context().get(), execReq, &execResp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  auto exec = client("exec", execResp.url(), "from-stdin\n");
  EXPECT_EQ(exec["channels"]["1"], "from-stdin\n") << exec.dump();
  EXPECT_EQ(exec["channels"]["2"], "to-err\n") << exec.dump();
  auto status = nlohmann::json::parse(exec["channels"].value("3", "{}"), nullptr, false);
  EXPECT_EQ(status["reason"], "NonZeroExitCode") << exec.dump();
  EXPECT_EQ(status["details"]["causes"][0]["message"], "5") << exec.dump();
  execReq.set_tty(true);
  st = runtime_->Exec(context().get(), execReq, &execResp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "tty with stderr";

  v1::AttachRequest attachReq;
  attachReq.set_container_id(id);
  attachReq.set_stdin(true);
  attachReq.set_stdout(true);
  v1::AttachResponse attachResp;
  st = runtime_->Attach(context().get(), attachReq, &attachResp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  auto attached = client("attach", attachResp.url(), "ping\n");
  EXPECT_EQ(attached["channels"]["1"], "got:ping\n") << attached.dump();

  v1::PortForwardRequest pfReq;
  pfReq.set_pod_sandbox_id(pod);
  pfReq.add_port(8080);
  v1::PortForwardResponse pfResp;
  st = runtime_->PortForward(context().get(), pfReq, &pfResp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  auto pf = client("portforward", pfResp.url() + "?port=8080", "GET / HTTP/1.0\r\n\r\n");
  EXPECT_NE(pf["channels"].value("0", "").find("hello-pf"), std::string::npos) << pf.dump();

  v1::ExecRequest notRunning;
  notRunning.set_container_id("feedface");
  notRunning.add_cmd("true");
  notRunning.set_stdout(true);
  EXPECT_EQ(runtime_->Exec(context().get(), notRunning, &execResp).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// kill -9 of berth-cri: the container keeps running and logging, an exit while it was down is
// reported after the restart, and the state comes back from disk.
TEST_F(CriLifecycleTest, ContainersOutliveAKilledServer) {
  auto config = podConfig("survivor");
  std::string pod = runPod(config);
  std::string id;
  ASSERT_TRUE(createContainer(pod, config,
                              containerConfig("ticker", {"sh", "-c",
                                                         "trap 'exit 7' TERM; while true; do "
                                                         "echo tick; sleep 0.1; done"}),
                              &id)
                  .ok());
  ASSERT_TRUE(start(id).ok());
  int pid = containerPid(id);
  ASSERT_GT(pid, 0);

  ::kill(server_.pid(), SIGKILL);
  ASSERT_TRUE(server_.wait());
  const std::string logPath = (dir_ / "logs" / "survivor" / "ticker.log").string();
  auto lines = [&] {
    auto log = readFile(logPath);
    return log ? std::count(log->begin(), log->end(), '\n') : 0;
  };
  long before = lines();
  EXPECT_TRUE(eventually([&] { return lines() > before + 2; })) << "the log keeps flowing";
  EXPECT_EQ(::kill(pid, 0), 0) << "the container is still running";
  ::kill(pid, SIGTERM);  // exits 7 while berth-cri is down
  ASSERT_TRUE(eventually([&] { return ::kill(pid, 0) != 0; }));

  ASSERT_NO_FATAL_FAILURE(startServer());
  runtime_ = v1::RuntimeService::NewStub(channel());
  ASSERT_TRUE(eventually([&] { return containerStatus(id).state() == v1::CONTAINER_EXITED; }));
  auto status = containerStatus(id);
  EXPECT_EQ(status.exit_code(), 7);
  v1::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(pod);
  v1::PodSandboxStatusResponse podStatus;
  ASSERT_TRUE(runtime_->PodSandboxStatus(context().get(), req, &podStatus).ok());
  EXPECT_EQ(podStatus.status().state(), v1::SANDBOX_READY);
}

// Pods created in parallel (the kubelet does): each gets its own namespaces and address. A forked
// namespace child that inherited the other threads' pipes used to make them wait on each other.
TEST_F(CriLifecycleTest, PodsInParallel) {
  constexpr int kPods = 8;
  std::vector<std::string> ids(kPods);
  std::vector<std::thread> threads;
  for (int i = 0; i < kPods; ++i) {
    threads.emplace_back([&, i] { ids[i] = runPod(podConfig(fmt::format("par{}", i))); });
  }
  for (auto& t : threads)
    t.join();
  std::set<std::string> ips;
  for (const auto& id : ids) {
    ASSERT_EQ(id.size(), 64u);
    v1::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(id);
    v1::PodSandboxStatusResponse resp;
    ASSERT_TRUE(runtime_->PodSandboxStatus(context().get(), req, &resp).ok());
    ips.insert(resp.status().network().ip());
  }
  EXPECT_EQ(ips.size(), static_cast<size_t>(kPods)) << "distinct addresses";
}

// kill -9 of berth-cri in the middle of RunPodSandbox's CNI ADD (a chained plugin of the test
// holds it there, after bridge made the veth and host-local gave the address): the restarted
// server runs DEL and unpins, leaving no veth, address, namespace or record.
TEST_F(CriLifecycleTest, KilledDuringRunPodSandboxRollsBackAtRestart) {
  // A chained plugin: on ADD it says it is running, then waits while hold-on exists; DEL and
  // the rest succeed.
  ASSERT_TRUE(writeFile(dir_ / "hold-on", ""));
  fs::path plugins = dir_ / "plugins";
  ASSERT_TRUE(makeDirs(plugins));
  for (const char* p : {"bridge", "host-local", "portmap"}) {
    fs::create_symlink(fs::path(BERTH_CNI_BIN_DIR) / p, plugins / p);
  }
  ASSERT_TRUE(writeFile(plugins / "hold",
                        fmt::format("#!/bin/sh\ncat >/dev/null\n"
                                    "if [ \"$CNI_COMMAND\" = ADD ]; then\n"
                                    "  touch {0}/held\n"
                                    "  while [ -e {0}/hold-on ]; do sleep 0.05; done\n"
                                    "fi\n"
                                    "echo '{{\"cniVersion\": \"1.0.0\"}}'\n",
                                    dir_.string()),
                        0755));
  ASSERT_TRUE(writeFile(dir_ / "net.d" / "10-pods.conflist",
                        fmt::format(R"({{"cniVersion": "1.0.0", "name": "pods", "plugins": [
        {{"type": "bridge", "bridge": "{}", "isGateway": true,
          "ipam": {{"type": "host-local", "dataDir": "{}/ipam", "subnet": "{}.0/24"}}}},
        {{"type": "hold"}}]}})",
                                    bridge_, dir_.string(), subnet_)));
  ::kill(server_.pid(), SIGKILL);
  ASSERT_TRUE(server_.wait());
  auto yaml = *readFile(config_);
  const std::string from = std::string("bin_dirs: [") + BERTH_CNI_BIN_DIR + "]";
  auto at = yaml.find(from);
  ASSERT_NE(at, std::string::npos) << yaml;
  yaml.replace(at, from.size(), "bin_dirs: [" + plugins.string() + "]");
  ASSERT_TRUE(writeFile(config_, yaml));
  ASSERT_NO_FATAL_FAILURE(startServer());
  runtime_ = v1::RuntimeService::NewStub(channel());

  auto config = podConfig("interrupted");
  std::thread run([&] {
    v1::RunPodSandboxRequest req;
    *req.mutable_config() = config;
    v1::RunPodSandboxResponse resp;
    (void)runtime_->RunPodSandbox(context().get(), req, &resp);  // cut off by the kill
  });
  EXPECT_TRUE(eventually([&] { return fs::exists(dir_ / "held"); })) << "ADD reached the hold";
  EXPECT_NE(sh("ip -o link show master " + bridge_), "") << "the veth exists mid-ADD";
  ::kill(server_.pid(), SIGKILL);
  ASSERT_TRUE(server_.wait());
  run.join();
  EXPECT_NE(sh("ls " + (dir_ / "root" / "pods").string()), "")
      << "the record of the half-made pod is on disk";

  ASSERT_NO_FATAL_FAILURE(startServer());
  runtime_ = v1::RuntimeService::NewStub(channel());
  v1::ListPodSandboxResponse pods;
  ASSERT_TRUE(runtime_->ListPodSandbox(context().get(), {}, &pods).ok());
  EXPECT_EQ(pods.items_size(), 0);
  EXPECT_EQ(sh("ls " + (dir_ / "root" / "pods").string()), "");
  EXPECT_EQ(sh("ip -o link show master " + bridge_), "") << "no veth left on the bridge";
  EXPECT_EQ(sh("ls " + (dir_ / "ipam" / "pods").string() + " | grep -v -e lock -e last_reserved"),
            "")
      << "the address is released";
  EXPECT_EQ(sh("grep " + (dir_ / "state").string() + " /proc/self/mountinfo"), "")
      << "no pinned namespace or shm mount left";
  ASSERT_TRUE(removeAll(dir_ / "hold-on"));  // the orphaned plugin ends, later ADDs pass
  EXPECT_EQ(runPod(config).size(), 64u) << "the name is free again";
}

// A record left as "creating" (berth-cri killed inside RunPodSandbox) is rolled back at start.
TEST_F(CriLifecycleTest, UnfinishedRunPodSandboxIsRolledBackAtStart) {
  auto config = podConfig("half");
  std::string pod = runPod(config);
  v1::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(pod);
  req.set_verbose(true);
  v1::PodSandboxStatusResponse podStatus;
  ASSERT_TRUE(runtime_->PodSandboxStatus(context().get(), req, &podStatus).ok());
  const std::string netns = nlohmann::json::parse(podStatus.info().at("info"))["netNamespace"];
  const std::string ip = podStatus.status().network().ip();
  ASSERT_NE(sh("ip -o link show master " + bridge_), "") << "the pod's veth is on the bridge";
  ::kill(server_.pid(), SIGKILL);
  ASSERT_TRUE(server_.wait());
  // As if the kill had come before RunPodSandbox finished.
  fs::path record = dir_ / "root" / "pods" / pod / "pod.json";
  auto j = nlohmann::json::parse(*readFile(record));
  j["phase"] = "creating";
  ASSERT_TRUE(writeFile(record, j.dump()));

  ASSERT_NO_FATAL_FAILURE(startServer());
  runtime_ = v1::RuntimeService::NewStub(channel());
  v1::ListPodSandboxResponse pods;
  grpc::Status st = runtime_->ListPodSandbox(context().get(), {}, &pods);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(pods.items_size(), 0);
  EXPECT_FALSE(fs::exists(netns));
  EXPECT_FALSE(fs::exists(dir_ / "ipam" / "pods" / ip));
  EXPECT_FALSE(fs::exists(record));
  EXPECT_EQ(sh("ip -o link show master " + bridge_), "") << "no veth left on the bridge";
  EXPECT_EQ(sh("grep " + (dir_ / "state").string() + " /proc/self/mountinfo"), "")
      << "no pinned namespace or shm mount left";
  // The name is free again.
  EXPECT_EQ(runPod(config).size(), 64u);
}

// A container record left "creating" (berth-cri killed inside CreateContainer, after the monitor
// created it) is rolled back at start: no runtime state, rootfs mount or monitor left.
TEST_F(CriLifecycleTest, UnfinishedCreateContainerIsRolledBackAtStart) {
  auto config = podConfig("halfc");
  std::string pod = runPod(config);
  std::string id;
  ASSERT_TRUE(createContainer(pod, config, containerConfig("c", {"sleep", "1000"}), &id).ok());
  int pid = containerPid(id);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, 0), 0);
  ::kill(server_.pid(), SIGKILL);
  ASSERT_TRUE(server_.wait());
  fs::path record = dir_ / "root" / "containers" / id / "container.json";
  auto j = nlohmann::json::parse(*readFile(record));
  j["phase"] = "creating";
  ASSERT_TRUE(writeFile(record, j.dump()));

  ASSERT_NO_FATAL_FAILURE(startServer());
  runtime_ = v1::RuntimeService::NewStub(channel());
  v1::ListContainersResponse list;
  ASSERT_TRUE(runtime_->ListContainers(context().get(), {}, &list).ok());
  EXPECT_EQ(list.containers_size(), 0);
  EXPECT_FALSE(fs::exists(record));
  EXPECT_FALSE(fs::exists(dir_ / "images" / "containers" / id)) << "the rootfs is unmounted";
  EXPECT_FALSE(fs::exists(dir_ / "state" / "runtimes" / "berth-runtime" / id));
  EXPECT_TRUE(eventually([&] { return ::kill(pid, 0) != 0; })) << "the container's init is gone";
  // The name is free again.
  EXPECT_TRUE(createContainer(pod, config, containerConfig("c", {"sleep", "1000"}), &id).ok());
}

// berth-default, the RuntimeDefault AppArmor profile berth-cri loads, where AppArmor is in use
// (the vm tier): it denies mount even to a container given CAP_SYS_ADMIN, while the same container
// unconfined may mount, so the denial is the profile's.
TEST_F(CriLifecycleTest, AppArmorDefaultProfileDeniesMountsEvenWithSysAdmin) {
  if (!readFile("/sys/module/apparmor/parameters/enabled").value_or("").starts_with("Y") ||
      ::access("/sbin/apparmor_parser", X_OK) != 0)
    GTEST_SKIP() << "needs AppArmor and apparmor_parser (ctest -L vm runs it in a VM)";
  auto config = podConfig("aa");
  std::string pod = runPod(config);
  ASSERT_FALSE(pod.empty());
  auto tryMount = [&](const std::string& name, v1::SecurityProfile::ProfileType type) {
    auto cc = containerConfig(name, {"sleep", "1000"});
    auto* sc = cc.mutable_linux()->mutable_security_context();
    sc->mutable_capabilities()->add_add_capabilities("SYS_ADMIN");
    sc->mutable_apparmor()->set_profile_type(type);
    std::string id;
    grpc::Status created = createContainer(pod, config, cc, &id);
    EXPECT_TRUE(created.ok()) << created.error_message();
    EXPECT_TRUE(start(id).ok());
    grpc::Status st;
    auto r = execSync(
        id, {"sh", "-c", "mkdir -p /tmp/m && mount -t tmpfs none /tmp/m && echo mounted"}, &st);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return r;
  };
  auto confined = tryMount("confined", v1::SecurityProfile::RuntimeDefault);
  EXPECT_NE(confined.exit_code(), 0) << confined.stdout();
  EXPECT_EQ(confined.stdout(), "");
  auto unconfined = tryMount("unconfined", v1::SecurityProfile::Unconfined);
  EXPECT_EQ(unconfined.exit_code(), 0) << unconfined.stderr();
  EXPECT_EQ(unconfined.stdout(), "mounted\n");
}

// The systemd cgroup driver, where it can run: systemd as PID 1 on a cgroup v2 host (the vm tier
// runs this test). The pod's cgroup_parent is a slice, each container a transient scope in it
// that berth-runtime starts over D-Bus; limits, updates, stats and removal go by those names.
TEST_F(CriLifecycleTest, SystemdDriverPutsContainersInScopesOfThePodSlice) {
  struct statfs st {};
  if (::statfs("/sys/fs/cgroup", &st) != 0 || st.f_type != CGROUP2_SUPER_MAGIC ||
      !fs::exists("/run/systemd/system"))
    GTEST_SKIP() << "needs systemd as PID 1 and cgroup v2 (ctest -L vm runs it in a VM)";
  ASSERT_NO_FATAL_FAILURE(restartWith("cgroup_driver: systemd\n"));
  const std::string slice = fmt::format("berthit{}.slice", ::getpid());
  auto stopSlice = defer([&] { sh("systemctl stop " + slice + " 2>/dev/null"); });
  auto config = podConfig("sd");
  config.mutable_linux()->set_cgroup_parent(slice);
  std::string pod = runPod(config);
  ASSERT_FALSE(pod.empty());

  auto cc = containerConfig("app", {"sleep", "1000"});
  cc.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(64 << 20);
  cc.mutable_linux()->mutable_resources()->set_cpu_quota(50000);
  cc.mutable_linux()->mutable_resources()->set_cpu_period(100000);
  std::string id;
  grpc::Status created = createContainer(pod, config, cc, &id);
  ASSERT_TRUE(created.ok()) << created.error_message();
  ASSERT_TRUE(start(id).ok());
  const std::string unit = "cri-berth-" + id + ".scope";
  const fs::path scope = fs::path("/sys/fs/cgroup") / slice / unit;

  int pid = containerPid(id);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(readFile(fmt::format("/proc/{}/cgroup", pid)).value_or(""),
            fmt::format("0::/{}/{}\n", slice, unit));
  EXPECT_EQ(sh("systemctl is-active " + unit), "active\n");
  // The VM has AppArmor: RuntimeDefault is berth-default, which berth-cri loaded itself.
  if (readFile("/sys/module/apparmor/parameters/enabled").value_or("").starts_with("Y")) {
    EXPECT_EQ(readFile(fmt::format("/proc/{}/attr/current", pid)).value_or(""),
              "berth-default (enforce)\n");
  }
  EXPECT_EQ(readFile(scope / "memory.max").value_or("(none)"), std::to_string(64 << 20) + "\n");
  EXPECT_EQ(readFile(scope / "cpu.max").value_or("(none)"), "50000 100000\n");

  v1::UpdateContainerResourcesRequest update;
  update.set_container_id(id);
  update.mutable_linux()->set_memory_limit_in_bytes(128 << 20);
  v1::UpdateContainerResourcesResponse updated;
  grpc::Status up = runtime_->UpdateContainerResources(context().get(), update, &updated);
  ASSERT_TRUE(up.ok()) << up.error_message();
  EXPECT_EQ(readFile(scope / "memory.max").value_or("(none)"), std::to_string(128 << 20) + "\n");

  // Stats come from the scope, and the pod's from its slice.
  v1::ContainerStatsRequest statsReq;
  statsReq.set_container_id(id);
  v1::ContainerStatsResponse cstats;
  ASSERT_TRUE(runtime_->ContainerStats(context().get(), statsReq, &cstats).ok());
  EXPECT_GT(cstats.stats().cpu().usage_core_nano_seconds().value(), 0u);
  EXPECT_GT(cstats.stats().memory().usage_bytes().value(), 0u);
  EXPECT_EQ(cstats.stats().memory().available_bytes().value(),
            static_cast<uint64_t>(128 << 20) - cstats.stats().memory().working_set_bytes().value());
  v1::PodSandboxStatsRequest podStatsReq;
  podStatsReq.set_pod_sandbox_id(pod);
  v1::PodSandboxStatsResponse pstats;
  ASSERT_TRUE(runtime_->PodSandboxStats(context().get(), podStatsReq, &pstats).ok());
  EXPECT_GE(pstats.stats().linux().cpu().usage_core_nano_seconds().value(),
            cstats.stats().cpu().usage_core_nano_seconds().value());

  // Stopped and removed: the scope's unit and cgroup are gone.
  v1::StopContainerRequest stop;
  stop.set_container_id(id);
  v1::StopContainerResponse stopped;
  ASSERT_TRUE(runtime_->StopContainer(context().get(), stop, &stopped).ok());
  v1::RemoveContainerRequest rm;
  rm.set_container_id(id);
  v1::RemoveContainerResponse removed;
  ASSERT_TRUE(runtime_->RemoveContainer(context().get(), rm, &removed).ok());
  EXPECT_TRUE(eventually([&] { return !fs::exists(scope); })) << scope;
  EXPECT_NE(sh("systemctl is-active " + unit), "active\n");
  v1::StopPodSandboxRequest stopPod;
  stopPod.set_pod_sandbox_id(pod);
  v1::StopPodSandboxResponse podStopped;
  EXPECT_TRUE(runtime_->StopPodSandbox(context().get(), stopPod, &podStopped).ok());
  v1::RemovePodSandboxRequest rmPod;
  rmPod.set_pod_sandbox_id(pod);
  v1::RemovePodSandboxResponse podRemoved;
  EXPECT_TRUE(runtime_->RemovePodSandbox(context().get(), rmPod, &podRemoved).ok());
}

}  // namespace
}  // namespace berth
