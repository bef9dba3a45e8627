#include "tests/integration/cni/cni_fixture.h"

#include <fmt/format.h>

#include "common/spawn.h"

namespace berth::testing {

std::pair<int, std::string> sh(const std::string& command) {
  SpawnOptions o;
  o.path = "/bin/sh";
  o.args = {"sh", "-c", command + " 2>&1"};
  o.captureStdout = true;
  o.timeout = std::chrono::seconds(30);
  auto r = runProgram(o);
  if (!r) return {-1, r.error().message()};
  return {r->status.code, r->stdoutData};
}

TestNetns::TestNetns(const std::string& tag) : name_(fmt::format("{}-{}", tag, ::getpid())) {
  sh("ip netns del " + name_);  // a leftover from a crashed run
  auto [code, out] = sh("ip netns add " + name_);
  ok_ = code == 0;
  EXPECT_TRUE(ok_) << out;
}

TestNetns::~TestNetns() {
  if (ok_) sh("ip netns del " + name_);
}

std::pair<int, std::string> TestNetns::exec(const std::vector<std::string>& argv) const {
  SpawnOptions o;
  o.path = "ip";
  o.args = {"ip", "netns", "exec", name_};
  o.args.insert(o.args.end(), argv.begin(), argv.end());
  o.captureStdout = true;
  o.captureStderr = true;
  o.timeout = std::chrono::seconds(30);
  auto r = runProgram(o);
  if (!r) return {-1, r.error().message()};
  return {r->status.code, r->stdoutData + r->stderrData};
}

nlohmann::json PluginRun::json() const {
  auto j = nlohmann::json::parse(out, nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

PluginRun runPlugin(const std::string& binary, const std::string& command,
                    const std::string& containerId, const std::string& netns,
                    const std::string& ifname, const std::string& conf,
                    const std::map<std::string, std::string>& extraEnv,
                    const std::string& runInNetns) {
  std::map<std::string, std::string> env = {{"CNI_COMMAND", command},
                                            {"CNI_CONTAINERID", containerId},
                                            {"CNI_NETNS", netns},
                                            {"CNI_IFNAME", ifname},
                                            {"CNI_PATH", BERTH_CNI_BIN_DIR},
                                            {"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}};
  for (const auto& [k, v] : extraEnv)
    env[k] = v;
  SpawnOptions o;
  o.path = binary;
  o.args = {binary};
  if (!runInNetns.empty()) {
    o.path = "/usr/bin/ip";
    o.args = {"ip", "netns", "exec", runInNetns, binary};
  }
  o.env = std::vector<std::string>{};
  for (const auto& [k, v] : env)
    o.env->push_back(k + "=" + v);
  o.stdinData = conf;
  o.captureStdout = true;
  o.timeout = std::chrono::seconds(60);
  PluginRun run;
  auto r = runProgram(o);
  if (!r) {
    run.out = r.error().message();
    return run;
  }
  run.exitCode = r->status.code;
  run.out = r->stdoutData;
  return run;
}

}  // namespace berth::testing
