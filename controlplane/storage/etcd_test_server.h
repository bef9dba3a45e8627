#pragma once
// For tests and the benchmark: Debian's etcd-server on 127.0.0.1 with free ports and a data
// directory of the caller's, killed by its PID (SIGKILL, reaped) when the object goes.
#include <filesystem>
#include <memory>
#include <string>

#include "common/child_process.h"
#include "common/result.h"

namespace berth::controlplane::storage::testing {

class EtcdTestServer {
 public:
  // Empty when an etcd binary is on PATH; else why the etcd tests skip.
  static std::string unavailableReason();
  // Starts etcd in `dir` and waits until it answers.
  [[nodiscard]] static Result<std::unique_ptr<EtcdTestServer>> start(std::filesystem::path dir);

  // "http://127.0.0.1:<port>".
  const std::string& url() const { return url_; }
  pid_t pid() const { return process_.pid(); }
  // SIGKILL now; restart() brings it back on the same ports and data.
  void kill() { process_.killAndReap(); }
  [[nodiscard]] Status restart();

 private:
  EtcdTestServer() = default;
  [[nodiscard]] Status launch();
  std::filesystem::path dir_;
  int clientPort_ = 0;
  int peerPort_ = 0;
  std::string url_;
  ChildProcess process_;
};

}  // namespace berth::controlplane::storage::testing
