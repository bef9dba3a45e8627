#pragma once
// berth-cri as a process for integration tests: a temporary directory with its config, the server
// started on a socket there, and gRPC channels to it. The log is printed when a test failed.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/spawn.h"
#include "common/unix_socket.h"

namespace berth {

namespace cri_testing {
using namespace std::chrono_literals;
constexpr auto kStartTimeout = 20s;

class CriServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-cri-XXXXXX";  // short: sun_path holds 108 bytes
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    socket_ = dir_ / "cri.sock";
    config_ = dir_ / "cri.yaml";
    log_ = dir_ / "berth-cri.log";
  }
  void TearDown() override {
    server_.killAndReap();
    if (HasFailure()) {
      auto log = readFile(log_);
      if (log) std::fprintf(stderr, "berth-cri log:\n%s\n", log->c_str());
    }
    ASSERT_TRUE(removeAll(dir_));
  }

  std::string baseConfig() const {
    return fmt::format(
        "root: {0}/root\nstate: {0}/state\nimage_root: {0}/images\n"
        "registry_config: {0}/registries.yaml\n",
        dir_.string());
  }
  void writeConfig(const std::string& extra) {
    ASSERT_TRUE(writeFile(config_, baseConfig() + extra));
  }
  SpawnOptions options() const {
    SpawnOptions o;
    o.path = BERTH_CRI_PATH;
    o.args = {"berth-cri", "--config", config_.string(), "--listen", socket_.string()};
    return o;
  }

  // Starts berth-cri and waits until it answers on the socket.
  void startServer(const std::vector<std::string>& extraArgs = {}) {
    SpawnOptions o = options();
    o.args.insert(o.args.end(), extraArgs.begin(), extraArgs.end());
    o.outputFile = log_.string();
    auto child = startProgram(o);
    ASSERT_TRUE(child) << child.error().message();
    server_ = std::move(*child);
    auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (!connectUnix(socket_.string())) {
      auto exited = server_.waitFor(0ms);
      ASSERT_TRUE(exited);
      ASSERT_FALSE(exited->has_value()) << "berth-cri exited with " << (*exited)->code;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "berth-cri did not listen";
      std::this_thread::sleep_for(10ms);
    }
  }
  std::shared_ptr<grpc::Channel> channel() const {
    // A pool of its own: a subchannel shared with a channel to a server killed earlier would
    // fail the first call with that server's broken connection.
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel("unix:" + socket_.string(), grpc::InsecureChannelCredentials(),
                                     args);
  }
  std::unique_ptr<grpc::ClientContext> context() const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + 10s);
    return ctx;
  }

  std::filesystem::path dir_, socket_, config_, log_;
  ChildProcess server_;
};

}  // namespace cri_testing

}  // namespace berth
