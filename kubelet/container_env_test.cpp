#include "kubelet/container_env.h"

#include <map>

#include <gtest/gtest.h>

#include "common/base64.h"
#include "kubelet/volume/object_source_for_test.h"

namespace berth::kubelet {
namespace container_env_test {

using Json = nlohmann::json;

// Objects held in memory: the test's API server.
class MemoryObjects final : public ObjectSource {
 public:
  volume::MapObjectSource maps;
  std::map<std::string, std::vector<Json>> serviceLists;
  bool servicesUnreachable = false;

  Result<Json> configMap(std::string_view ns, std::string_view name) override {
    return maps.configMap(ns, name);
  }
  Result<Json> secret(std::string_view ns, std::string_view name) override {
    return maps.secret(ns, name);
  }
  Result<std::string> serviceAccountToken(const volume::TokenRequest& r) override {
    return maps.serviceAccountToken(r);
  }
  Result<Json> persistentVolumeClaim(std::string_view ns, std::string_view name) override {
    return maps.persistentVolumeClaim(ns, name);
  }
  Result<Json> persistentVolume(std::string_view name) override {
    return maps.persistentVolume(name);
  }
  Result<Json> runtimeClass(const std::string& name) override {
    return fail(Code::kNotFound, "runtimeclass {} not found", name);
  }
  Result<std::vector<Json>> services(const std::string& ns) override {
    if (servicesUnreachable) return fail(Code::kUnavailable, "list services: connection refused");
    return serviceLists[ns];
  }
};

Json pod(Json container) {
  return {{"metadata",
           {{"name", "web"}, {"namespace", "ns"}, {"uid", "u1"}, {"labels", {{"app", "web"}}}}},
          {"spec",
           {{"containers", Json::array({container})},
            {"serviceAccountName", "sa"},
            {"enableServiceLinks", false}}}};
}

std::string valueOf(const EnvList& env, const std::string& name) {
  for (const auto& [k, v] : env)
    if (k == name) return v;
  return "<unset>";
}

EnvContext context() {
  EnvContext ctx;
  ctx.nodeName = "n1";
  ctx.hostIps = {"10.1.0.5"};
  ctx.podIps = {"10.88.0.5", "fd00::5"};
  ctx.nodeAllocatable = {{"cpu", "2"}, {"memory", "4Gi"}};
  return ctx;
}

TEST(ContainerEnv, ExpandsVariablesAsKubernetesDoes) {
  auto lookup = [](std::string_view n) -> std::optional<std::string> {
    if (n == "A") return std::string("1");
    return std::nullopt;
  };
  EXPECT_EQ(expandVariables("x$(A)y", lookup), "x1y");
  EXPECT_EQ(expandVariables("$(B)", lookup), "$(B)");
  EXPECT_EQ(expandVariables("$$(A)", lookup), "$(A)");
  EXPECT_EQ(expandVariables("$A $", lookup), "$A $");
  EXPECT_EQ(expandVariables("$(A", lookup), "$(A");
}

TEST(ContainerEnv, ValuesDownwardApiConfigMapsAndSecrets) {
  MemoryObjects objects;
  objects.maps.putConfigMap("ns", "cfg",
                            {{"data", {{"mode", "fast"}, {"LEVEL", "3"}, {"bad key", "x"}}}});
  objects.maps.putSecret("ns", "s", {{"data", {{"password", base64Encode("hunter2")}}}});
  Json c = {
      {"name", "app"},
      {"resources", {{"limits", {{"memory", "64Mi"}}}, {"requests", {{"cpu", "250m"}}}}},
      {"envFrom", {{{"configMapRef", {{"name", "cfg"}}}, {"prefix", "CFG_"}}}},
      {"env",
       {{{"name", "A"}, {"value", "a"}},
        {{"name", "B"}, {"value", "$(A)-b"}},
        {{"name", "CFG_LEVEL"}, {"value", "override"}},
        {{"name", "POD"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
        {{"name", "APP"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.labels['app']"}}}}}},
        {{"name", "IPS"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "status.podIPs"}}}}}},
        {{"name", "NODE"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "spec.nodeName"}}}}}},
        {{"name", "SA"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "spec.serviceAccountName"}}}}}},
        {{"name", "MEM"},
         {"valueFrom",
          {{"resourceFieldRef", {{"resource", "limits.memory"}, {"divisor", "1Mi"}}}}}},
        {{"name", "CPU_LIMIT"},
         {"valueFrom", {{"resourceFieldRef", {{"resource", "limits.cpu"}}}}}},
        {{"name", "CPU_REQ_M"},
         {"valueFrom", {{"resourceFieldRef", {{"resource", "requests.cpu"}, {"divisor", "1m"}}}}}},
        {{"name", "PW"}, {"valueFrom", {{"secretKeyRef", {{"name", "s"}, {"key", "password"}}}}}},
        {{"name", "MODE"},
         {"valueFrom", {{"configMapKeyRef", {{"name", "cfg"}, {"key", "mode"}}}}}},
        {{"name", "OPT"},
         {"valueFrom",
          {{"configMapKeyRef", {{"name", "nope"}, {"key", "x"}, {"optional", true}}}}}}}}};
  auto env = makeEnvironment(pod(c), c, objects, context());
  ASSERT_TRUE(env) << env.error().message();
  EXPECT_EQ(valueOf(*env, "B"), "a-b");
  EXPECT_EQ(valueOf(*env, "CFG_mode"), "fast");
  EXPECT_EQ(valueOf(*env, "CFG_LEVEL"), "override");
  EXPECT_EQ(valueOf(*env, "CFG_bad key"), "<unset>");
  EXPECT_EQ(valueOf(*env, "POD"), "web");
  EXPECT_EQ(valueOf(*env, "APP"), "web");
  EXPECT_EQ(valueOf(*env, "IPS"), "10.88.0.5,fd00::5");
  EXPECT_EQ(valueOf(*env, "NODE"), "n1");
  EXPECT_EQ(valueOf(*env, "SA"), "sa");
  EXPECT_EQ(valueOf(*env, "MEM"), "64");
  EXPECT_EQ(valueOf(*env, "CPU_LIMIT"), "2");  // no limit: the node's allocatable
  EXPECT_EQ(valueOf(*env, "CPU_REQ_M"), "250");
  EXPECT_EQ(valueOf(*env, "PW"), "hunter2");
  EXPECT_EQ(valueOf(*env, "MODE"), "fast");
  EXPECT_EQ(valueOf(*env, "OPT"), "<unset>");
}

TEST(ContainerEnv, MissingReferencesNameTheContainerAndVariable) {
  MemoryObjects objects;
  objects.maps.putConfigMap("ns", "cfg", {{"data", {{"a", "1"}}}});
  Json c = {
      {"name", "app"},
      {"env",
       {{{"name", "X"}, {"valueFrom", {{"configMapKeyRef", {{"name", "cfg"}, {"key", "b"}}}}}}}}};
  auto env = makeEnvironment(pod(c), c, objects, context());
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().message(), "container app: env X: couldn't find key b in ConfigMap ns/cfg");
  c["env"][0]["valueFrom"] = {{"secretKeyRef", {{"name", "gone"}, {"key", "b"}}}};
  env = makeEnvironment(pod(c), c, objects, context());
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().message(), "container app: env X: secret \"gone\" not found");
}

TEST(ContainerEnv, ServiceLinksAsDockerLinks) {
  Json svc = {{"metadata", {{"name", "my-db"}}},
              {"spec",
               {{"clusterIP", "10.96.0.10"},
                {"ports",
                 {{{"name", "sql"}, {"port", 5432}, {"protocol", "TCP"}},
                  {{"name", "metrics"}, {"port", 9187}, {"protocol", "UDP"}}}}}}};
  Json headless = {{"metadata", {{"name", "h"}}},
                   {"spec", {{"clusterIP", "None"}, {"ports", {{{"port", 1}}}}}}};
  EnvList env = serviceLinkVariables({svc, headless}, {});
  EXPECT_EQ(valueOf(env, "MY_DB_SERVICE_HOST"), "10.96.0.10");
  EXPECT_EQ(valueOf(env, "MY_DB_SERVICE_PORT"), "5432");
  EXPECT_EQ(valueOf(env, "MY_DB_SERVICE_PORT_SQL"), "5432");
  EXPECT_EQ(valueOf(env, "MY_DB_PORT"), "tcp://10.96.0.10:5432");
  EXPECT_EQ(valueOf(env, "MY_DB_PORT_9187_UDP"), "udp://10.96.0.10:9187");
  EXPECT_EQ(valueOf(env, "MY_DB_PORT_9187_UDP_PROTO"), "udp");
  EXPECT_EQ(valueOf(env, "MY_DB_PORT_5432_TCP_ADDR"), "10.96.0.10");
  EXPECT_EQ(valueOf(env, "H_SERVICE_HOST"), "<unset>");

  MemoryObjects objects;
  objects.serviceLists["ns"] = {svc};
  Json c = {{"name", "app"}, {"env", {{{"name", "MY_DB_SERVICE_HOST"}, {"value", "mine"}}}}};
  Json p = pod(c);
  p["spec"].erase("enableServiceLinks");  // default: on
  auto vars = makeEnvironment(p, c, objects, context());
  ASSERT_TRUE(vars);
  EXPECT_EQ(valueOf(*vars, "MY_DB_PORT"), "tcp://10.96.0.10:5432");
  EXPECT_EQ(valueOf(*vars, "MY_DB_SERVICE_HOST"), "mine");  // the container's own wins
}

TEST(ContainerEnv, OnlyAStaticPodStartsWithoutServices) {
  MemoryObjects objects;
  objects.servicesUnreachable = true;
  Json c = {{"name", "app"}, {"env", {{{"name", "A"}, {"value", "1"}}}}};
  Json p = pod(c);
  p["spec"].erase("enableServiceLinks");
  auto vars = makeEnvironment(p, c, objects, context());
  ASSERT_FALSE(vars);
  EXPECT_NE(vars.error().message().find("container app: services"), std::string::npos);
  p["metadata"]["annotations"] = {{"kubernetes.io/config.source", "file"}};
  vars = makeEnvironment(p, c, objects, context());
  ASSERT_TRUE(vars) << vars.error().message();
  EXPECT_EQ(valueOf(*vars, "A"), "1");
}

}  // namespace container_env_test
}  // namespace berth::kubelet
