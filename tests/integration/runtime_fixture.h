#pragma once
// Integration fixture for berth-runtime: a busybox-static rootfs, a bundle per test, a private
// --root, container cgroups nested under this test's own cgroup, and a teardown that force-deletes
// every container and removes every directory the test made, even when the test failed.

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/spawn.h"

namespace berth::testing {

struct RunResult {
  int code = -1;
  std::string out;  // stdout (or the combined output file for detached runs)
  std::string err;
};

class RuntimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;
  void TearDown() override;

  // runc spec's default, adapted for tests: no terminal, writable rootfs, our rootfs path,
  // cgroupsPath under this test's parent cgroup.
  nlohmann::json defaultConfig(const std::vector<std::string>& args) const;
  void writeConfig(const nlohmann::json& config) const;
  // A new user namespace mapping container ids 0..65535 to host ids 100000.. (and a read-only
  // rootfs: its owner, host root, is unmapped there).
  static void addUserNamespace(nlohmann::json& config);
  // Grants a capability in the bounding, effective and permitted sets.
  static void addCapability(nlohmann::json& config, const std::string& cap);
  // Runs berth-runtime --root <root> ARGS with stdout/stderr captured.
  RunResult runtime(const std::vector<std::string>& args, const std::string& stdinData = "") const;
  // Runs `bash -c "<setup> && exec berth-runtime --root <root> ARGS"` in the bundle: for tests
  // that need the runtime started with extra fds or environment.
  RunResult runtimeAfter(const std::string& setup, const std::vector<std::string>& args) const;
  // Same, but stdout/stderr go to a file (a detached container keeps them open); returns the file.
  RunResult runtimeDetached(const std::vector<std::string>& args) const;
  // `run` of a config, returning the container's output.
  RunResult runContainer(const nlohmann::json& config, const std::string& id = "c");
  // Waits (bounded) until `state` reports `status`.
  bool waitForStatus(const std::string& id, const std::string& status) const;
  nlohmann::json state(const std::string& id) const;

  static std::string runtimePath();
  static const std::filesystem::path& rootfs() { return rootfs_; }
  const std::filesystem::path& dir() const { return dir_; }
  const std::filesystem::path& bundle() const { return bundle_; }
  const std::filesystem::path& stateRoot() const { return root_; }
  // The cgroup directories (one per hierarchy) of a container created by this test.
  std::vector<std::filesystem::path> cgroupDirs(const std::string& id) const;
  // Mount points under `prefix` in this process's mount table.
  static std::vector<std::string> mountsUnder(const std::string& prefix);

 private:
  static std::filesystem::path suiteDir_;
  static std::filesystem::path rootfs_;
  std::filesystem::path dir_;
  std::filesystem::path bundle_;
  std::filesystem::path root_;
  std::string cgroupParent_;
};

}  // namespace berth::testing
