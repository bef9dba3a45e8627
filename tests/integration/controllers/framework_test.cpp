// The controller manager against berth-server: its informers sync and it refuses unknown names.
#include <gtest/gtest.h>

#include "tests/integration/controllers/control_plane_fixture.h"

namespace berth::testing {
namespace {

TEST(ControllerFrameworkTest, UnknownControllerIsRefusedAndNodesCanBeRegistered) {
  if (!haveKubectl()) GTEST_SKIP() << "no kubectl on this machine";
  auto cp = ControlPlaneFixture::start();
  ASSERT_TRUE(cp) << cp.error().message();
  auto status = (*cp)->startControllers({"*", "-no-such-controller"});
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message().find("no-such-controller"), std::string::npos);
  ASSERT_TRUE((*cp)->createReadyNode("n1")) << "node";
  std::string out = (*cp)->server().kubectlOk(
      {"get", "node", "n1", "-o", "jsonpath={.status.conditions[0].status}"});
  EXPECT_EQ(out, "True");
}

}  // namespace
}  // namespace berth::testing
