#include "controlplane/schema/defaults.h"

#include <gtest/gtest.h>

#include "controlplane/schema/registry.h"
#include "controlplane/schema/schema_test_util.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

TEST(DefaultsTest, StaticDefaultsAsTheApiserverSetsThem) {
  struct Case {
    std::string_view name, type, in, out;
  };
  const Case cases[] = {
      {"pod", "io.k8s.api.core.v1.Pod",
       R"({"spec":{"containers":[{"name":"c","ports":[{"containerPort":80}],
           "livenessProbe":{"httpGet":{"port":80}}}]}})",
       R"({"spec":{"containers":[{"name":"c","ports":[{"containerPort":80,"protocol":"TCP"}],
           "livenessProbe":{"httpGet":{"port":80,"path":"/","scheme":"HTTP"},"timeoutSeconds":1,
             "periodSeconds":10,"successThreshold":1,"failureThreshold":3},
           "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}],
         "restartPolicy":"Always","dnsPolicy":"ClusterFirst","securityContext":{},
         "terminationGracePeriodSeconds":30,"schedulerName":"default-scheduler"}})"},
      {"explicit values stay", "io.k8s.api.core.v1.Pod",
       R"({"spec":{"restartPolicy":"Never","containers":[]}})",
       R"({"spec":{"restartPolicy":"Never","containers":[],"dnsPolicy":"ClusterFirst",
         "securityContext":{},"terminationGracePeriodSeconds":30,
         "schedulerName":"default-scheduler"}})"},
      {"deployment: the value struct strategy is defaulted too", "io.k8s.api.apps.v1.Deployment",
       R"({"spec":{"template":{"spec":{"containers":[]}}}})",
       R"({"spec":{"replicas":1,"revisionHistoryLimit":10,"progressDeadlineSeconds":600,
         "strategy":{"type":"RollingUpdate"},
         "template":{"spec":{"containers":[],"restartPolicy":"Always","dnsPolicy":"ClusterFirst",
           "securityContext":{},"terminationGracePeriodSeconds":30,
           "schedulerName":"default-scheduler"}}}})"},
      {"persistent volume status without a status", "io.k8s.api.core.v1.PersistentVolume",
       R"({"spec":{}})",
       R"({"spec":{"persistentVolumeReclaimPolicy":"Retain","volumeMode":"Filesystem"},
         "status":{"phase":"Pending"}})"},
      {"secret type", "io.k8s.api.core.v1.Secret", R"({})", R"({"type":"Opaque"})"},
      {"service", "io.k8s.api.core.v1.Service", R"({"spec":{"ports":[{"port":80}]}})",
       R"({"spec":{"ports":[{"port":80,"protocol":"TCP"}],"type":"ClusterIP",
         "sessionAffinity":"None"}})"},
  };
  for (const Case& c : cases) {
    json obj = json::parse(c.in);
    applyDefaults(obj, builtinType(c.type));
    EXPECT_EQ(obj, json::parse(c.out)) << c.name << ": " << obj.dump();
  }
}

TEST(DefaultsTest, ZeroValuesReadBackAsAGoServerWritesThem) {
  json obj = json::parse(R"({"metadata":{"name":"d"},"spec":{"template":{"spec":{
      "containers":[{"name":"c","image":"i"}]}}}})");
  applyDefaults(obj, builtinType("io.k8s.api.apps.v1.Deployment"), {.zeroValues = true});
  EXPECT_EQ(obj["status"], json::object());
  EXPECT_EQ(obj["spec"]["template"]["metadata"], json::object());
  EXPECT_EQ(obj["spec"]["template"]["spec"]["containers"][0]["resources"], json::object());
  EXPECT_FALSE(obj["spec"]["template"]["spec"]["containers"][0].contains("args"));
}

}  // namespace
}  // namespace berth::controlplane::schema
