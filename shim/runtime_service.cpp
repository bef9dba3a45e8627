#include "shim/runtime_service.h"

#include <spdlog/spdlog.h>

#include "shim/engine/pod_network.h"
#include "shim/grpc_status.h"
#include "shim/stream_pages.h"

namespace berth::cri {

namespace {

// CRI: the condition types every runtime reports (api.proto RuntimeCondition).
constexpr const char* kRuntimeReady = "RuntimeReady";
constexpr const char* kNetworkReady = "NetworkReady";
// The reason containerd reports while it has no CNI network loaded; the kubelet only shows it.
constexpr const char* kNetworkNotReadyReason = "NetworkPluginNotReady";

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
  auto cni = PodNetworking(config_.cni, config_.root / "cni").ready();
  network->set_status(cni.has_value());
  std::string cniStatus = "OK";
  if (!cni) {
    cniStatus = "Network plugin returns error: " + cni.error().message();
    network->set_reason(kNetworkNotReadyReason);
    network->set_message(cniStatus);
  }

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
    info["lastCNILoadStatus"] = nlohmann::json(cniStatus).dump();
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

grpc::Status RuntimeService::RunPodSandbox(grpc::ServerContext*,
                                           const v1::RunPodSandboxRequest* request,
                                           v1::RunPodSandboxResponse* response) {
  if (!request->has_config()) return toGrpcStatus(fail(Code::kInvalidArgument, "config: required"));
  auto id = engine_.runPodSandbox(request->config(), request->runtime_handler());
  if (!id) return toGrpcStatus(id.error());
  response->set_pod_sandbox_id(*id);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::StopPodSandbox(grpc::ServerContext*,
                                            const v1::StopPodSandboxRequest* request,
                                            v1::StopPodSandboxResponse*) {
  return toGrpcStatus(engine_.stopPodSandbox(request->pod_sandbox_id()));
}

grpc::Status RuntimeService::RemovePodSandbox(grpc::ServerContext*,
                                              const v1::RemovePodSandboxRequest* request,
                                              v1::RemovePodSandboxResponse*) {
  return toGrpcStatus(engine_.removePodSandbox(request->pod_sandbox_id()));
}

grpc::Status RuntimeService::PodSandboxStatus(grpc::ServerContext*,
                                              const v1::PodSandboxStatusRequest* request,
                                              v1::PodSandboxStatusResponse* response) {
  return toGrpcStatus(
      engine_.podSandboxStatus(request->pod_sandbox_id(), request->verbose(), response));
}

grpc::Status RuntimeService::ListPodSandbox(grpc::ServerContext*,
                                            const v1::ListPodSandboxRequest* request,
                                            v1::ListPodSandboxResponse* response) {
  engine_.listPodSandbox(request->has_filter() ? &request->filter() : nullptr, response);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::CreateContainer(grpc::ServerContext*,
                                             const v1::CreateContainerRequest* request,
                                             v1::CreateContainerResponse* response) {
  if (!request->has_config()) return toGrpcStatus(fail(Code::kInvalidArgument, "config: required"));
  auto id = engine_.createContainer(request->pod_sandbox_id(), request->config(),
                                    request->sandbox_config());
  if (!id) return toGrpcStatus(id.error());
  response->set_container_id(*id);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::StartContainer(grpc::ServerContext*,
                                            const v1::StartContainerRequest* request,
                                            v1::StartContainerResponse*) {
  return toGrpcStatus(engine_.startContainer(request->container_id()));
}

grpc::Status RuntimeService::StopContainer(grpc::ServerContext*,
                                           const v1::StopContainerRequest* request,
                                           v1::StopContainerResponse*) {
  return toGrpcStatus(engine_.stopContainer(request->container_id(), request->timeout()));
}

grpc::Status RuntimeService::RemoveContainer(grpc::ServerContext*,
                                             const v1::RemoveContainerRequest* request,
                                             v1::RemoveContainerResponse*) {
  return toGrpcStatus(engine_.removeContainer(request->container_id()));
}

grpc::Status RuntimeService::ListContainers(grpc::ServerContext*,
                                            const v1::ListContainersRequest* request,
                                            v1::ListContainersResponse* response) {
  engine_.listContainers(request->has_filter() ? &request->filter() : nullptr, response);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ContainerStatus(grpc::ServerContext*,
                                             const v1::ContainerStatusRequest* request,
                                             v1::ContainerStatusResponse* response) {
  return toGrpcStatus(
      engine_.containerStatus(request->container_id(), request->verbose(), response));
}

grpc::Status RuntimeService::UpdateContainerResources(
    grpc::ServerContext*, const v1::UpdateContainerResourcesRequest* request,
    v1::UpdateContainerResourcesResponse*) {
  if (!request->has_linux()) {
    return toGrpcStatus(fail(Code::kInvalidArgument, "linux: required (no Windows containers)"));
  }
  return toGrpcStatus(engine_.updateContainerResources(request->container_id(), request->linux()));
}

grpc::Status RuntimeService::UpdateRuntimeConfig(grpc::ServerContext*,
                                                 const v1::UpdateRuntimeConfigRequest* request,
                                                 v1::UpdateRuntimeConfigResponse*) {
  const std::string& cidrs = request->runtime_config().network_config().pod_cidr();
  auto wrote = PodNetworking(config_.cni, config_.root / "cni").writeFromTemplate(cidrs);
  if (!wrote) return toGrpcStatus(wrote.error());
  if (auto log = spdlog::get("cri"); log && *wrote) {
    log->info("wrote the CNI config for pod CIDR {} from {}", cidrs,
              config_.cni.confTemplate.string());
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::UpdatePodSandboxResources(
    grpc::ServerContext*, const v1::UpdatePodSandboxResourcesRequest* request,
    v1::UpdatePodSandboxResourcesResponse*) {
  return toGrpcStatus(
      engine_.updatePodSandboxResources(request->pod_sandbox_id(), request->resources()));
}

// Checkpoint/restore needs CRIU, which berth does not build with: a clear UNIMPLEMENTED.
static grpc::Status noCheckpointRestore(std::string_view rpc) {
  return toGrpcStatus(fail(Code::kUnimplemented,
                           "{}: berth-cri is built without checkpoint/restore (CRIU) support",
                           rpc));
}

grpc::Status RuntimeService::CheckpointContainer(grpc::ServerContext*,
                                                 const v1::CheckpointContainerRequest*,
                                                 v1::CheckpointContainerResponse*) {
  return noCheckpointRestore("CheckpointContainer");
}

grpc::Status RuntimeService::CheckpointPod(grpc::ServerContext*, const v1::CheckpointPodRequest*,
                                           v1::CheckpointPodResponse*) {
  return noCheckpointRestore("CheckpointPod");
}

grpc::Status RuntimeService::RestorePod(grpc::ServerContext*, const v1::RestorePodRequest*,
                                        v1::RestorePodResponse*) {
  return noCheckpointRestore("RestorePod");
}

grpc::Status RuntimeService::StreamPodSandboxes(
    grpc::ServerContext*, const v1::StreamPodSandboxesRequest* request,
    grpc::ServerWriter<v1::StreamPodSandboxesResponse>* writer) {
  v1::ListPodSandboxResponse list;
  engine_.listPodSandbox(request->has_filter() ? &request->filter() : nullptr, &list);
  return writePages(*list.mutable_items(), writer,
                    [](auto& r) { return r.mutable_pod_sandboxes(); });
}

grpc::Status RuntimeService::StreamContainers(
    grpc::ServerContext*, const v1::StreamContainersRequest* request,
    grpc::ServerWriter<v1::StreamContainersResponse>* writer) {
  v1::ListContainersResponse list;
  engine_.listContainers(request->has_filter() ? &request->filter() : nullptr, &list);
  return writePages(*list.mutable_containers(), writer,
                    [](auto& r) { return r.mutable_containers(); });
}

grpc::Status RuntimeService::StreamContainerStats(
    grpc::ServerContext*, const v1::StreamContainerStatsRequest* request,
    grpc::ServerWriter<v1::StreamContainerStatsResponse>* writer) {
  v1::ListContainerStatsResponse list;
  engine_.listContainerStats(request->has_filter() ? &request->filter() : nullptr, &list);
  return writePages(*list.mutable_stats(), writer,
                    [](auto& r) { return r.mutable_container_stats(); });
}

grpc::Status RuntimeService::StreamPodSandboxStats(
    grpc::ServerContext*, const v1::StreamPodSandboxStatsRequest* request,
    grpc::ServerWriter<v1::StreamPodSandboxStatsResponse>* writer) {
  v1::ListPodSandboxStatsResponse list;
  engine_.listPodSandboxStats(request->has_filter() ? &request->filter() : nullptr, &list);
  return writePages(*list.mutable_stats(), writer,
                    [](auto& r) { return r.mutable_pod_sandbox_stats(); });
}

grpc::Status RuntimeService::StreamPodSandboxMetrics(
    grpc::ServerContext*, const v1::StreamPodSandboxMetricsRequest*,
    grpc::ServerWriter<v1::StreamPodSandboxMetricsResponse>* writer) {
  v1::ListPodSandboxMetricsResponse list;
  engine_.listPodSandboxMetrics(&list);
  return writePages(*list.mutable_pod_metrics(), writer,
                    [](auto& r) { return r.mutable_pod_sandbox_metrics(); });
}

grpc::Status RuntimeService::ReopenContainerLog(grpc::ServerContext*,
                                                const v1::ReopenContainerLogRequest* request,
                                                v1::ReopenContainerLogResponse*) {
  return toGrpcStatus(engine_.reopenContainerLog(request->container_id()));
}

grpc::Status RuntimeService::ExecSync(grpc::ServerContext*, const v1::ExecSyncRequest* request,
                                      v1::ExecSyncResponse* response) {
  return toGrpcStatus(engine_.execSync(*request, response));
}

grpc::Status RuntimeService::Exec(grpc::ServerContext*, const v1::ExecRequest* request,
                                  v1::ExecResponse* response) {
  auto url = engine_.execUrl(*request);
  if (!url) return toGrpcStatus(url.error());
  response->set_url(*url);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::Attach(grpc::ServerContext*, const v1::AttachRequest* request,
                                    v1::AttachResponse* response) {
  auto url = engine_.attachUrl(*request);
  if (!url) return toGrpcStatus(url.error());
  response->set_url(*url);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::PortForward(grpc::ServerContext*,
                                         const v1::PortForwardRequest* request,
                                         v1::PortForwardResponse* response) {
  auto url = engine_.portForwardUrl(*request);
  if (!url) return toGrpcStatus(url.error());
  response->set_url(*url);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::GetContainerEvents(
    grpc::ServerContext* context, const v1::GetEventsRequest*,
    grpc::ServerWriter<v1::ContainerEventResponse>* writer) {
  auto queue = engine_.subscribe();
  // The headers now: the kubelet knows it is subscribed before any event comes.
  writer->SendInitialMetadata();
  while (!context->IsCancelled()) {
    auto event = queue->pop(std::chrono::milliseconds(500));
    if (event && !writer->Write(*event)) break;
  }
  engine_.unsubscribe(queue);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ContainerStats(grpc::ServerContext*,
                                            const v1::ContainerStatsRequest* request,
                                            v1::ContainerStatsResponse* response) {
  return toGrpcStatus(engine_.containerStats(request->container_id(), response->mutable_stats()));
}

grpc::Status RuntimeService::ListContainerStats(grpc::ServerContext*,
                                                const v1::ListContainerStatsRequest* request,
                                                v1::ListContainerStatsResponse* response) {
  engine_.listContainerStats(request->has_filter() ? &request->filter() : nullptr, response);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::PodSandboxStats(grpc::ServerContext*,
                                             const v1::PodSandboxStatsRequest* request,
                                             v1::PodSandboxStatsResponse* response) {
  return toGrpcStatus(
      engine_.podSandboxStats(request->pod_sandbox_id(), response->mutable_stats()));
}

grpc::Status RuntimeService::ListPodSandboxStats(grpc::ServerContext*,
                                                 const v1::ListPodSandboxStatsRequest* request,
                                                 v1::ListPodSandboxStatsResponse* response) {
  engine_.listPodSandboxStats(request->has_filter() ? &request->filter() : nullptr, response);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ListMetricDescriptors(grpc::ServerContext*,
                                                   const v1::ListMetricDescriptorsRequest*,
                                                   v1::ListMetricDescriptorsResponse* response) {
  engine_.listMetricDescriptors(response);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ListPodSandboxMetrics(grpc::ServerContext*,
                                                   const v1::ListPodSandboxMetricsRequest*,
                                                   v1::ListPodSandboxMetricsResponse* response) {
  engine_.listPodSandboxMetrics(response);
  return grpc::Status::OK;
}

}  // namespace berth::cri
