#include "shim/runtime_service.h"

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include "common/file_util.h"
#include "shim/grpc_status.h"
#include "shim/image_service.h"

namespace berth::cri {
namespace {

// The contract carries every RPC the CRI issue lists (and the newer ones): a check that the
// transcribed .proto did not lose one.
TEST(CriApi, ContractHasEveryRpc) {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  // Referencing the services links their descriptors in.
  (void)v1::RuntimeService::service_full_name();
  (void)v1::ImageService::service_full_name();
  const auto* runtime = pool->FindServiceByName("runtime.v1.RuntimeService");
  const auto* images = pool->FindServiceByName("runtime.v1.ImageService");
  ASSERT_NE(runtime, nullptr);
  ASSERT_NE(images, nullptr);
  for (const char* rpc : {"Version",
                          "RunPodSandbox",
                          "StopPodSandbox",
                          "RemovePodSandbox",
                          "PodSandboxStatus",
                          "ListPodSandbox",
                          "CreateContainer",
                          "StartContainer",
                          "StopContainer",
                          "RemoveContainer",
                          "ListContainers",
                          "ContainerStatus",
                          "UpdateContainerResources",
                          "ReopenContainerLog",
                          "ExecSync",
                          "Exec",
                          "Attach",
                          "PortForward",
                          "ContainerStats",
                          "ListContainerStats",
                          "PodSandboxStats",
                          "ListPodSandboxStats",
                          "UpdateRuntimeConfig",
                          "Status",
                          "CheckpointContainer",
                          "GetContainerEvents",
                          "ListMetricDescriptors",
                          "ListPodSandboxMetrics",
                          "RuntimeConfig",
                          "UpdatePodSandboxResources"}) {
    EXPECT_NE(runtime->FindMethodByName(rpc), nullptr) << rpc;
  }
  EXPECT_TRUE(runtime->FindMethodByName("GetContainerEvents")->server_streaming());
  for (const char* rpc : {"ListImages", "ImageStatus", "PullImage", "RemoveImage", "ImageFsInfo"}) {
    EXPECT_NE(images->FindMethodByName(rpc), nullptr) << rpc;
  }
  const auto* fsInfo = pool->FindMessageTypeByName("runtime.v1.ImageFsInfoResponse");
  ASSERT_NE(fsInfo, nullptr);
  ASSERT_NE(fsInfo->FindFieldByName("container_filesystems"), nullptr);
  EXPECT_EQ(fsInfo->FindFieldByName("container_filesystems")->number(), 2);
  EXPECT_EQ(v1::CgroupDriver::SYSTEMD, 0);
  EXPECT_EQ(v1::CgroupDriver::CGROUPFS, 1);
}

class RuntimeServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-rs-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    config_.root = dir_ / "root";
    config_.state = dir_ / "state";
    config_.cni.confDir = dir_ / "net.d";
    config_.runtimeHandlers = {{"berth-runtime", {.path = "berth-runtime"}},
                               {"runc", {.path = "runc"}}};
    ASSERT_TRUE(finalizeCriConfig(config_));
    auto engine = Engine::open(config_, {});
    ASSERT_TRUE(engine) << engine.error().message();
    engine_ = std::move(*engine);
  }
  void TearDown() override {
    engine_.reset();
    ASSERT_TRUE(removeAll(dir_));
  }
  std::filesystem::path dir_;
  CriConfig config_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(RuntimeServiceTest, Version) {
  RuntimeService service(config_, *engine_);
  v1::VersionRequest req;
  v1::VersionResponse resp;
  ASSERT_TRUE(service.Version(nullptr, &req, &resp).ok());
  EXPECT_EQ(resp.version(), "0.1.0");
  EXPECT_EQ(resp.runtime_name(), "berth");
  EXPECT_EQ(resp.runtime_version(), BERTH_VERSION);
  EXPECT_EQ(resp.runtime_api_version(), "v1");
}

TEST_F(RuntimeServiceTest, StatusReportsHandlersAndTheDefaultUnderTheEmptyName) {
  RuntimeService service(config_, *engine_);
  v1::StatusRequest req;
  v1::StatusResponse resp;
  ASSERT_TRUE(service.Status(nullptr, &req, &resp).ok());
  std::vector<std::string> names;
  for (const auto& h : resp.runtime_handlers())
    names.push_back(h.name());
  EXPECT_EQ(names, (std::vector<std::string>{"berth-runtime", "runc", ""}));
  EXPECT_TRUE(resp.info().empty());

  req.set_verbose(true);
  v1::StatusResponse verbose;
  ASSERT_TRUE(service.Status(nullptr, &req, &verbose).ok());
  ASSERT_TRUE(verbose.info().contains("config"));
  ASSERT_TRUE(verbose.info().contains("lastCNILoadStatus"));
  for (const auto& [key, value] : verbose.info()) {
    EXPECT_FALSE(nlohmann::json::parse(value, nullptr, false).is_discarded()) << key;
  }
}

TEST_F(RuntimeServiceTest, RuntimeConfigFollowsTheConfiguredDriver) {
  v1::RuntimeConfigRequest req;
  for (auto [driver, want] : {std::pair{CgroupDriver::kCgroupfs, v1::CgroupDriver::CGROUPFS},
                              std::pair{CgroupDriver::kSystemd, v1::CgroupDriver::SYSTEMD}}) {
    config_.cgroupDriver = driver;
    RuntimeService service(config_, *engine_);
    v1::RuntimeConfigResponse resp;
    ASSERT_TRUE(service.RuntimeConfig(nullptr, &req, &resp).ok());
    EXPECT_EQ(resp.linux().cgroup_driver(), want);
  }
}

// NetworkReady follows the CNI conf dir: false naming the dir while it holds no network.
TEST_F(RuntimeServiceTest, NetworkReadyOnceACniNetworkIsConfigured) {
  RuntimeService service(config_, *engine_);
  v1::StatusRequest req;
  v1::StatusResponse resp;
  ASSERT_TRUE(service.Status(nullptr, &req, &resp).ok());
  ASSERT_EQ(resp.status().conditions_size(), 2);
  const auto& network = resp.status().conditions(1);
  EXPECT_EQ(network.type(), "NetworkReady");
  EXPECT_FALSE(network.status());
  EXPECT_EQ(network.reason(), "NetworkPluginNotReady");
  EXPECT_NE(network.message().find(config_.cni.confDir.string()), std::string::npos)
      << network.message();

  ASSERT_TRUE(makeDirs(config_.cni.confDir));
  ASSERT_TRUE(writeFile(config_.cni.confDir / "10-pods.conflist",
                        R"({"cniVersion": "1.0.0", "name": "pods", "plugins": [
                            {"type": "bridge", "ipam": {"type": "host-local",
                             "subnet": "10.1.0.0/24"}}]})"));
  resp.Clear();
  ASSERT_TRUE(service.Status(nullptr, &req, &resp).ok());
  EXPECT_TRUE(resp.status().conditions(1).status()) << resp.status().conditions(1).message();
}

// UpdateRuntimeConfig renders cni.conf_template with the pod CIDR once, while no network is
// configured (containerd's conf_template); without a template it changes nothing.
TEST_F(RuntimeServiceTest, UpdateRuntimeConfigWritesTheCniConfigFromTheTemplate) {
  v1::UpdateRuntimeConfigRequest req;
  req.mutable_runtime_config()->mutable_network_config()->set_pod_cidr("10.42.3.0/24,fd00::/64");
  v1::UpdateRuntimeConfigResponse resp;
  {
    RuntimeService service(config_, *engine_);
    ASSERT_TRUE(service.UpdateRuntimeConfig(nullptr, &req, &resp).ok());
    EXPECT_FALSE(std::filesystem::exists(config_.cni.confDir)) << "no template: nothing written";
  }
  config_.cni.confTemplate = dir_ / "template.conflist";
  ASSERT_TRUE(writeFile(config_.cni.confTemplate,
                        R"({"cniVersion": "1.0.0", "name": "pods", "plugins": [{"type": "bridge",
                            "ipam": {"type": "host-local", "subnet": "{{.PodCIDR}}"}}]})"));
  RuntimeService service(config_, *engine_);
  v1::UpdateRuntimeConfigRequest bad;
  bad.mutable_runtime_config()->mutable_network_config()->set_pod_cidr("10.42.3.0");
  grpc::Status st = service.UpdateRuntimeConfig(nullptr, &bad, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("pod_cidr"), std::string::npos) << st.error_message();

  ASSERT_TRUE(service.UpdateRuntimeConfig(nullptr, &req, &resp).ok());
  auto written = readFile(config_.cni.confDir / "10-berth-net.conflist");
  ASSERT_TRUE(written);
  EXPECT_NE(written->find(R"("subnet": "10.42.3.0/24")"), std::string::npos) << *written;
  v1::StatusRequest statusReq;
  v1::StatusResponse status;
  ASSERT_TRUE(service.Status(nullptr, &statusReq, &status).ok());
  EXPECT_TRUE(status.status().conditions(1).status());
  // The network is ready now: a later CIDR does not rewrite it.
  req.mutable_runtime_config()->mutable_network_config()->set_pod_cidr("10.99.0.0/24");
  ASSERT_TRUE(service.UpdateRuntimeConfig(nullptr, &req, &resp).ok());
  EXPECT_EQ(readFile(config_.cni.confDir / "10-berth-net.conflist").value_or(""), *written);
}

TEST(GrpcStatus, ErrorCodesMapOneToOne) {
  for (int c = 1; c <= 16; ++c) {
    grpc::Status st = toGrpcStatus(Error(static_cast<Code>(c), "pod p1: gone"));
    EXPECT_EQ(static_cast<int>(st.error_code()), c);
    EXPECT_EQ(st.error_message(), "pod p1: gone");
  }
  EXPECT_EQ(toGrpcStatus(Error(Code::kOk, "bug")).error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_TRUE(toGrpcStatus(Status()).ok());
  EXPECT_EQ(toGrpcStatus(Status(fail(Code::kNotFound, "x"))).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace berth::cri
