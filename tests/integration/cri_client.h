#pragma once
// A client of a CRI server (berth-cri, containerd's CRI plugin) over its unix socket, for the
// tests and benchmarks that drive one: one method per RPC they use, each failure an Error naming
// the server, the RPC and the gRPC status. An observer, when set, gets every RPC's wall time.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "common/child_process.h"
#include "common/result.h"
#include "runtime/v1/api.grpc.pb.h"

namespace berth::cri_testing {

namespace v1 = ::runtime::v1;

class CriClient {
 public:
  using Observer = std::function<void(const char* rpc, double ms)>;

  // `name` starts every error ("containerd: RunPodSandbox web: ...").
  CriClient(std::string name, const std::filesystem::path& socket);

  void observe(Observer observer) { observer_ = std::move(observer); }
  v1::RuntimeService::Stub& runtime() { return *runtime_; }

  // Until Version answers (`timeout`), failing early when `server` exited.
  [[nodiscard]] Status waitReady(ChildProcess& server, std::chrono::seconds timeout);

  [[nodiscard]] Status pull(const std::string& ref);
  [[nodiscard]] Result<std::string> runPodSandbox(const v1::PodSandboxConfig& config,
                                                  const std::string& handler = "");
  [[nodiscard]] Result<std::string> createContainer(const std::string& podId,
                                                    const v1::ContainerConfig& config,
                                                    const v1::PodSandboxConfig& sandbox);
  [[nodiscard]] Status startContainer(const std::string& id);
  [[nodiscard]] Status stopContainer(const std::string& id, int64_t timeoutSeconds);
  [[nodiscard]] Status removeContainer(const std::string& id);
  // StopPodSandbox then RemovePodSandbox.
  [[nodiscard]] Status removePod(const std::string& id);
  [[nodiscard]] Result<v1::PodSandboxStatusResponse> podSandboxStatus(const std::string& id,
                                                                      bool verbose = false);
  // Every pod the server still has, removed; errors ignored (cleanup after a failed test).
  void removeAllPods();

 private:
  template <class F>
  grpc::Status call(const char* rpc, F&& f);
  // One unary RPC through `call`, its failure named `what`.
  template <class Resp, class Req, class Stub>
  Result<Resp> unary(const char* rpc, const std::string& what, Stub& stub,
                     grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                     const Req& req);
  [[nodiscard]] Status check(const std::string& what, const grpc::Status& st) const;

  std::string name_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<v1::ImageService::Stub> images_;
  Observer observer_;
};

}  // namespace berth::cri_testing
