#include "kubelet/cri_client.h"

namespace berth::kubelet {
namespace {

// How long a pull may take: the kubelet puts no deadline on pulls, but a registry that stalls
// must not hold a pod worker forever.
constexpr std::chrono::minutes kPullTimeout{30};

std::string grpcTarget(const std::string& endpoint) {
  if (endpoint.starts_with("unix://")) return endpoint;
  return "unix://" + endpoint;
}

}  // namespace

CriClient::CriClient(const std::string& endpoint, std::chrono::milliseconds requestTimeout)
    : timeout_(requestTimeout) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 << 20);  // the kubelet's maxMsgSize
  channel_ =
      grpc::CreateCustomChannel(grpcTarget(endpoint), grpc::InsecureChannelCredentials(), args);
  runtime_ = cri::RuntimeService::NewStub(channel_);
  images_ = cri::ImageService::NewStub(channel_);
}

template <class Stub, class Req, class Resp>
Result<Resp> CriClient::call(const char* rpc, const std::string& what, Stub& stub,
                             grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                             const Req& req, std::chrono::milliseconds timeout) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  Resp resp;
  grpc::Status st = (stub.*method)(&ctx, req, &resp);
  if (st.ok()) return resp;
  std::string prefix = what.empty() ? std::string(rpc) : std::string(rpc) + " " + what;
  return fail(static_cast<Code>(st.error_code()), "{}: {}", prefix, st.error_message());
}

ContainerEventStream::~ContainerEventStream() {
  if (!reader_ || finished_) return;
  cancel();
  cri::ContainerEventResponse drain;
  while (reader_->Read(&drain)) {
  }
  (void)reader_->Finish();
}

bool ContainerEventStream::next(cri::ContainerEventResponse& event) {
  return !finished_ && reader_->Read(&event);
}

Status ContainerEventStream::finish() {
  if (finished_) return {};
  finished_ = true;
  grpc::Status st = reader_->Finish();
  if (st.ok() || st.error_code() == grpc::StatusCode::CANCELLED) return {};
  return fail(static_cast<Code>(st.error_code()), "GetContainerEvents: {}", st.error_message());
}

std::unique_ptr<ContainerEventStream> CriClient::containerEvents() {
  std::unique_ptr<ContainerEventStream> stream(new ContainerEventStream());
  stream->reader_ = runtime_->GetContainerEvents(&stream->ctx_, cri::GetEventsRequest());
  return stream;
}

Result<cri::VersionResponse> CriClient::version() {
  cri::VersionRequest req;
  req.set_version("v1");
  return call("Version", "", *runtime_, &cri::RuntimeService::Stub::Version, req, timeout_);
}

Result<cri::StatusResponse> CriClient::status() {
  return call("Status", "", *runtime_, &cri::RuntimeService::Stub::Status, cri::StatusRequest(),
              timeout_);
}

Status CriClient::updateRuntimeConfig(const std::string& podCidr) {
  cri::UpdateRuntimeConfigRequest req;
  req.mutable_runtime_config()->mutable_network_config()->set_pod_cidr(podCidr);
  BERTH_TRY(call("UpdateRuntimeConfig", podCidr, *runtime_,
                 &cri::RuntimeService::Stub::UpdateRuntimeConfig, req, timeout_));
  return {};
}

Result<std::string> CriClient::runPodSandbox(const cri::PodSandboxConfig& config,
                                             const std::string& runtimeHandler) {
  cri::RunPodSandboxRequest req;
  *req.mutable_config() = config;
  req.set_runtime_handler(runtimeHandler);
  const auto& m = config.metadata();
  auto resp = BERTH_TRY(call("RunPodSandbox", m.namespace_() + "/" + m.name(), *runtime_,
                             &cri::RuntimeService::Stub::RunPodSandbox, req, timeout_));
  return resp.pod_sandbox_id();
}

Status CriClient::stopPodSandbox(const std::string& id) {
  cri::StopPodSandboxRequest req;
  req.set_pod_sandbox_id(id);
  BERTH_TRY(call("StopPodSandbox", id, *runtime_, &cri::RuntimeService::Stub::StopPodSandbox, req,
                 timeout_));
  return {};
}

Status CriClient::removePodSandbox(const std::string& id) {
  cri::RemovePodSandboxRequest req;
  req.set_pod_sandbox_id(id);
  BERTH_TRY(call("RemovePodSandbox", id, *runtime_, &cri::RuntimeService::Stub::RemovePodSandbox,
                 req, timeout_));
  return {};
}

Result<cri::PodSandboxStatusResponse> CriClient::podSandboxStatus(const std::string& id) {
  cri::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(id);
  return call("PodSandboxStatus", id, *runtime_, &cri::RuntimeService::Stub::PodSandboxStatus, req,
              timeout_);
}

Result<std::vector<cri::PodSandbox>> CriClient::listPodSandbox(
    const cri::PodSandboxFilter& filter) {
  cri::ListPodSandboxRequest req;
  *req.mutable_filter() = filter;
  auto resp = BERTH_TRY(call("ListPodSandbox", "", *runtime_,
                             &cri::RuntimeService::Stub::ListPodSandbox, req, timeout_));
  return std::vector<cri::PodSandbox>(resp.items().begin(), resp.items().end());
}

Result<std::string> CriClient::createContainer(const std::string& sandboxId,
                                               const cri::ContainerConfig& config,
                                               const cri::PodSandboxConfig& sandboxConfig) {
  cri::CreateContainerRequest req;
  req.set_pod_sandbox_id(sandboxId);
  *req.mutable_config() = config;
  *req.mutable_sandbox_config() = sandboxConfig;
  auto resp = BERTH_TRY(call("CreateContainer", config.metadata().name(), *runtime_,
                             &cri::RuntimeService::Stub::CreateContainer, req, timeout_));
  return resp.container_id();
}

Status CriClient::startContainer(const std::string& id) {
  cri::StartContainerRequest req;
  req.set_container_id(id);
  BERTH_TRY(call("StartContainer", id, *runtime_, &cri::RuntimeService::Stub::StartContainer, req,
                 timeout_));
  return {};
}

Status CriClient::stopContainer(const std::string& id, std::int64_t graceSeconds) {
  cri::StopContainerRequest req;
  req.set_container_id(id);
  req.set_timeout(graceSeconds);
  BERTH_TRY(call("StopContainer", id, *runtime_, &cri::RuntimeService::Stub::StopContainer, req,
                 timeout_ + std::chrono::seconds(std::max<std::int64_t>(graceSeconds, 0))));
  return {};
}

Status CriClient::removeContainer(const std::string& id) {
  cri::RemoveContainerRequest req;
  req.set_container_id(id);
  BERTH_TRY(call("RemoveContainer", id, *runtime_, &cri::RuntimeService::Stub::RemoveContainer, req,
                 timeout_));
  return {};
}

Result<std::vector<cri::Container>> CriClient::listContainers(const cri::ContainerFilter& filter) {
  cri::ListContainersRequest req;
  *req.mutable_filter() = filter;
  auto resp = BERTH_TRY(call("ListContainers", "", *runtime_,
                             &cri::RuntimeService::Stub::ListContainers, req, timeout_));
  return std::vector<cri::Container>(resp.containers().begin(), resp.containers().end());
}

Result<cri::ContainerStatusResponse> CriClient::containerStatus(const std::string& id) {
  cri::ContainerStatusRequest req;
  req.set_container_id(id);
  return call("ContainerStatus", id, *runtime_, &cri::RuntimeService::Stub::ContainerStatus, req,
              timeout_);
}

Result<cri::ExecSyncResponse> CriClient::execSync(const std::string& id,
                                                  const std::vector<std::string>& cmd,
                                                  std::chrono::seconds timeout) {
  cri::ExecSyncRequest req;
  req.set_container_id(id);
  for (const auto& arg : cmd)
    req.add_cmd(arg);
  req.set_timeout(timeout.count());
  return call("ExecSync", id, *runtime_, &cri::RuntimeService::Stub::ExecSync, req,
              timeout_ + timeout);
}

Result<std::string> CriClient::pullImage(const std::string& image, const cri::AuthConfig* auth,
                                         const cri::PodSandboxConfig& sandboxConfig) {
  cri::PullImageRequest req;
  req.mutable_image()->set_image(image);
  if (auth) *req.mutable_auth() = *auth;
  *req.mutable_sandbox_config() = sandboxConfig;
  auto resp = BERTH_TRY(call("PullImage", image, *images_, &cri::ImageService::Stub::PullImage, req,
                             std::chrono::duration_cast<std::chrono::milliseconds>(kPullTimeout)));
  return resp.image_ref();
}

Result<std::optional<cri::Image>> CriClient::imageStatus(const std::string& image) {
  cri::ImageStatusRequest req;
  req.mutable_image()->set_image(image);
  auto resp = BERTH_TRY(
      call("ImageStatus", image, *images_, &cri::ImageService::Stub::ImageStatus, req, timeout_));
  if (!resp.has_image() || resp.image().id().empty()) return std::nullopt;
  return resp.image();
}

Result<std::string> CriClient::exec(const cri::ExecRequest& request) {
  auto r = BERTH_TRY(call("Exec", request.container_id(), *runtime_,
                          &cri::RuntimeService::Stub::Exec, request, timeout_));
  return r.url();
}

Result<std::string> CriClient::attach(const cri::AttachRequest& request) {
  auto r = BERTH_TRY(call("Attach", request.container_id(), *runtime_,
                          &cri::RuntimeService::Stub::Attach, request, timeout_));
  return r.url();
}

Result<std::string> CriClient::portForward(const cri::PortForwardRequest& request) {
  auto r = BERTH_TRY(call("PortForward", request.pod_sandbox_id(), *runtime_,
                          &cri::RuntimeService::Stub::PortForward, request, timeout_));
  return r.url();
}

Result<std::vector<cri::ContainerStats>> CriClient::listContainerStats(
    const cri::ContainerStatsFilter& filter) {
  cri::ListContainerStatsRequest req;
  *req.mutable_filter() = filter;
  auto r = BERTH_TRY(call("ListContainerStats", "", *runtime_,
                          &cri::RuntimeService::Stub::ListContainerStats, req, timeout_));
  return std::vector<cri::ContainerStats>(r.stats().begin(), r.stats().end());
}

Result<std::vector<cri::PodSandboxStats>> CriClient::listPodSandboxStats(
    const cri::PodSandboxStatsFilter& filter) {
  cri::ListPodSandboxStatsRequest req;
  *req.mutable_filter() = filter;
  auto r = BERTH_TRY(call("ListPodSandboxStats", "", *runtime_,
                          &cri::RuntimeService::Stub::ListPodSandboxStats, req, timeout_));
  return std::vector<cri::PodSandboxStats>(r.stats().begin(), r.stats().end());
}

}  // namespace berth::kubelet
