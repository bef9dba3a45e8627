#include "controlplane/controllers/controller_manager.h"

#include <gtest/gtest.h>

#include "controlplane/controllers/queue_worker.h"

namespace berth::controlplane::controllers {
namespace controller_manager_test {

TEST(ControllerManagerTest, ControllersFlagFollowsKubeControllerManager) {
  ControllerDescriptor onByDefault{.name = "deployment", .enabledByDefault = true};
  ControllerDescriptor offByDefault{.name = "bootstrapsigner", .enabledByDefault = false};
  EXPECT_TRUE(controllerEnabled({"*"}, onByDefault));
  EXPECT_FALSE(controllerEnabled({"*"}, offByDefault));
  EXPECT_TRUE(controllerEnabled({"*", "bootstrapsigner"}, offByDefault));
  EXPECT_FALSE(controllerEnabled({"*", "-deployment"}, onByDefault));
  EXPECT_FALSE(controllerEnabled({"deployment", "-deployment"}, onByDefault));
  EXPECT_FALSE(controllerEnabled({"replicaset"}, onByDefault));
}

TEST(ControllerManagerTest, UnknownControllerNamesAreRefused) {
  auto status = validateControllerFlags({"*", "-no-such-controller"});
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message().find("\"no-such-controller\""), std::string::npos);
  EXPECT_TRUE(validateControllerFlags({"*"}));
}

TEST(ControllerManagerTest, KeysAreNamespaceSlashName) {
  EXPECT_EQ(QueueWorker::keyOf({{"metadata", {{"namespace", "ns"}, {"name", "a"}}}}), "ns/a");
  EXPECT_EQ(QueueWorker::keyOf({{"metadata", {{"name", "node1"}}}}), "node1");
  EXPECT_EQ(QueueWorker::splitKey("ns/a"), (std::pair<std::string, std::string>{"ns", "a"}));
  EXPECT_EQ(QueueWorker::splitKey("node1"), (std::pair<std::string, std::string>{"", "node1"}));
}

}  // namespace controller_manager_test
}  // namespace berth::controlplane::controllers
