#pragma once
// A whole node for the kubelet's integration tests: docker-registry with a busybox image,
// berth-cri with our CNI plugins on a bridge of the test's own, berth-server, and berth-kubelet
// registered to it with its own root, log and cgroup directories (the cgroups nest under the
// test's own). kubectl drives it. Everything is stopped and removed when it goes.
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/child_process.h"
#include "common/result.h"
#include "tests/integration/registry_fixture.h"
#include "tests/integration/server/server_fixture.h"

namespace berth::testing {

struct NodeOptions {
  // The kubelet reads static pods from manifestDir() (staticPodPath).
  bool staticPods = false;
  // The kubelet authenticates as system:node:<name> (a client certificate from the server's CA)
  // rather than as admin, so the node authorizer and NodeRestriction judge what it does.
  bool nodeIdentity = false;
};

class NodeFixture {
 public:
  // Skips (returns the reason) when the machine lacks what a node needs.
  static std::string missingPrerequisite();
  [[nodiscard]] static Result<std::unique_ptr<NodeFixture>> start(NodeOptions options = {});
  ~NodeFixture();

  ServerFixture& server() { return *server_; }
  const std::string& nodeName() const { return nodeName_; }
  const std::string& image() const { return image_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path kubeletRoot() const { return dir_ / "kubelet"; }
  std::filesystem::path podLogs() const { return dir_ / "logs"; }
  std::filesystem::path criSocket() const { return dir_ / "cri.sock"; }
  // The kubelet's cgroupRoot: relative, so the pods' cgroups nest under this test's own.
  std::string cgroupRoot() const;
  std::filesystem::path manifestDir() const { return dir_ / "manifests"; }
  int healthzPort() const { return healthzPort_; }
  int kubeletPort() const { return kubeletPort_; }

  // kubectl ... -o json, parsed (null and a test failure when it fails).
  nlohmann::json getJson(const std::vector<std::string>& args) const;
  // Applies a manifest (YAML or JSON) with kubectl.
  void apply(const std::string& manifest) const;

  // SIGKILL the kubelet and start it again on the same state.
  [[nodiscard]] Status restartKubelet(bool kill = true);
  pid_t kubeletPid() const { return kubelet_.pid(); }
  std::string kubeletLog() const;

 private:
  NodeFixture() = default;
  [[nodiscard]] Status startCri();
  [[nodiscard]] Status startKubelet();
  // A kubeconfig with a client certificate for the node; its path.
  [[nodiscard]] Result<std::filesystem::path> writeNodeKubeconfig();

  NodeOptions options_;
  std::filesystem::path dir_;
  std::string bridge_;
  std::string nodeName_;
  std::string image_;
  int healthzPort_ = 0;
  int kubeletPort_ = 0;
  std::unique_ptr<images::testing::RegistryServer> registry_;
  std::unique_ptr<ServerFixture> server_;
  ChildProcess cri_;
  ChildProcess kubelet_;
};

// The base of the node's test suites: one node per test process (ctest runs each test in one),
// a namespace per test named after it, and the pods and the kubelet's log printed when a test
// failed.
class NodeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { startNode({}); }
  // What a suite's SetUpTestSuite calls for a node of its own kind.
  static void startNode(NodeOptions options);
  static void TearDownTestSuite() { node_.reset(); }
  void SetUp() override;
  void TearDown() override;

  // A container of the test image running `script` with sh.
  nlohmann::json container(const std::string& name, const std::string& script) const;
  // Applies a pod bound to the node (there is no scheduler here) with `spec`.
  void createPod(const std::string& name, nlohmann::json spec) const;
  // The pod's JSON, null when it does not exist.
  nlohmann::json pod(const std::string& name) const;
  // Waits (up to `timeout`) until `pred` holds for the pod.
  bool waitPod(const std::string& name, const std::function<bool(const nlohmann::json&)>& pred,
               std::chrono::seconds timeout = std::chrono::seconds(60)) const;

  static std::unique_ptr<NodeFixture> node_;
  static std::string startError_;
  std::string ns_;
};

// Polls `check` (every 100 ms) until it returns true or `timeout` passes; the last `describe()`
// is the failure message.
[[nodiscard]] bool eventually(const std::function<bool()>& check, std::chrono::seconds timeout);

}  // namespace berth::testing
