#pragma once
// berth-server as a process for tests: its own data dir, a free port on 127.0.0.1, the SQLite
// store (or etcd, started on loopback by the fixture), and kubectl pointed at its
// admin.kubeconfig. Everything it started is stopped and removed when it goes, even when a test
// fails.
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/child_process.h"
#include "common/result.h"
#include "common/temp_dir_for_test.h"

namespace berth::testing {

enum class StoreBackend { kSqlite, kEtcd };

struct KubectlResult {
  int exitCode = -1;
  std::string out;
  std::string err;
};

class EtcdProcess;

class ServerFixture {
 public:
  struct Options {
    StoreBackend backend = StoreBackend::kSqlite;
    std::vector<std::string> extraArgs;
  };
  // Starts berth-server and waits until /readyz answers ok.
  [[nodiscard]] static Result<std::unique_ptr<ServerFixture>> start(Options options);
  ~ServerFixture();

  // kubectl with the admin kubeconfig; `stdinData` is fed to it (for `apply -f -`).
  KubectlResult kubectl(const std::vector<std::string>& args, const std::string& stdinData = {},
                        const std::string& kubeconfig = {}) const;
  // kubectl ... and the test fails (with stderr) unless it exits 0; returns stdout.
  std::string kubectlOk(const std::vector<std::string>& args,
                        const std::string& stdinData = {}) const;

  const std::filesystem::path& dataDir() const { return dataDir_; }
  std::filesystem::path adminKubeconfig() const { return dataDir_ / "admin.kubeconfig"; }
  std::string url() const;  // https://127.0.0.1:<port>
  int port() const { return port_; }

  // SIGKILL and start again on the same data dir (and port); waits for /readyz.
  [[nodiscard]] Status crashAndRestart();
  pid_t pid() const { return process_.pid(); }

 private:
  ServerFixture() = default;
  [[nodiscard]] Status launch();

  Options options_;
  TempDir temp_{"berth-server-test"};
  std::filesystem::path dataDir_;
  int port_ = 0;
  std::unique_ptr<EtcdProcess> etcd_;
  ChildProcess process_;
};

// kubectl with `kubeconfig`, its discovery cache under `home`; `stdinData` fed to it.
KubectlResult runKubectl(const std::filesystem::path& kubeconfig, const std::filesystem::path& home,
                         const std::vector<std::string>& args, const std::string& stdinData = {});

// Whether the kubectl on this machine can be run (tests skip without one).
bool haveKubectl();

}  // namespace berth::testing
