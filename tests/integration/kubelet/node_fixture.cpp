#include "tests/integration/kubelet/node_fixture.h"

#include <unistd.h>

#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/free_port_for_test.h"
#include "common/spawn.h"
#include "common/unix_socket.h"
#include "kubelet/cri_client.h"
#include "kubelet/pod_cgroups.h"
#include "kubelet/volume/object_source_for_test.h"
#include "kubelet/volume/volume_manager.h"
#include "runtime/cgroup_manager.h"

namespace berth::testing {
namespace {

using namespace std::chrono_literals;

void sh(const std::string& cmd) {
  SpawnOptions o;
  o.path = "/bin/sh";
  o.args = {"sh", "-c", cmd};
  o.captureStdout = true;
  o.captureStderr = true;
  (void)runProgram(o);
}

}  // namespace

bool eventually(const std::function<bool()>& check, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (check()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
}

std::string NodeFixture::cgroupRoot() const {
  return fmt::format("berth-kl-{}", ::getpid());
}

std::string NodeFixture::missingPrerequisite() {
  if (::geteuid() != 0) return "needs root (namespaces, mounts, CNI, cgroups)";
  if (!images::testing::RegistryServer::available()) return "docker-registry is not installed";
  if (!haveKubectl()) return "kubectl is not installed";
  return {};
}

Result<std::unique_ptr<NodeFixture>> NodeFixture::start(NodeOptions options) {
  std::unique_ptr<NodeFixture> node(new NodeFixture());
  node->options_ = options;
  char tmpl[] = "/tmp/berth-kl-XXXXXX";  // short: unix socket paths hold 108 bytes
  if (!::mkdtemp(tmpl)) return failErrno(errno, "mkdtemp");
  node->dir_ = tmpl;
  const int pid = ::getpid();
  node->bridge_ = fmt::format("bkl{}", pid % 100000);
  node->nodeName_ = fmt::format("node-{}", pid);

  auto registry = images::testing::RegistryServer::start(node->dir_ / "registry", {});
  if (!registry) return std::unexpected(registry.error().context("registry"));
  node->registry_ = std::move(*registry);
  auto image = images::testing::makeBusyboxImage(images::testing::ManifestFlavour::kOci);
  BERTH_TRY(images::testing::push(*node->registry_, "test/busybox", "1", image));
  node->image_ = node->registry_->host() + "/test/busybox:1";

  BERTH_TRY(node->startCri());
  auto server = ServerFixture::start({});
  if (!server) return std::unexpected(server.error().context("berth-server"));
  node->server_ = std::move(*server);
  node->healthzPort_ = BERTH_TRY(freeLoopbackPort());
  node->kubeletPort_ = BERTH_TRY(freeLoopbackPort());
  BERTH_TRY(node->startKubelet());
  return node;
}

Status NodeFixture::startCri() {
  const int pid = ::getpid();
  const std::string subnet = fmt::format("172.{}.{}", 16 + pid % 16, (pid / 16) % 256);
  BERTH_TRY(writeFile(
      dir_ / "registries.yaml",
      fmt::format("mirrors:\n  \"{0}\":\n    endpoint: [\"http://{0}\"]\n", registry_->host())));
  BERTH_TRY(makeDirs(dir_ / "net.d"));
  BERTH_TRY(writeFile(dir_ / "net.d" / "10-pods.conflist",
                      fmt::format(R"({{"cniVersion": "1.0.0", "name": "pods", "plugins": [
        {{"type": "bridge", "bridge": "{}", "isGateway": true,
          "ipam": {{"type": "host-local", "dataDir": "{}/ipam", "subnet": "{}.0/24"}}}},
        {{"type": "portmap", "capabilities": {{"portMappings": true}}}}]}})",
                                  bridge_, dir_.string(), subnet)));
  BERTH_TRY(
      writeFile(dir_ / "cri.yaml",
                fmt::format("root: {0}/cri-root\nstate: {0}/cri-state\nimage_root: {0}/images\n"
                            "registry_config: {0}/registries.yaml\n"
                            "monitor_path: {1}\npod_init_path: {2}\n"
                            "runtime_handlers:\n  berth-runtime:\n    path: {3}\n"
                            "default_runtime_handler: berth-runtime\n"
                            "cni:\n  bin_dirs: [{4}]\n  conf_dir: {0}/net.d\n",
                            dir_.string(), BERTH_MONITOR_PATH, BERTH_POD_INIT_PATH,
                            BERTH_RUNTIME_PATH, BERTH_CNI_BIN_DIR)));
  SpawnOptions o;
  o.path = BERTH_CRI_PATH;
  o.args = {"berth-cri", "--config", (dir_ / "cri.yaml").string(), "--listen",
            criSocket().string()};
  o.outputFile = (dir_ / "berth-cri.log").string();
  cri_ = BERTH_TRY(startProgram(o));
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!connectUnix(criSocket().string())) {
    if (auto exited = cri_.waitFor(0ms); exited && *exited) {
      return fail(Code::kInternal, "berth-cri exited at start (log {})",
                  (dir_ / "berth-cri.log").string());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return fail(Code::kDeadlineExceeded, "berth-cri did not listen");
    }
    std::this_thread::sleep_for(10ms);
  }
  return {};
}

Result<std::filesystem::path> NodeFixture::writeNodeKubeconfig() {
  const auto key = dir_ / "node.key";
  const auto cert = dir_ / "node.crt";
  const auto config = dir_ / "node.kubeconfig";
  if (std::filesystem::exists(config)) return config;
  const auto tls = server_->dataDir() / "tls";
  auto run = [](std::vector<std::string> args) -> Status {
    SpawnOptions o;
    o.path = args[0];
    o.args = std::move(args);
    o.captureStdout = true;
    o.captureStderr = true;
    auto r = BERTH_TRY(runProgram(o));
    if (!r.status.success()) return fail(Code::kInternal, "{}: {}", o.args[0], r.stderrData);
    return {};
  };
  const std::string csr = (dir_ / "node.csr").string();
  BERTH_TRY(run(
      {"openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key.string()}));
  BERTH_TRY(run({"openssl", "req", "-new", "-key", key.string(), "-subj",
                 "/O=system:nodes/CN=system:node:" + nodeName_, "-out", csr}));
  BERTH_TRY(
      run({"openssl", "x509", "-req", "-in", csr, "-CA", (tls / "ca.crt").string(), "-CAkey",
           (tls / "ca.key").string(), "-CAcreateserial", "-days", "2", "-out", cert.string()}));
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"config", "set-cluster", "berth", "--server=" + server_->url(),
            "--certificate-authority=" + (tls / "ca.crt").string()},
           {"config", "set-credentials", "node", "--client-certificate=" + cert.string(),
            "--client-key=" + key.string()},
           {"config", "set-context", "default", "--cluster=berth", "--user=node"},
           {"config", "use-context", "default"}}) {
    auto withConfig = args;
    withConfig.push_back("--kubeconfig=" + config.string());
    auto r = server_->kubectl(withConfig);
    if (r.exitCode != 0) return fail(Code::kInternal, "kubectl config: {}", r.err);
  }
  return config;
}

Status NodeFixture::startKubelet() {
  std::string staticPods;
  if (options_.staticPods) {
    BERTH_TRY(makeDirs(manifestDir()));
    staticPods = fmt::format("staticPodPath: {}\n", manifestDir().string());
  }
  BERTH_TRY(writeFile(dir_ / "kubelet.yaml",
                      fmt::format("apiVersion: kubelet.config.k8s.io/v1beta1\n"
                                  "kind: KubeletConfiguration\n"
                                  "podLogsDir: {}\n"
                                  "healthzPort: {}\n"
                                  "syncFrequency: 3s\n"
                                  "nodeStatusUpdateFrequency: 2s\n"
                                  "cgroupRoot: {}\n"
                                  "clusterDomain: cluster.local\n"
                                  "failSwapOn: false\n"
                                  "address: 127.0.0.1\n"
                                  "port: {}\n"
                                  "authentication:\n"
                                  "  x509:\n"
                                  "    clientCAFile: {}\n"
                                  "  webhook:\n"
                                  "    enabled: true\n"
                                  "authorization:\n"
                                  "  mode: Webhook\n{}",
                                  podLogs().string(), healthzPort_, cgroupRoot(), kubeletPort_,
                                  (server_->dataDir() / "tls" / "ca.crt").string(), staticPods)));
  std::filesystem::path kubeconfig = server_->adminKubeconfig();
  if (options_.nodeIdentity) kubeconfig = BERTH_TRY(writeNodeKubeconfig());
  SpawnOptions o;
  o.path = BERTH_KUBELET_PATH;
  o.args = {"berth-kubelet",
            "--config=" + (dir_ / "kubelet.yaml").string(),
            "--kubeconfig=" + kubeconfig.string(),
            "--hostname-override=" + nodeName_,
            "--node-ip=127.0.0.1",
            "--root-dir=" + kubeletRoot().string(),
            "--container-runtime-endpoint=unix://" + criSocket().string()};
  o.outputFile = (dir_ / "berth-kubelet.log").string();
  kubelet_ = BERTH_TRY(startProgram(o));
  bool ready = eventually(
      [&] {
        auto node = server_->kubectl({"get", "node", nodeName_, "-o", "json"});
        return node.exitCode == 0;
      },
      30s);
  if (!ready) return fail(Code::kDeadlineExceeded, "the kubelet did not register its node");
  return {};
}

Status NodeFixture::restartKubelet(bool kill) {
  if (kill) {
    kubelet_.killAndReap();
  } else {
    ::kill(kubelet_.pid(), SIGTERM);
    (void)kubelet_.wait();
  }
  return startKubelet();
}

std::string NodeFixture::kubeletLog() const {
  return readFile(dir_ / "berth-kubelet.log").value_or("(no log)");
}

nlohmann::json NodeFixture::getJson(const std::vector<std::string>& args) const {
  std::vector<std::string> full = {"get"};
  full.insert(full.end(), args.begin(), args.end());
  full.insert(full.end(), {"-o", "json"});
  auto r = server_->kubectl(full);
  if (r.exitCode != 0) return nullptr;
  return nlohmann::json::parse(r.out, nullptr, false);
}

void NodeFixture::apply(const std::string& manifest) const {
  server_->kubectlOk({"apply", "-f", "-"}, manifest);
}

NodeFixture::~NodeFixture() {
  // The kubelet first (it would restart what we remove), then whatever pods are left.
  kubelet_.killAndReap();
  if (cri_.valid()) {
    kubelet::CriClient cri("unix://" + criSocket().string(), std::chrono::seconds(30));
    if (auto pods = cri.listPodSandbox()) {
      for (const auto& p : *pods) {
        (void)cri.stopPodSandbox(p.id());
        (void)cri.removePodSandbox(p.id());
      }
    }
  }
  cri_.killAndReap();
  // Volumes (tmpfs) and cgroups of pods the kubelet did not get to remove.
  kubelet::volume::MapObjectSource objects;
  kubelet::volume::VolumeManager volumes({.rootDir = kubeletRoot()}, objects);
  kubelet::PodCgroups cgroups({.cgroupRoot = cgroupRoot()});
  if (auto uids = volumes.podsOnDisk()) {
    for (const auto& uid : *uids) {
      (void)volumes.tearDown(uid);
      (void)cgroups.remove(uid);
    }
  }
  for (const char* dir : {"/kubepods/burstable", "/kubepods/besteffort", "/kubepods", ""}) {
    if (auto cg = runtime::CgroupManager::forContainer(cgroupRoot() + dir, "")) (void)cg->destroy();
  }
  if (::testing::Test::HasFailure()) {
    std::fprintf(stderr, "berth-kubelet log:\n%s\n", kubeletLog().c_str());
  }
  server_.reset();
  registry_.reset();
  sh("ip link del " + bridge_ + " 2>/dev/null");
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::unique_ptr<NodeFixture> NodeTest::node_;
std::string NodeTest::startError_;

void NodeTest::startNode(NodeOptions options) {
  if (!NodeFixture::missingPrerequisite().empty()) return;
  auto node = NodeFixture::start(options);
  if (!node) {
    startError_ = node.error().message();
    return;
  }
  node_ = std::move(*node);
}

void NodeTest::SetUp() {
  if (auto missing = NodeFixture::missingPrerequisite(); !missing.empty()) GTEST_SKIP() << missing;
  ASSERT_TRUE(node_) << "the node did not start: " << startError_;
  ns_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  for (auto& c : ns_)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  node_->server().kubectlOk({"create", "namespace", ns_});
}

void NodeTest::TearDown() {
  if (!node_ || !HasFailure()) return;
  std::fprintf(stderr, "pods:\n%s\n",
               node_->server().kubectl({"get", "pods", "-n", ns_, "-o", "yaml"}).out.c_str());
  std::string log = node_->kubeletLog();
  if (log.size() > 6000) log = log.substr(log.size() - 6000);
  std::fprintf(stderr, "berth-kubelet log (end):\n%s\n", log.c_str());
}

nlohmann::json NodeTest::container(const std::string& name, const std::string& script) const {
  return {{"name", name},
          {"image", node_->image()},
          {"imagePullPolicy", "IfNotPresent"},
          {"command", {"sh", "-c", script}}};
}

void NodeTest::createPod(const std::string& name, nlohmann::json spec) const {
  spec["nodeName"] = node_->nodeName();
  nlohmann::json pod = {{"apiVersion", "v1"},
                        {"kind", "Pod"},
                        {"metadata", {{"name", name}, {"namespace", ns_}}},
                        {"spec", std::move(spec)}};
  node_->apply(pod.dump());
}

nlohmann::json NodeTest::pod(const std::string& name) const {
  return node_->getJson({"pod", name, "-n", ns_});
}

bool NodeTest::waitPod(const std::string& name,
                       const std::function<bool(const nlohmann::json&)>& pred,
                       std::chrono::seconds timeout) const {
  return eventually(
      [&] {
        nlohmann::json p = pod(name);
        return p.is_object() && pred(p);
      },
      timeout);
}

}  // namespace berth::testing
