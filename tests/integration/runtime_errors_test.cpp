// Bad input: a clear error naming the field or id, exit 1, and nothing left behind (no state
// directory, no cgroup, no mount, no process).
#include <fstream>

#include "common/file_util.h"
#include "tests/integration/runtime_fixture.h"

namespace berth::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

class Errors : public RuntimeTest {
 protected:
  // Creates with `config`, expects failure mentioning `message`, and checks no trace remains.
  void expectCreateFails(const json& config, const std::string& message) {
    writeConfig(config);
    auto r = runtime({"create", "bad"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find(message), std::string::npos) << "stderr: " << r.err;
    EXPECT_FALSE(fs::exists(stateRoot() / "bad")) << "state directory left";
    for (const auto& d : cgroupDirs("ctr"))
      EXPECT_FALSE(fs::exists(d)) << "cgroup left: " << d;
    EXPECT_TRUE(mountsUnder(rootfs().string()).empty());
  }
};

TEST_F(Errors, BrokenJson) {
  std::ofstream(bundle() / "config.json") << "{\"ociVersion\": ";
  auto r = runtime({"create", "bad"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("config.json"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(stateRoot() / "bad"));
}

TEST_F(Errors, MissingConfig) {
  auto r = runtime({"create", "--bundle", (dir() / "nowhere").string(), "bad"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("nowhere/config.json"), std::string::npos) << r.err;
}

TEST_F(Errors, FieldErrorsNameTheField) {
  auto c = defaultConfig({"true"});
  c["process"]["args"] = json::array();
  expectCreateFails(c, "process.args: must be a non-empty array");
  c = defaultConfig({"true"});
  c["mounts"][0]["destination"] = 5;
  expectCreateFails(c, "mounts[0].destination");
  c = defaultConfig({"true"});
  c["linux"]["namespaces"].push_back({{"type", "bogus"}});
  expectCreateFails(c, "linux.namespaces[5].type");
  c = defaultConfig({"true"});
  c["process"]["rlimits"] = json::array({{{"type", "RLIMIT_BOGUS"}, {"hard", 1}, {"soft", 1}}});
  expectCreateFails(c, "process.rlimits[0].type");
}

TEST_F(Errors, MissingRootfs) {
  auto c = defaultConfig({"true"});
  c["root"]["path"] = (dir() / "no-rootfs").string();
  expectCreateFails(c, "root.path");
}

TEST_F(Errors, MissingExecutableFailsCreateNotStart) {
  expectCreateFails(defaultConfig({"/no/such/binary"}), "/no/such/binary");
  expectCreateFails(defaultConfig({"no-such-command"}), "executable file not found in $PATH");
}

TEST_F(Errors, HostnameWithoutUtsNamespace) {
  auto c = defaultConfig({"true"});
  json ns = json::array();
  for (const auto& n : c["linux"]["namespaces"])
    if (n["type"] != "uts") ns.push_back(n);
  c["linux"]["namespaces"] = ns;
  expectCreateFails(c, "unable to set hostname without a private UTS namespace");
}

TEST_F(Errors, SysctlNotAllowedInHostNamespace) {
  auto c = defaultConfig({"true"});
  c["linux"]["sysctl"] = {{"kernel.panic", "1"}};
  // logrus' text format escapes the quotes around the name.
  expectCreateFails(c, R"(linux.sysctl: sysctl \"kernel.panic\" is not namespaced)");
}

TEST_F(Errors, UnknownIdAndBadIdAndBadSignal) {
  auto r = runtime({"start", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("container does not exist"), std::string::npos);
  r = runtime({"create", "../escape"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("invalid id format: ../escape"), std::string::npos);
  EXPECT_FALSE(fs::exists(stateRoot().parent_path() / "escape"));
  writeConfig(defaultConfig({"sleep", "1000"}));
  ASSERT_EQ(runtimeDetached({"create", "c"}).code, 0);
  r = runtime({"kill", "c", "SIGNOPE"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(R"(unknown signal \"SIGNOPE\")"), std::string::npos) << r.err;
  EXPECT_EQ(state("c")["status"], "created");
}

TEST_F(Errors, DuplicateIdKeepsTheFirstContainer) {
  writeConfig(defaultConfig({"sleep", "1000"}));
  ASSERT_EQ(runtimeDetached({"create", "c"}).code, 0);
  int pid = state("c")["pid"];
  auto r = runtime({"create", "c"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("container with given ID already exists"), std::string::npos);
  EXPECT_EQ(state("c")["pid"], pid);
  EXPECT_EQ(state("c")["status"], "created");
}

TEST_F(Errors, FailedInitLeavesNoProcessBehind) {
  // The bind source vanishes between validation and mount: the init fails mid-setup.
  auto c = defaultConfig({"true"});
  c["mounts"].push_back(
      {{"destination", "/proc/forbidden"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  expectCreateFails(c, "container init: create mount point /proc/forbidden");
}

TEST_F(Errors, LsmLabelsOnAHostWithoutTheLsm) {
  bool apparmor = false;
  if (auto v = readFile("/sys/module/apparmor/parameters/enabled"))
    apparmor = v->rfind("Y", 0) == 0;
  bool selinux = fs::exists("/sys/fs/selinux/enforce");
  if (apparmor || selinux) GTEST_SKIP() << "this host has an LSM enabled";
  auto c = defaultConfig({"true"});
  c["process"]["apparmorProfile"] = "berth-default";
  expectCreateFails(c, "process.apparmorProfile: AppArmor is not enabled on this host");
  c = defaultConfig({"true"});
  c["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0";
  expectCreateFails(c, "process.selinuxLabel: SELinux is not enabled on this host");
  c = defaultConfig({"true"});
  c["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0";
  expectCreateFails(c, "linux.mountLabel: SELinux is not enabled on this host");
  auto features = nlohmann::json::parse(runtime({"features"}).out);
  EXPECT_EQ(features["linux"]["apparmor"]["enabled"], false);
  EXPECT_EQ(features["linux"]["selinux"]["enabled"], false);
}

}  // namespace
}  // namespace berth::testing
