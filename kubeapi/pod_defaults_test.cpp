#include "kubeapi/pod_defaults.h"

#include <gtest/gtest.h>

#include "kubeapi/yaml_json.h"

namespace berth::kubeapi {
namespace {

TEST(PodDefaults, PullPolicyFollowsTheTag) {
  const std::pair<const char*, const char*> cases[] = {
      {"busybox", "Always"},
      {"busybox:latest", "Always"},
      {"busybox:1.36", "IfNotPresent"},
      {"registry:5000/team/app", "Always"},  // the port is not a tag
      {"registry:5000/team/app:v2", "IfNotPresent"},
      {"busybox@sha256:0123", "IfNotPresent"},
  };
  for (const auto& [image, policy] : cases)
    EXPECT_EQ(defaultPullPolicy(image), policy) << image;
}

TEST(PodDefaults, FillsWhatIsUnsetAndKeepsWhatIsSet) {
  nlohmann::json pod = {
      {"spec",
       {{"restartPolicy", "Never"},
        {"containers",
         {{{"name", "c"}, {"image", "i:1"}, {"ports", {{{"containerPort", 80}}}}}}}}}};
  applyPodDefaults(pod);
  EXPECT_EQ(pod["spec"]["restartPolicy"], "Never");
  EXPECT_EQ(pod["spec"]["dnsPolicy"], "ClusterFirst");
  EXPECT_EQ(pod["spec"]["terminationGracePeriodSeconds"], 30);
  const auto& c = pod["spec"]["containers"][0];
  EXPECT_EQ(c["imagePullPolicy"], "IfNotPresent");
  EXPECT_EQ(c["terminationMessagePath"], "/dev/termination-log");
  EXPECT_EQ(c["ports"][0]["protocol"], "TCP");
}

TEST(YamlJson, ConvertsAsSigsK8sYaml) {
  auto j = yamlToJson("a: yes\nb: '1'\nc: 1.5\nd: ~\ne: [x, 2]\n");
  ASSERT_TRUE(j) << j.error().message();
  EXPECT_EQ(*j, nlohmann::json::parse(R"({"a":true,"b":"1","c":1.5,"d":null,"e":["x",2]})"));
  auto dup = yamlToJson("a: 1\na: 2\n");
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message().find("duplicate field \"a\""), std::string::npos);
  auto lastWins = yamlToJson("a: 1\na: 2\n", DuplicateKeys::kLastWins);
  ASSERT_TRUE(lastWins);
  EXPECT_EQ((*lastWins)["a"], 2);
  auto bad = yamlToJson("a: [\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("invalid YAML at line"), std::string::npos);
}

}  // namespace
}  // namespace berth::kubeapi
