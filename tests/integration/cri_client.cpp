#include "tests/integration/cri_client.h"

namespace berth::cri_testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::unique_ptr<grpc::ClientContext> context(std::chrono::seconds timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
  return ctx;
}

}  // namespace

CriClient::CriClient(std::string name, const std::filesystem::path& socket)
    : name_(std::move(name)) {
  // A subchannel pool of its own: one shared with a channel to a server killed earlier would fail
  // the first call with that server's broken connection.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  channel_ = grpc::CreateCustomChannel("unix:" + socket.string(),
                                       grpc::InsecureChannelCredentials(), args);
  runtime_ = v1::RuntimeService::NewStub(channel_);
  images_ = v1::ImageService::NewStub(channel_);
}

template <class F>
grpc::Status CriClient::call(const char* rpc, F&& f) {
  auto ctx = context(30s);
  auto start = Clock::now();
  grpc::Status st = f(ctx.get());
  if (observer_) {
    observer_(rpc, std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return st;
}

Status CriClient::check(const std::string& what, const grpc::Status& st) const {
  if (st.ok()) return {};
  return fail(Code::kInternal, "{}: {}: {} (code {})", name_, what, st.error_message(),
              static_cast<int>(st.error_code()));
}

Status CriClient::waitReady(ChildProcess& server, std::chrono::seconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    v1::VersionResponse resp;
    auto ctx = context(2s);
    if (runtime_->Version(ctx.get(), {}, &resp).ok()) return {};
    auto exited = BERTH_TRY(server.waitFor(100ms));
    if (exited) return fail(Code::kInternal, "{} exited at start ({})", name_, exited->code);
  }
  return fail(Code::kDeadlineExceeded, "{} did not answer within {} s", name_, timeout.count());
}

template <class Resp, class Req, class Stub>
Result<Resp> CriClient::unary(const char* rpc, const std::string& what, Stub& stub,
                              grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                              const Req& req) {
  Resp resp;
  BERTH_TRY(check(what, call(rpc, [&](auto* ctx) { return (stub.*method)(ctx, req, &resp); })));
  return resp;
}

Status CriClient::pull(const std::string& ref) {
  v1::PullImageRequest req;
  req.mutable_image()->set_image(ref);
  BERTH_TRY(
      unary("PullImage", "PullImage " + ref, *images_, &v1::ImageService::Stub::PullImage, req));
  return {};
}

Result<std::string> CriClient::runPodSandbox(const v1::PodSandboxConfig& config,
                                             const std::string& handler) {
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = config;
  req.set_runtime_handler(handler);
  auto resp = BERTH_TRY(unary("RunPodSandbox", "RunPodSandbox " + config.metadata().name(),
                              *runtime_, &v1::RuntimeService::Stub::RunPodSandbox, req));
  return resp.pod_sandbox_id();
}

Result<std::string> CriClient::createContainer(const std::string& podId,
                                               const v1::ContainerConfig& config,
                                               const v1::PodSandboxConfig& sandbox) {
  v1::CreateContainerRequest req;
  req.set_pod_sandbox_id(podId);
  *req.mutable_config() = config;
  *req.mutable_sandbox_config() = sandbox;
  auto resp = BERTH_TRY(unary("CreateContainer", "CreateContainer " + sandbox.metadata().name(),
                              *runtime_, &v1::RuntimeService::Stub::CreateContainer, req));
  return resp.container_id();
}

Status CriClient::startContainer(const std::string& id) {
  v1::StartContainerRequest req;
  req.set_container_id(id);
  BERTH_TRY(unary("StartContainer", "StartContainer", *runtime_,
                  &v1::RuntimeService::Stub::StartContainer, req));
  return {};
}

Status CriClient::stopContainer(const std::string& id, int64_t timeoutSeconds) {
  v1::StopContainerRequest req;
  req.set_container_id(id);
  req.set_timeout(timeoutSeconds);
  BERTH_TRY(unary("StopContainer", "StopContainer", *runtime_,
                  &v1::RuntimeService::Stub::StopContainer, req));
  return {};
}

Status CriClient::removeContainer(const std::string& id) {
  v1::RemoveContainerRequest req;
  req.set_container_id(id);
  BERTH_TRY(unary("RemoveContainer", "RemoveContainer", *runtime_,
                  &v1::RuntimeService::Stub::RemoveContainer, req));
  return {};
}

Status CriClient::removePod(const std::string& id) {
  v1::StopPodSandboxRequest stop;
  stop.set_pod_sandbox_id(id);
  BERTH_TRY(unary("StopPodSandbox", "StopPodSandbox", *runtime_,
                  &v1::RuntimeService::Stub::StopPodSandbox, stop));
  v1::RemovePodSandboxRequest remove;
  remove.set_pod_sandbox_id(id);
  BERTH_TRY(unary("RemovePodSandbox", "RemovePodSandbox", *runtime_,
                  &v1::RuntimeService::Stub::RemovePodSandbox, remove));
  return {};
}

Result<v1::PodSandboxStatusResponse> CriClient::podSandboxStatus(const std::string& id,
                                                                 bool verbose) {
  v1::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(id);
  req.set_verbose(verbose);
  return unary("PodSandboxStatus", "PodSandboxStatus", *runtime_,
               &v1::RuntimeService::Stub::PodSandboxStatus, req);
}

void CriClient::removeAllPods() {
  v1::ListPodSandboxResponse pods;
  auto ctx = context(10s);
  if (!runtime_->ListPodSandbox(ctx.get(), {}, &pods).ok()) return;
  for (const auto& p : pods.items())
    (void)removePod(p.id());
}

}  // namespace berth::cri_testing
