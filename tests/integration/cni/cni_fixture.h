#pragma once
// Fixtures for CNI integration tests: network namespaces the test creates (and always deletes),
// and running a plugin binary with the CNI environment.

#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::testing {

// A named netns (/run/netns/<name>, as `ip netns add`), deleted in the destructor.
class TestNetns {
 public:
  // name is made unique per process: "<tag>-<pid>".
  explicit TestNetns(const std::string& tag);
  ~TestNetns();
  TestNetns(const TestNetns&) = delete;
  TestNetns& operator=(const TestNetns&) = delete;

  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }
  bool ok() const { return ok_; }
  // Runs a command inside the namespace (`ip netns exec`); returns exit code and output.
  std::pair<int, std::string> exec(const std::vector<std::string>& argv) const;

 private:
  std::string name_;
  bool ok_ = false;
};

struct PluginRun {
  int exitCode = -1;
  std::string out;
  nlohmann::json json() const;
};

// Runs `binary` with CNI_COMMAND etc. (CNI_PATH defaults to the directory of our plugins),
// inside the named netns (`ip netns exec`) when runInNetns is set: that namespace is the plugin's
// "host", so bridges, veths, sysctls and nft tables stay out of the real host.
PluginRun runPlugin(const std::string& binary, const std::string& command,
                    const std::string& containerId, const std::string& netns,
                    const std::string& ifname, const std::string& conf,
                    const std::map<std::string, std::string>& extraEnv = {},
                    const std::string& runInNetns = "");

// Runs a host command, returns exit code and combined output.
std::pair<int, std::string> sh(const std::string& command);

#define REQUIRE_ROOT() \
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)"

}  // namespace berth::testing
