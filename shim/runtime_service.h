#pragma once
// runtime.v1.RuntimeService: request validation and the proto answers; the pod and container
// lifecycle lives in engine/engine.h. Checkpoint/restore answers UNIMPLEMENTED (no CRIU).

#include "runtime/v1/api.grpc.pb.h"
#include "shim/cri_config.h"
#include "shim/engine/engine.h"

namespace berth::cri {

namespace v1 = ::runtime::v1;

// Declares an RPC override.
#define BERTH_CRI_DECLARE_UNARY(Rpc, Req, Resp)                                              \
  grpc::Status Rpc(grpc::ServerContext* context, const v1::Req* request, v1::Resp* response) \
      override
#define BERTH_CRI_DECLARE_STREAM(Rpc, Req, Resp)                         \
  grpc::Status Rpc(grpc::ServerContext* context, const v1::Req* request, \
                   grpc::ServerWriter<v1::Resp>* writer) override

class RuntimeService final : public v1::RuntimeService::Service {
 public:
  // `config` must outlive the service.
  RuntimeService(const CriConfig& config, Engine& engine) : config_(config), engine_(engine) {}

  BERTH_CRI_DECLARE_UNARY(Version, VersionRequest, VersionResponse);
  BERTH_CRI_DECLARE_UNARY(Status, StatusRequest, StatusResponse);
  BERTH_CRI_DECLARE_UNARY(RuntimeConfig, RuntimeConfigRequest, RuntimeConfigResponse);
  BERTH_CRI_DECLARE_UNARY(RunPodSandbox, RunPodSandboxRequest, RunPodSandboxResponse);
  BERTH_CRI_DECLARE_UNARY(StopPodSandbox, StopPodSandboxRequest, StopPodSandboxResponse);
  BERTH_CRI_DECLARE_UNARY(RemovePodSandbox, RemovePodSandboxRequest, RemovePodSandboxResponse);
  BERTH_CRI_DECLARE_UNARY(PodSandboxStatus, PodSandboxStatusRequest, PodSandboxStatusResponse);
  BERTH_CRI_DECLARE_UNARY(ListPodSandbox, ListPodSandboxRequest, ListPodSandboxResponse);
  BERTH_CRI_DECLARE_STREAM(StreamPodSandboxes, StreamPodSandboxesRequest,
                           StreamPodSandboxesResponse);
  BERTH_CRI_DECLARE_UNARY(CreateContainer, CreateContainerRequest, CreateContainerResponse);
  BERTH_CRI_DECLARE_UNARY(StartContainer, StartContainerRequest, StartContainerResponse);
  BERTH_CRI_DECLARE_UNARY(StopContainer, StopContainerRequest, StopContainerResponse);
  BERTH_CRI_DECLARE_UNARY(RemoveContainer, RemoveContainerRequest, RemoveContainerResponse);
  BERTH_CRI_DECLARE_UNARY(ListContainers, ListContainersRequest, ListContainersResponse);
  BERTH_CRI_DECLARE_STREAM(StreamContainers, StreamContainersRequest, StreamContainersResponse);
  BERTH_CRI_DECLARE_UNARY(ContainerStatus, ContainerStatusRequest, ContainerStatusResponse);
  BERTH_CRI_DECLARE_UNARY(UpdateContainerResources, UpdateContainerResourcesRequest,
                          UpdateContainerResourcesResponse);
  BERTH_CRI_DECLARE_UNARY(ReopenContainerLog, ReopenContainerLogRequest,
                          ReopenContainerLogResponse);
  BERTH_CRI_DECLARE_UNARY(ExecSync, ExecSyncRequest, ExecSyncResponse);
  BERTH_CRI_DECLARE_UNARY(Exec, ExecRequest, ExecResponse);
  BERTH_CRI_DECLARE_UNARY(Attach, AttachRequest, AttachResponse);
  BERTH_CRI_DECLARE_UNARY(PortForward, PortForwardRequest, PortForwardResponse);
  BERTH_CRI_DECLARE_UNARY(ContainerStats, ContainerStatsRequest, ContainerStatsResponse);
  BERTH_CRI_DECLARE_UNARY(ListContainerStats, ListContainerStatsRequest,
                          ListContainerStatsResponse);
  BERTH_CRI_DECLARE_STREAM(StreamContainerStats, StreamContainerStatsRequest,
                           StreamContainerStatsResponse);
  BERTH_CRI_DECLARE_UNARY(PodSandboxStats, PodSandboxStatsRequest, PodSandboxStatsResponse);
  BERTH_CRI_DECLARE_UNARY(ListPodSandboxStats, ListPodSandboxStatsRequest,
                          ListPodSandboxStatsResponse);
  BERTH_CRI_DECLARE_STREAM(StreamPodSandboxStats, StreamPodSandboxStatsRequest,
                           StreamPodSandboxStatsResponse);
  BERTH_CRI_DECLARE_UNARY(UpdateRuntimeConfig, UpdateRuntimeConfigRequest,
                          UpdateRuntimeConfigResponse);
  BERTH_CRI_DECLARE_UNARY(CheckpointContainer, CheckpointContainerRequest,
                          CheckpointContainerResponse);
  BERTH_CRI_DECLARE_UNARY(CheckpointPod, CheckpointPodRequest, CheckpointPodResponse);
  BERTH_CRI_DECLARE_UNARY(RestorePod, RestorePodRequest, RestorePodResponse);
  BERTH_CRI_DECLARE_STREAM(GetContainerEvents, GetEventsRequest, ContainerEventResponse);
  BERTH_CRI_DECLARE_UNARY(ListMetricDescriptors, ListMetricDescriptorsRequest,
                          ListMetricDescriptorsResponse);
  BERTH_CRI_DECLARE_UNARY(ListPodSandboxMetrics, ListPodSandboxMetricsRequest,
                          ListPodSandboxMetricsResponse);
  BERTH_CRI_DECLARE_STREAM(StreamPodSandboxMetrics, StreamPodSandboxMetricsRequest,
                           StreamPodSandboxMetricsResponse);
  BERTH_CRI_DECLARE_UNARY(UpdatePodSandboxResources, UpdatePodSandboxResourcesRequest,
                          UpdatePodSandboxResourcesResponse);

 private:
  const CriConfig& config_;
  Engine& engine_;
};

}  // namespace berth::cri
