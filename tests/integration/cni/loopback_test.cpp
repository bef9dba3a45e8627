// The loopback plugin binary in a namespace the test creates.
#include <gtest/gtest.h>

#include "tests/integration/cni/cni_fixture.h"

namespace berth::testing {
namespace {

const std::string kLoopback = std::string(BERTH_CNI_BIN_DIR) + "/loopback";

TEST(LoopbackPlugin, AddCheckDel) {
  REQUIRE_ROOT();
  TestNetns ns("berth-lo");
  ASSERT_TRUE(ns.ok());
  const std::string conf = R"({"cniVersion": "1.1.0", "name": "lo", "type": "loopback"})";
  auto add = runPlugin(kLoopback, "ADD", "c1", ns.path(), "lo", conf);
  ASSERT_EQ(add.exitCode, 0) << add.out;
  auto j = add.json();
  EXPECT_EQ(j["interfaces"][0]["name"], "lo");
  EXPECT_EQ(j["ips"][0]["address"], "127.0.0.1/8");
  EXPECT_EQ(j["ips"][1]["address"], "::1/128");
  auto [code, out] = ns.exec({"ip", "-o", "link", "show", "lo"});
  EXPECT_NE(out.find("UP"), std::string::npos) << out;
  EXPECT_EQ(runPlugin(kLoopback, "CHECK", "c1", ns.path(), "lo", conf).exitCode, 0);

  auto del = runPlugin(kLoopback, "DEL", "c1", ns.path(), "lo", conf);
  ASSERT_EQ(del.exitCode, 0) << del.out;
  std::tie(code, out) = ns.exec({"ip", "-o", "link", "show", "lo"});
  EXPECT_EQ(out.find(",UP"), std::string::npos) << out;
  auto check = runPlugin(kLoopback, "CHECK", "c1", ns.path(), "lo", conf);
  EXPECT_EQ(check.exitCode, 1);
  EXPECT_EQ(check.json()["msg"], "loopback interface is down");
  // DEL of a namespace that is gone succeeds.
  EXPECT_EQ(runPlugin(kLoopback, "DEL", "c1", "/run/netns/berth-none", "lo", conf).exitCode, 0);
  // An ADD into a namespace that doesn't exist is an error object.
  auto bad = runPlugin(kLoopback, "ADD", "c1", "/run/netns/berth-none", "lo", conf);
  EXPECT_EQ(bad.exitCode, 1);
  EXPECT_NE(bad.json()["msg"].get<std::string>().find("/run/netns/berth-none"), std::string::npos);
}

}  // namespace
}  // namespace berth::testing
