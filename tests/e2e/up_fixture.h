#pragma once
// `berth up` as a user runs it, in a network namespace of the test's own: the test process
// enters it first, so berth up, its daemons, the pods, kubectl and the registry holding the test
// image all live there. Nothing the cluster sends (Service IPs, pod traffic) can leave it: its
// only link is a veth pair with both ends inside, carrying the node address.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/child_process.h"
#include "common/netns.h"
#include "tests/integration/registry_fixture.h"
#include "tests/integration/server/server_fixture.h"

namespace berth::testing {

class UpFixture {
 public:
  struct Options {
    std::vector<std::string> extraArgs;  // more `berth up` flags
  };
  // Why this machine can't run the e2e tests ("" when it can).
  static std::string missingPrerequisite();
  [[nodiscard]] static Result<std::unique_ptr<UpFixture>> start(Options options = {});
  ~UpFixture();  // berth down --purge, then the namespace goes

  KubectlResult kubectl(const std::vector<std::string>& args, const std::string& stdinData = {});
  // kubectl that must succeed (a test failure with its stderr otherwise); returns stdout.
  std::string kubectlOk(const std::vector<std::string>& args, const std::string& stdinData = {});
  // Waits (bounded) until `kubectl args` prints `want`.
  bool waitForOutput(const std::vector<std::string>& args, const std::string& want,
                     std::chrono::seconds timeout = std::chrono::seconds(120));

  // SIGTERM to berth up, then the same command again on the same data dir.
  [[nodiscard]] Status restart() {
    BERTH_TRY(stop());
    return startAgain();
  }
  // SIGTERM to berth up; returns once it has exited (its containers keep running).
  [[nodiscard]] Status stop();
  // The same `berth up` again; returns once the node is Ready.
  [[nodiscard]] Status startAgain();
  pid_t upPid() const { return up_.pid(); }
  // `berth down --data-dir` (with --purge when asked); berth up is gone afterwards.
  [[nodiscard]] Status down(bool purge);

  const std::string& image() const { return image_; }  // <registry>/test/busybox:1 (also :2)
  const std::string& nodeName() const { return nodeName_; }
  static constexpr const char* kNodeIp = "10.201.0.1";
  const std::filesystem::path& dataDir() const { return dataDir_; }
  std::filesystem::path kubeconfig() const { return dataDir_ / "admin.kubeconfig"; }
  std::string netnsName() const { return netns_; }
  // berth up's output and its daemons' logs, for a failing test's message.
  std::string logs() const;

 private:
  UpFixture() = default;
  [[nodiscard]] Status launch();
  [[nodiscard]] Status waitForNodeReady();

  Options options_;
  std::filesystem::path dir_, dataDir_;
  std::string netns_, nodeName_, image_;
  std::optional<NetNsGuard> inside_;
  std::unique_ptr<images::testing::RegistryServer> registry_;
  ChildProcess up_;
};

}  // namespace berth::testing
