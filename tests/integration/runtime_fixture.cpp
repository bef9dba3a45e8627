#include "tests/integration/runtime_fixture.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/file_util.h"
#include "runtime/cgroup_manager.h"
#include "runtime/default_spec.h"

namespace berth::testing {

namespace fs = std::filesystem;

fs::path RuntimeTest::suiteDir_;
fs::path RuntimeTest::rootfs_;

std::string RuntimeTest::runtimePath() {
  return BERTH_RUNTIME_PATH;
}

void RuntimeTest::SetUpTestSuite() {
  if (::geteuid() != 0) return;
  char tmpl[] = "/tmp/berth-it-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  suiteDir_ = tmpl;
  // A user-namespaced container's root is an unmapped stranger here: let it reach its rootfs.
  fs::permissions(suiteDir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                 fs::perms::others_read | fs::perms::others_exec);
  rootfs_ = suiteDir_ / "rootfs";
  SpawnOptions o;
  o.path = BERTH_FIXTURES_DIR "/make-busybox-rootfs.sh";
  o.args = {o.path, rootfs_.string()};
  o.captureStderr = true;
  auto r = runProgram(o);
  ASSERT_TRUE(r && r->status.success()) << (r ? r->stderrData : r.error().message());
}

void RuntimeTest::TearDownTestSuite() {
  if (!suiteDir_.empty()) fs::remove_all(suiteDir_);
}

void RuntimeTest::SetUp() {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: creates namespaces, mounts and cgroups";
  ASSERT_FALSE(rootfs_.empty());
  static int counter = 0;
  std::string name = fmt::format("t{}-{}", ::getpid(), ++counter);
  dir_ = suiteDir_ / name;
  bundle_ = dir_ / "bundle";
  root_ = dir_ / "state";
  fs::create_directories(bundle_);
  cgroupParent_ = "berth-it-" + name;
}

void RuntimeTest::TearDown() {
  if (dir_.empty()) return;
  auto list = runtime({"list", "-q"});
  std::istringstream ids(list.out);
  for (std::string id; std::getline(ids, id);)
    if (!id.empty()) runtime({"delete", "--force", id});
  std::error_code ec;
  EXPECT_TRUE(list.code == 0 && (!fs::exists(root_) || fs::is_empty(root_, ec)))
      << "containers left in " << root_;
  // The per-test parent cgroup (containers inside it are gone with their delete).
  if (auto cg = runtime::CgroupManager::forContainer(cgroupParent_, "")) (void)cg->destroy();
  EXPECT_TRUE(mountsUnder(dir_.string()).empty()) << "mounts left under " << dir_;
  fs::remove_all(dir_);
}

nlohmann::json RuntimeTest::defaultConfig(const std::vector<std::string>& args) const {
  nlohmann::json c = runtime::defaultSpec(false);
  c["process"]["terminal"] = false;
  c["process"]["args"] = args;
  c["root"]["path"] = rootfs_.string();
  c["root"]["readonly"] = false;
  c["linux"]["cgroupsPath"] = cgroupParent_ + "/" + "ctr";
  return c;
}

void RuntimeTest::addUserNamespace(nlohmann::json& c) {
  nlohmann::json map = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  c["linux"]["namespaces"].push_back({{"type", "user"}});
  c["linux"]["uidMappings"] = map;
  c["linux"]["gidMappings"] = map;
  c["root"]["readonly"] = true;
}

void RuntimeTest::addCapability(nlohmann::json& c, const std::string& cap) {
  for (const char* set : {"bounding", "effective", "permitted"})
    c["process"]["capabilities"][set].push_back(cap);
}

void RuntimeTest::writeConfig(const nlohmann::json& config) const {
  std::ofstream(bundle_ / "config.json") << config.dump(2);
}

RunResult RuntimeTest::runtime(const std::vector<std::string>& args,
                               const std::string& stdinData) const {
  SpawnOptions o;
  o.path = runtimePath();
  o.args = {o.path, "--root", root_.string()};
  o.args.insert(o.args.end(), args.begin(), args.end());
  o.captureStdout = true;
  o.captureStderr = true;
  o.stdinData = stdinData;
  o.cwd = bundle_.string();
  o.timeout = std::chrono::seconds(60);
  auto r = runProgram(o);
  if (!r) return {-1, "", r.error().message()};
  return {r->status.code, r->stdoutData, r->stderrData};
}

RunResult RuntimeTest::runtimeAfter(const std::string& setup,
                                    const std::vector<std::string>& args) const {
  std::string command =
      fmt::format("{} && exec {} --root {}", setup, runtimePath(), root_.string());
  for (const auto& a : args)
    command += " " + a;
  SpawnOptions o;
  o.path = "/bin/bash";
  o.args = {"bash", "-c", command};
  o.cwd = bundle_.string();
  o.captureStdout = true;
  o.captureStderr = true;
  o.timeout = std::chrono::seconds(60);
  auto r = runProgram(o);
  if (!r) return {-1, "", r.error().message()};
  return {r->status.code, r->stdoutData, r->stderrData};
}

RunResult RuntimeTest::runtimeDetached(const std::vector<std::string>& args) const {
  SpawnOptions o;
  o.path = runtimePath();
  o.args = {o.path, "--root", root_.string()};
  o.args.insert(o.args.end(), args.begin(), args.end());
  static int n = 0;
  std::string out = (dir_ / fmt::format("output-{}", ++n)).string();
  o.outputFile = out;
  o.cwd = bundle_.string();
  o.timeout = std::chrono::seconds(60);
  auto r = runProgram(o);
  if (!r) return {-1, "", r.error().message()};
  return {r->status.code, readFile(out).value_or(""), ""};
}

RunResult RuntimeTest::runContainer(const nlohmann::json& config, const std::string& id) {
  nlohmann::json c = config;
  c["linux"]["cgroupsPath"] = cgroupParent_ + "/" + id;
  writeConfig(c);
  return runtime({"run", id});
}

nlohmann::json RuntimeTest::state(const std::string& id) const {
  auto r = runtime({"state", id});
  if (r.code != 0) return nullptr;
  return nlohmann::json::parse(r.out, nullptr, false);
}

bool RuntimeTest::waitForStatus(const std::string& id, const std::string& status) const {
  // Bounded poll of the observable state: the runtime has no event to wait on here.
  for (int i = 0; i < 500; ++i) {
    auto s = state(id);
    if (s.is_object() && s["status"] == status) return true;
    ::usleep(10000);
  }
  return false;
}

std::vector<fs::path> RuntimeTest::cgroupDirs(const std::string& id) const {
  std::vector<fs::path> out;
  auto cg = runtime::CgroupManager::forContainer(cgroupParent_ + "/" + id, id);
  if (cg)
    for (const auto& [name, dir] : cg->paths())
      out.emplace_back(dir);
  return out;
}

std::vector<std::string> RuntimeTest::mountsUnder(const std::string& prefix) {
  std::vector<std::string> out;
  std::ifstream info("/proc/self/mountinfo");
  for (std::string line; std::getline(info, line);) {
    std::istringstream f(line);
    std::string a, b, c, root, point;
    f >> a >> b >> c >> root >> point;
    if (point.rfind(prefix, 0) == 0) out.push_back(point);
  }
  return out;
}

}  // namespace berth::testing
