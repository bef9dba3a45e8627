// berth-cri as a process: started on a temporary socket with a temporary config and driven by a
// gRPC client built from the same runtime.v1 proto. Needs no root.

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <chrono>
#include <cstring>
#include <future>
#include <set>
#include <thread>

#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/spawn.h"
#include "common/unix_socket.h"
#include "images/digest.h"
#include "images/importer.h"
#include "images/platform.h"
#include "runtime/v1/api.grpc.pb.h"
#include "tests/integration/cri_fixture.h"
#include "tests/integration/registry_fixture.h"

namespace berth {
namespace {

namespace v1 = ::runtime::v1;
using namespace std::chrono_literals;
using cri_testing::CriServerTest;

TEST_F(CriServerTest, ServesVersionStatusAndRuntimeConfig) {
  writeConfig("cgroup_driver: systemd\n");
  ASSERT_NO_FATAL_FAILURE(startServer({"--log-level", "debug"}));
  auto runtime = v1::RuntimeService::NewStub(channel());

  v1::VersionRequest versionReq;
  versionReq.set_version("v1");
  v1::VersionResponse version;
  grpc::Status st = runtime->Version(context().get(), versionReq, &version);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(version.version(), "0.1.0");
  EXPECT_EQ(version.runtime_name(), "berth");
  EXPECT_EQ(version.runtime_version(), BERTH_VERSION);
  EXPECT_EQ(version.runtime_api_version(), "v1");

  v1::StatusRequest statusReq;
  statusReq.set_verbose(true);
  v1::StatusResponse status;
  st = runtime->Status(context().get(), statusReq, &status);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(status.status().conditions_size(), 2);
  const auto& runtimeReady = status.status().conditions(0);
  EXPECT_EQ(runtimeReady.type(), "RuntimeReady");
  EXPECT_TRUE(runtimeReady.status());
  const auto& networkReady = status.status().conditions(1);
  EXPECT_EQ(networkReady.type(), "NetworkReady");
  EXPECT_FALSE(networkReady.status());
  EXPECT_EQ(networkReady.reason(), "NetworkPluginNotReady");
  EXPECT_FALSE(networkReady.message().empty());
  ASSERT_TRUE(status.info().contains("config"));
  auto config = nlohmann::json::parse(status.info().at("config"), nullptr, false);
  ASSERT_FALSE(config.is_discarded());
  EXPECT_EQ(config["root"], (dir_ / "root").string());
  EXPECT_EQ(config["cgroup_driver"], "systemd");
  bool hasDefault = false;
  for (const auto& h : status.runtime_handlers())
    hasDefault |= h.name() == "berth-runtime";
  EXPECT_TRUE(hasDefault);

  // Not verbose: no info map.
  v1::StatusResponse terse;
  ASSERT_TRUE(runtime->Status(context().get(), v1::StatusRequest(), &terse).ok());
  EXPECT_TRUE(terse.info().empty());

  v1::RuntimeConfigResponse runtimeConfig;
  st = runtime->RuntimeConfig(context().get(), v1::RuntimeConfigRequest(), &runtimeConfig);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(runtimeConfig.linux().cgroup_driver(), v1::CgroupDriver::SYSTEMD);

  // --log-level debug: one line per call.
  auto log = readFile(log_);
  ASSERT_TRUE(log);
  EXPECT_NE(log->find("[rpc=/runtime.v1.RuntimeService/RuntimeConfig code=OK"), std::string::npos)
      << *log;
}

TEST_F(CriServerTest, CgroupfsDriverAndSocketMode0660) {
  writeConfig("cgroup_driver: cgroupfs\n");
  ASSERT_NO_FATAL_FAILURE(startServer());
  struct stat st {};
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  auto runtime = v1::RuntimeService::NewStub(channel());
  v1::RuntimeConfigResponse runtimeConfig;
  ASSERT_TRUE(
      runtime->RuntimeConfig(context().get(), v1::RuntimeConfigRequest(), &runtimeConfig).ok());
  EXPECT_EQ(runtimeConfig.linux().cgroup_driver(), v1::CgroupDriver::CGROUPFS);
}

// Checkpoint/restore is the one part of the contract not served: UNIMPLEMENTED with the reason.
TEST_F(CriServerTest, CheckpointRestoreIsUnimplementedWithTheReason) {
  writeConfig("");
  ASSERT_NO_FATAL_FAILURE(startServer());
  auto runtime = v1::RuntimeService::NewStub(channel());

  v1::CheckpointContainerResponse checkpoint;
  grpc::Status st =
      runtime->CheckpointContainer(context().get(), v1::CheckpointContainerRequest(), &checkpoint);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(st.error_message().find("CheckpointContainer"), std::string::npos)
      << st.error_message();
  EXPECT_NE(st.error_message().find("CRIU"), std::string::npos) << st.error_message();
}

// Every method of both services in the compiled contract, called with an empty request: the
// served ones answer OK, every other one UNIMPLEMENTED naming itself (never gRPC's anonymous
// default, which would mean an RPC of a newer contract was left without a handler).
TEST_F(CriServerTest, EveryRpcOfBothServicesAnswers) {
  writeConfig("");
  ASSERT_NO_FATAL_FAILURE(startServer());
  const std::set<std::string> served = {"Version",
                                        "Status",
                                        "RuntimeConfig",
                                        "ListImages",
                                        "ImageFsInfo",
                                        "ListPodSandbox",
                                        "ListContainers",
                                        "ListContainerStats",
                                        "ListPodSandboxStats",
                                        "ListMetricDescriptors",
                                        "ListPodSandboxMetrics",
                                        "UpdateRuntimeConfig"};
  // Served, and an empty request is bad input.
  const std::set<std::string> refusedEmpty = {"ImageStatus",
                                              "PullImage",
                                              "RemoveImage",
                                              "RunPodSandbox",
                                              "StopPodSandbox",
                                              "RemovePodSandbox",
                                              "PodSandboxStatus",
                                              "CreateContainer",
                                              "StartContainer",
                                              "StopContainer",
                                              "RemoveContainer",
                                              "ContainerStatus",
                                              "ReopenContainerLog",
                                              "ExecSync",
                                              "Exec",
                                              "Attach",
                                              "PortForward",
                                              "ContainerStats",
                                              "PodSandboxStats",
                                              "UpdateContainerResources",
                                              "UpdatePodSandboxResources"};
  // Server streams (events wait until the client goes; an empty Stream* list is no message),
  // not for a unary call.
  const std::set<std::string> waits = {"GetContainerEvents",    "StreamPodSandboxes",
                                       "StreamContainers",      "StreamContainerStats",
                                       "StreamPodSandboxStats", "StreamPodSandboxMetrics",
                                       "StreamImages"};
  grpc::GenericStub stub(channel());
  int methods = 0;
  for (const char* service : {"runtime.v1.RuntimeService", "runtime.v1.ImageService"}) {
    const auto* desc =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
    ASSERT_NE(desc, nullptr) << service;
    for (int i = 0; i < desc->method_count(); ++i, ++methods) {
      const std::string name = desc->method(i)->name();
      if (waits.contains(name)) continue;
      grpc::Slice empty("");
      grpc::ByteBuffer request(&empty, 1), response;
      auto ctx = context();
      std::promise<grpc::Status> done;
      // Server-streaming methods take the same single request on the wire.
      stub.UnaryCall(ctx.get(), fmt::format("/{}/{}", service, name), grpc::StubOptions(), &request,
                     &response, [&](grpc::Status st) { done.set_value(st); });
      grpc::Status st = done.get_future().get();
      if (served.contains(name)) {
        EXPECT_TRUE(st.ok()) << name << ": " << st.error_message();
      } else if (refusedEmpty.contains(name)) {
        EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
            << name << ": " << st.error_message();
        if (name.find("Image") != std::string::npos) {
          EXPECT_NE(st.error_message().find("image:"), std::string::npos) << st.error_message();
        }
      } else {
        // Only checkpoint/restore, with the reason (never gRPC's anonymous default, which would
        // mean an RPC of a newer contract was left without a handler).
        EXPECT_EQ(st.error_code(), grpc::StatusCode::UNIMPLEMENTED) << name;
        EXPECT_EQ(st.error_message(),
                  name + ": berth-cri is built without checkpoint/restore (CRIU) support");
      }
    }
  }
  EXPECT_GE(methods, 40);
}

// An image imported from an archive (`berth image import`, `berth up`'s airgap images) into
// berth-cri's image root is what ImageStatus and ListImages report, with no registry anywhere.
TEST_F(CriServerTest, ImageStatusSeesAnImportedImage) {
  auto image = images::testing::makeBusyboxImage(images::testing::ManifestFlavour::kOci,
                                                 images::hostPlatform().architecture);
  ASSERT_TRUE(
      writeFile(dir_ / "airgap.tar", images::testing::ociLayoutTar(image, "busybox:airgap")));
  images::ImportOptions options;
  options.unpackOptions.privileged = ::geteuid() == 0;
  auto imported = images::Importer(dir_ / "images").importArchive(dir_ / "airgap.tar", options);
  ASSERT_TRUE(imported) << imported.error().message();
  writeConfig("");
  ASSERT_NO_FATAL_FAILURE(startServer());
  auto images = v1::ImageService::NewStub(channel());

  v1::ImageStatusRequest statusReq;
  statusReq.mutable_image()->set_image("busybox:airgap");
  v1::ImageStatusResponse status;
  grpc::Status st = images->ImageStatus(context().get(), statusReq, &status);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(status.has_image());
  EXPECT_EQ(status.image().id(), images::sha256Of(image.config));
  ASSERT_EQ(status.image().repo_tags_size(), 1);
  EXPECT_EQ(status.image().repo_tags(0), "docker.io/library/busybox:airgap");
  ASSERT_EQ(status.image().repo_digests_size(), 1);
  EXPECT_EQ(status.image().repo_digests(0), "docker.io/library/busybox@" + image.digest());

  v1::ListImagesResponse list;
  ASSERT_TRUE(images->ListImages(context().get(), v1::ListImagesRequest(), &list).ok());
  ASSERT_EQ(list.images_size(), 1);
  EXPECT_EQ(list.images(0).id(), status.image().id());
}

// berth-cri's ImageService tests: Debian's docker-registry on 127.0.0.1 serving a busybox image
// as test/busybox:1.
class CriImageTest : public CriServerTest {
 protected:
  void SetUp() override {
    CriServerTest::SetUp();
    if (HasFatalFailure()) return;
    if (!images::testing::RegistryServer::available())
      GTEST_SKIP() << "docker-registry is not installed";
    auto registry = images::testing::RegistryServer::start(dir_ / "registry", {});
    ASSERT_TRUE(registry) << registry.error().message();
    registry_ = std::move(*registry);
    image_ = images::testing::makeBusyboxImage(images::testing::ManifestFlavour::kOci);
    ASSERT_TRUE(images::testing::push(*registry_, "test/busybox", "1", image_));
    host_ = registry_->host();
  }
  void TearDown() override {
    registry_.reset();
    CriServerTest::TearDown();
  }

  std::unique_ptr<images::testing::RegistryServer> registry_;
  images::testing::TestImage image_;
  std::string host_;
};

// ImageService on the images library, against Debian's docker-registry on 127.0.0.1 (plain HTTP,
// declared insecure in registries.yaml): pull, list, status, fs info, remove.
TEST_F(CriImageTest, ImageServicePullsListsAndRemoves) {
  const std::string& host = host_;
  const auto& image = image_;
  ASSERT_TRUE(
      writeFile(dir_ / "registries.yaml",
                fmt::format("mirrors:\n  \"{0}\":\n    endpoint: [\"http://{0}\"]\n", host)));
  writeConfig("");
  ASSERT_NO_FATAL_FAILURE(startServer());
  auto images = v1::ImageService::NewStub(channel());
  const std::string ref = host + "/test/busybox:1";
  v1::ImageFsInfoResponse fs;
  grpc::Status st = images->ImageFsInfo(context().get(), v1::ImageFsInfoRequest(), &fs);
  ASSERT_TRUE(st.ok()) << "a node that never pulled: " << st.error_message();

  v1::ImageStatusRequest statusReq;
  statusReq.mutable_image()->set_image(ref);
  v1::ImageStatusResponse status;
  ASSERT_TRUE(images->ImageStatus(context().get(), statusReq, &status).ok());
  EXPECT_FALSE(status.has_image()) << "CRI: an absent image is no image, not an error";

  v1::PullImageRequest pullReq;
  pullReq.mutable_image()->set_image(ref);
  v1::PullImageResponse pulled;
  st = images->PullImage(context().get(), pullReq, &pulled);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(pulled.image_ref().rfind("sha256:", 0), 0u) << pulled.image_ref();

  v1::ListImagesResponse list;
  ASSERT_TRUE(images->ListImages(context().get(), v1::ListImagesRequest(), &list).ok());
  ASSERT_EQ(list.images_size(), 1);
  EXPECT_EQ(list.images(0).id(), pulled.image_ref());
  ASSERT_EQ(list.images(0).repo_tags_size(), 1);
  EXPECT_EQ(list.images(0).repo_tags(0), ref);
  ASSERT_EQ(list.images(0).repo_digests_size(), 1);
  EXPECT_EQ(list.images(0).repo_digests(0), host + "/test/busybox@" + image.digest());
  EXPECT_GT(list.images(0).size(), 0u);

  // StreamImages: the same list on a server stream.
  {
    auto ctx = context();
    auto stream = images->StreamImages(ctx.get(), v1::StreamImagesRequest());
    v1::StreamImagesResponse page;
    int seen = 0;
    while (stream->Read(&page))
      seen += page.images_size();
    EXPECT_TRUE(stream->Finish().ok());
    EXPECT_EQ(seen, 1);
  }

  statusReq.set_verbose(true);
  ASSERT_TRUE(images->ImageStatus(context().get(), statusReq, &status).ok());
  ASSERT_TRUE(status.has_image());
  EXPECT_EQ(status.image().id(), pulled.image_ref());
  auto info = nlohmann::json::parse(status.info().at("info"), nullptr, false);
  EXPECT_EQ(info["imageSpec"]["architecture"], "amd64") << status.info().at("info");

  fs.Clear();
  ASSERT_TRUE(images->ImageFsInfo(context().get(), v1::ImageFsInfoRequest(), &fs).ok());
  ASSERT_EQ(fs.image_filesystems_size(), 1);
  EXPECT_EQ(fs.image_filesystems(0).fs_id().mountpoint(), (dir_ / "images").string());
  EXPECT_GT(fs.image_filesystems(0).used_bytes().value(), 0u);
  EXPECT_GT(fs.image_filesystems(0).inodes_used().value(), 0u);

  // By id, then again: RemoveImage is idempotent.
  v1::RemoveImageRequest removeReq;
  removeReq.mutable_image()->set_image(pulled.image_ref());
  v1::RemoveImageResponse removed;
  ASSERT_TRUE(images->RemoveImage(context().get(), removeReq, &removed).ok());
  ASSERT_TRUE(images->RemoveImage(context().get(), removeReq, &removed).ok());
  statusReq.set_verbose(false);
  ASSERT_TRUE(images->ImageStatus(context().get(), statusReq, &status).ok());
  EXPECT_FALSE(status.has_image());

  // A bad reference and an image the registry lacks are errors naming them.
  pullReq.mutable_image()->set_image("BusyBox");
  st = images->PullImage(context().get(), pullReq, &pulled);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("BusyBox"), std::string::npos) << st.error_message();
  pullReq.mutable_image()->set_image(host + "/test/missing:1");
  st = images->PullImage(context().get(), pullReq, &pulled);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.error_message().find("test/missing"), std::string::npos) << st.error_message();
}

// PullImage from a registry on 127.0.0.1 with no registries.yaml at all (plain HTTP, as
// containerd's CRI), and how its failures reach the kubelet: a missing image is NOT_FOUND, a
// registry nobody answers for is UNKNOWN starting "RegistryUnavailable: " (the kubelet's reason),
// each naming the reference, the registry and the cause.
TEST_F(CriImageTest, PullImageFromALoopbackRegistryAndItsFailures) {
  const std::string& host = host_;
  ASSERT_FALSE(std::filesystem::exists(dir_ / "registries.yaml"));
  writeConfig("");
  ASSERT_NO_FATAL_FAILURE(startServer());
  auto images = v1::ImageService::NewStub(channel());

  v1::PullImageRequest pullReq;
  pullReq.mutable_image()->set_image(host + "/test/busybox:1");
  v1::PullImageResponse pulled;
  grpc::Status st = images->PullImage(context().get(), pullReq, &pulled);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(pulled.image_ref(), images::sha256Of(image_.config));

  pullReq.mutable_image()->set_image(host + "/test/busybox:2");
  st = images->PullImage(context().get(), pullReq, &pulled);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();
  EXPECT_TRUE(st.error_message().starts_with("pull " + host + "/test/busybox:2: http://" + host +
                                             ": manifest 2 not found: "))
      << st.error_message();
  EXPECT_NE(st.error_message().find("MANIFEST_UNKNOWN"), std::string::npos) << st.error_message();

  registry_.reset();  // nothing listens on its port any more
  pullReq.mutable_image()->set_image(host + "/test/busybox:1");
  st = images->PullImage(context().get(), pullReq, &pulled);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNKNOWN) << st.error_message();
  EXPECT_TRUE(st.error_message().starts_with("RegistryUnavailable: pull " + host +
                                             "/test/busybox:1: https://" + host + ": "))
      << st.error_message();
  EXPECT_NE(st.error_message().find("Couldn't connect to server"), std::string::npos)
      << st.error_message();
}

TEST_F(CriServerTest, SigtermExitsZeroAndRemovesTheSocket) {
  writeConfig("");
  ASSERT_NO_FATAL_FAILURE(startServer());
  ASSERT_EQ(::kill(server_.pid(), SIGTERM), 0);
  auto status = server_.waitFor(std::chrono::duration_cast<std::chrono::milliseconds>(20s));
  ASSERT_TRUE(status);
  ASSERT_TRUE(status->has_value()) << "berth-cri still running after SIGTERM";
  EXPECT_EQ((*status)->code, 0);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(socket_)));
}

TEST_F(CriServerTest, BadConfigExitsNonZeroNamingTheKey) {
  writeConfig("cgroup_driver: cgroupfs\nruntime_handlers:\n  runc:\n    type: shim\n");
  SpawnOptions o = options();
  o.captureStderr = true;
  o.timeout = 20s;
  auto r = runProgram(o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_NE(r->status.code, 0);
  EXPECT_NE(r->stderrData.find(config_.string()), std::string::npos) << r->stderrData;
  EXPECT_NE(r->stderrData.find("runtime_handlers.runc.type"), std::string::npos) << r->stderrData;
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(socket_)));
}

TEST_F(CriServerTest, TooLongSocketPathIsAnError) {
  writeConfig("");
  SpawnOptions o = options();
  std::string longSocket = (dir_ / std::string(110, 's')).string();
  o.args = {"berth-cri", "--config", config_.string(), "--listen", longSocket};
  o.captureStderr = true;
  o.timeout = 20s;
  auto r = runProgram(o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status.code, 1);
  EXPECT_NE(r->stderrData.find("is longer than 107 bytes"), std::string::npos) << r->stderrData;
}

TEST_F(CriServerTest, ReplacesAStaleSocketAndRefusesASecondServer) {
  writeConfig("");
  {
    // A socket file left by a server that died: bound, never listening.
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, socket_.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  ASSERT_NO_FATAL_FAILURE(startServer());

  SpawnOptions o = options();
  o.captureStderr = true;
  o.timeout = 20s;
  auto second = runProgram(o);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_NE(second->status.code, 0);
  EXPECT_NE(second->stderrData.find("another berth-cri"), std::string::npos) << second->stderrData;
  // The first one still serves.
  auto runtime = v1::RuntimeService::NewStub(channel());
  v1::VersionResponse version;
  EXPECT_TRUE(runtime->Version(context().get(), v1::VersionRequest(), &version).ok());
}

}  // namespace
}  // namespace berth
