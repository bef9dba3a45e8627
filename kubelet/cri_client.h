#pragma once
// The kubelet's CRI v1 client (RuntimeService + ImageService over the runtime's unix socket),
// one method per RPC the kubelet makes. Every call has a deadline (runtimeRequestTimeout; a stop
// gets its grace period on top; pulls get their own), so a runtime that hangs costs one pod
// worker a bounded wait and never the node's health (kubernetes/kubernetes#45419). Failures are
// Errors with the gRPC code kept and the RPC and object named.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "common/result.h"
#include "runtime/v1/api.grpc.pb.h"

namespace berth::kubelet {

namespace cri = ::runtime::v1;

// GetContainerEvents, the runtime's stream of container lifecycle events. No deadline: it lasts
// as long as the kubelet listens; cancel() (from any thread) ends it.
class ContainerEventStream {
 public:
  ContainerEventStream(const ContainerEventStream&) = delete;
  ContainerEventStream& operator=(const ContainerEventStream&) = delete;
  ~ContainerEventStream();

  // Blocks until the runtime answered the call (its headers) or it failed.
  void waitReady() { reader_->WaitForInitialMetadata(); }
  // Blocks for the next event; false once the stream has ended (finish() says why).
  bool next(cri::ContainerEventResponse& event);
  // After next() returned false: OK for a cancelled stream, else the runtime's error
  // (kUnimplemented for a runtime without events).
  [[nodiscard]] Status finish();
  void cancel() { ctx_.TryCancel(); }

 private:
  friend class CriClient;
  ContainerEventStream() = default;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<cri::ContainerEventResponse>> reader_;
  bool finished_ = false;
};

class CriClient {
 public:
  // `endpoint`: "unix:///run/berth/cri.sock" or a path.
  CriClient(const std::string& endpoint, std::chrono::milliseconds requestTimeout);

  [[nodiscard]] Result<cri::VersionResponse> version();
  [[nodiscard]] Result<cri::StatusResponse> status();
  [[nodiscard]] Status updateRuntimeConfig(const std::string& podCidr);

  [[nodiscard]] Result<std::string> runPodSandbox(const cri::PodSandboxConfig& config,
                                                  const std::string& runtimeHandler);
  [[nodiscard]] Status stopPodSandbox(const std::string& id);
  [[nodiscard]] Status removePodSandbox(const std::string& id);
  [[nodiscard]] Result<cri::PodSandboxStatusResponse> podSandboxStatus(const std::string& id);
  [[nodiscard]] Result<std::vector<cri::PodSandbox>> listPodSandbox(
      const cri::PodSandboxFilter& filter = {});

  [[nodiscard]] Result<std::string> createContainer(const std::string& sandboxId,
                                                    const cri::ContainerConfig& config,
                                                    const cri::PodSandboxConfig& sandboxConfig);
  [[nodiscard]] Status startContainer(const std::string& id);
  [[nodiscard]] Status stopContainer(const std::string& id, std::int64_t graceSeconds);
  [[nodiscard]] Status removeContainer(const std::string& id);
  [[nodiscard]] Result<std::vector<cri::Container>> listContainers(
      const cri::ContainerFilter& filter = {});
  [[nodiscard]] Result<cri::ContainerStatusResponse> containerStatus(const std::string& id);
  [[nodiscard]] Result<cri::ExecSyncResponse> execSync(const std::string& id,
                                                       const std::vector<std::string>& cmd,
                                                       std::chrono::seconds timeout);

  // The container event stream (the evented PLEG's source).
  [[nodiscard]] std::unique_ptr<ContainerEventStream> containerEvents();
  // Whether the connection to the runtime is up (a call that failed to connect leaves it not).
  bool connected() const { return channel_->GetState(false) == GRPC_CHANNEL_READY; }

  // Streaming (the kubelet's :10250 API): the URL on the runtime's streaming server.
  [[nodiscard]] Result<std::string> exec(const cri::ExecRequest& request);
  [[nodiscard]] Result<std::string> attach(const cri::AttachRequest& request);
  [[nodiscard]] Result<std::string> portForward(const cri::PortForwardRequest& request);

  // Stats for the Summary API and /metrics/resource.
  [[nodiscard]] Result<std::vector<cri::ContainerStats>> listContainerStats(
      const cri::ContainerStatsFilter& filter = {});
  [[nodiscard]] Result<std::vector<cri::PodSandboxStats>> listPodSandboxStats(
      const cri::PodSandboxStatsFilter& filter = {});

  // The image's reference as the runtime resolved it (its imageRef).
  [[nodiscard]] Result<std::string> pullImage(const std::string& image, const cri::AuthConfig* auth,
                                              const cri::PodSandboxConfig& sandboxConfig);
  // The image when the runtime has it, nullopt when not.
  [[nodiscard]] Result<std::optional<cri::Image>> imageStatus(const std::string& image);

 private:
  template <class Stub, class Req, class Resp>
  Result<Resp> call(const char* rpc, const std::string& what, Stub& stub,
                    grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                    const Req& req, std::chrono::milliseconds timeout);

  std::chrono::milliseconds timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<cri::RuntimeService::Stub> runtime_;
  std::unique_ptr<cri::ImageService::Stub> images_;
};

}  // namespace berth::kubelet
