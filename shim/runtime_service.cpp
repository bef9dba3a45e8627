#include "shim/runtime_service.h"

#include <spdlog/spdlog.h>

#include "shim/unimplemented.h"

namespace berth::cri {

namespace {

// CRI: the condition types every runtime reports (api.proto RuntimeCondition).
constexpr const char* kRuntimeReady = "RuntimeReady";
constexpr const char* kNetworkReady = "NetworkReady";
// The reason containerd reports while it has no CNI network loaded; the kubelet only shows it.
constexpr const char* kNetworkNotReadyReason = "NetworkPluginNotReady";
constexpr const char* kNetworkNotReadyMessage =
    "Network plugin returns error: CNI support is not built into berth-cri yet";

}  // namespace

grpc::Status RuntimeService::Version(grpc::ServerContext*, const v1::VersionRequest*,
                                     v1::VersionResponse* response) {
  // "0.1.0" is the kubelet runtime API version every CRI runtime answers (containerd, CRI-O).
  response->set_version("0.1.0");
  response->set_runtime_name("berth");
  response->set_runtime_version(BERTH_VERSION);
  response->set_runtime_api_version("v1");
  return grpc::Status::OK;
}

grpc::Status RuntimeService::Status(grpc::ServerContext*, const v1::StatusRequest* request,
                                    v1::StatusResponse* response) {
  auto* status = response->mutable_status();
  auto* runtime = status->add_conditions();
  runtime->set_type(kRuntimeReady);
  runtime->set_status(true);
  auto* network = status->add_conditions();
  network->set_type(kNetworkReady);
  network->set_status(false);
  network->set_reason(kNetworkNotReadyReason);
  network->set_message(kNetworkNotReadyMessage);

  // Handlers are listed with no optional features: neither recursive read-only mounts nor user
  // namespaces are supported yet.
  for (const auto& [name, handler] : config_.runtimeHandlers) {
    auto* h = response->add_runtime_handlers();
    h->set_name(name);
    h->mutable_features();
  }
  // The default handler is also reported under the empty name, the handler of pods without a
  // RuntimeClass (as CRI-O does).
  response->add_runtime_handlers()->mutable_features();
  response->mutable_features();

  if (request->verbose()) {
    // Every value is JSON, so `crictl info` can embed it as is.
    auto& info = *response->mutable_info();
    info["config"] = toJson(config_).dump();
    info["lastCNILoadStatus"] = nlohmann::json(std::string(kNetworkNotReadyMessage)).dump();
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::RuntimeConfig(grpc::ServerContext*, const v1::RuntimeConfigRequest*,
                                           v1::RuntimeConfigResponse* response) {
  response->mutable_linux()->set_cgroup_driver(config_.cgroupDriver == CgroupDriver::kSystemd
                                                   ? v1::CgroupDriver::SYSTEMD
                                                   : v1::CgroupDriver::CGROUPFS);
  return grpc::Status::OK;
}

BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, RunPodSandbox, RunPodSandboxRequest,
                              RunPodSandboxResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, StopPodSandbox, StopPodSandboxRequest,
                              StopPodSandboxResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, RemovePodSandbox, RemovePodSandboxRequest,
                              RemovePodSandboxResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, PodSandboxStatus, PodSandboxStatusRequest,
                              PodSandboxStatusResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, ListPodSandbox, ListPodSandboxRequest,
                              ListPodSandboxResponse)
BERTH_CRI_UNIMPLEMENTED_STREAM(RuntimeService, StreamPodSandboxes, StreamPodSandboxesRequest,
                               StreamPodSandboxesResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, CreateContainer, CreateContainerRequest,
                              CreateContainerResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, StartContainer, StartContainerRequest,
                              StartContainerResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, StopContainer, StopContainerRequest,
                              StopContainerResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, RemoveContainer, RemoveContainerRequest,
                              RemoveContainerResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, ListContainers, ListContainersRequest,
                              ListContainersResponse)
BERTH_CRI_UNIMPLEMENTED_STREAM(RuntimeService, StreamContainers, StreamContainersRequest,
                               StreamContainersResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, ContainerStatus, ContainerStatusRequest,
                              ContainerStatusResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, UpdateContainerResources,
                              UpdateContainerResourcesRequest, UpdateContainerResourcesResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, ReopenContainerLog, ReopenContainerLogRequest,
                              ReopenContainerLogResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, ExecSync, ExecSyncRequest, ExecSyncResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, Exec, ExecRequest, ExecResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, Attach, AttachRequest, AttachResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, PortForward, PortForwardRequest, PortForwardResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, ContainerStats, ContainerStatsRequest,
                              ContainerStatsResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, ListContainerStats, ListContainerStatsRequest,
                              ListContainerStatsResponse)
BERTH_CRI_UNIMPLEMENTED_STREAM(RuntimeService, StreamContainerStats, StreamContainerStatsRequest,
                               StreamContainerStatsResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, PodSandboxStats, PodSandboxStatsRequest,
                              PodSandboxStatsResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, ListPodSandboxStats, ListPodSandboxStatsRequest,
                              ListPodSandboxStatsResponse)
BERTH_CRI_UNIMPLEMENTED_STREAM(RuntimeService, StreamPodSandboxStats, StreamPodSandboxStatsRequest,
                               StreamPodSandboxStatsResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, UpdateRuntimeConfig, UpdateRuntimeConfigRequest,
                              UpdateRuntimeConfigResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, CheckpointContainer, CheckpointContainerRequest,
                              CheckpointContainerResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, CheckpointPod, CheckpointPodRequest,
                              CheckpointPodResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, RestorePod, RestorePodRequest, RestorePodResponse)
BERTH_CRI_UNIMPLEMENTED_STREAM(RuntimeService, GetContainerEvents, GetEventsRequest,
                               ContainerEventResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, ListMetricDescriptors, ListMetricDescriptorsRequest,
                              ListMetricDescriptorsResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, ListPodSandboxMetrics, ListPodSandboxMetricsRequest,
                              ListPodSandboxMetricsResponse)
BERTH_CRI_UNIMPLEMENTED_STREAM(RuntimeService, StreamPodSandboxMetrics,
                               StreamPodSandboxMetricsRequest, StreamPodSandboxMetricsResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(RuntimeService, UpdatePodSandboxResources,
                              UpdatePodSandboxResourcesRequest, UpdatePodSandboxResourcesResponse)

}  // namespace berth::cri
