// Served kinds, laid out field for field as client-go's generated marshallers write them (every
// plain Go field on the wire, zeros included; pointers only when set), decode to the JSON that
// kubectl sends for the same object in JSON.
#include <gtest/gtest.h>

#include "controlplane/schema/protobuf_decoder.h"
#include "controlplane/schema/protobuf_test_encoder.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;
using testing::PbWriter;

json decode(const std::string& body) {
  const auto& wire = WireTable::builtin();
  EXPECT_TRUE(wire) << wire.error().message();
  auto r = ProtobufDecoder(Registry::builtin(), *wire).decode(body);
  EXPECT_TRUE(r) << r.error().message();
  return r ? *r : json();
}

// ObjectMeta as Go writes a new object's: the plain strings empty, generation 0, an empty
// creationTimestamp, then the labels.
PbWriter objectMeta(std::string_view name, std::string_view ns, std::string_view app) {
  PbWriter m;
  m.bytes(1, name).bytes(2, "").bytes(3, ns).bytes(4, "").bytes(5, "").bytes(6, "");
  m.varint(7, 0).message(8, PbWriter());
  if (!app.empty()) m.message(11, PbWriter().bytes(1, "app").bytes(2, app));
  return m;
}

TEST(ProtobufBuiltin, DeploymentAsKubectlCreateDeploymentSendsIt) {
  PbWriter container;
  container.bytes(1, "nginx").bytes(2, "nginx").bytes(5, "").message(8, PbWriter());
  container.bytes(13, "").bytes(14, "").varint(16, 0).varint(17, 0).varint(18, 0).bytes(20, "");
  PbWriter podSpec;
  podSpec.message(2, container).bytes(3, "").bytes(6, "").bytes(8, "").bytes(9, "").bytes(10, "");
  podSpec.varint(11, 0).varint(12, 0).varint(13, 0).bytes(16, "").bytes(17, "").bytes(19, "");
  PbWriter spec;
  spec.varint(1, 1);  // replicas: a pointer, set
  spec.message(2, PbWriter().message(1, PbWriter().bytes(1, "app").bytes(2, "web")));
  spec.message(3, PbWriter().message(1, objectMeta("", "", "web")).message(2, podSpec));
  spec.message(4, PbWriter().bytes(1, "")).varint(5, 0).varint(7, 0);
  PbWriter status;
  for (std::uint32_t f : {1, 2, 3, 4, 5, 7})
    status.varint(f, 0);
  PbWriter deployment;
  deployment.message(1, objectMeta("web", "default", "web")).message(2, spec).message(3, status);

  EXPECT_EQ(decode(PbWriter::envelope("apps/v1", "Deployment", deployment)), json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
    "spec": {
      "replicas": 1,
      "selector": {"matchLabels": {"app": "web"}},
      "template": {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]}
      },
      "strategy": {}
    },
    "status": {}
  })"));
}

TEST(ProtobufBuiltin, ServiceWithAnIntOrStringTargetPort) {
  PbWriter port;
  port.bytes(1, "80-8080").bytes(2, "TCP").varint(3, 80);
  port.message(4, PbWriter().varint(1, 0).varint(2, 8080).bytes(3, "")).varint(5, 0);
  PbWriter spec;
  spec.message(1, port).message(2, PbWriter().bytes(1, "app").bytes(2, "web"));
  spec.bytes(3, "").bytes(4, "ClusterIP").bytes(7, "").bytes(8, "").bytes(10, "").bytes(11, "");
  spec.varint(12, 0).varint(13, 0);
  PbWriter service;
  service.message(1, objectMeta("web", "", "web")).message(2, spec);
  service.message(3, PbWriter().message(1, PbWriter()));

  EXPECT_EQ(decode(PbWriter::envelope("v1", "Service", service)), json::parse(R"({
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {
      "ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}],
      "selector": {"app": "web"},
      "type": "ClusterIP"
    },
    "status": {"loadBalancer": {}}
  })"));
}

TEST(ProtobufBuiltin, SecretDataIsBase64AndTokenRequestKeepsItsPointer) {
  PbWriter secret;
  secret.message(1, objectMeta("creds", "", ""));
  secret.message(2, PbWriter().bytes(1, "password").bytes(2, "s3cr\xff"));
  secret.bytes(3, "Opaque");
  EXPECT_EQ(decode(PbWriter::envelope("v1", "Secret", secret)), json::parse(R"({
    "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
    "data": {"password": "czNjcv8="}, "type": "Opaque"
  })"));

  PbWriter request;
  request.message(1, objectMeta("", "", ""));
  request.message(2, PbWriter().bytes(1, "https://kubernetes.default.svc").varint(4, 3600));
  // status.token is written by Go's JSON even when empty (no omitempty): the description's always.
  request.message(3, PbWriter().bytes(1, "").message(2, PbWriter()));
  EXPECT_EQ(decode(PbWriter::envelope("authentication.k8s.io/v1", "TokenRequest", request)),
            json::parse(R"({
    "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "metadata": {},
    "spec": {"audiences": ["https://kubernetes.default.svc"], "expirationSeconds": 3600},
    "status": {"token": ""}
  })"));
}

TEST(ProtobufBuiltin, EvictionAndDeleteOptionsOfAnyGroupVersion) {
  PbWriter options;
  options.varint(1, 0).bytes(4, "Foreground");
  PbWriter eviction;
  eviction.message(1, objectMeta("web-0", "default", "")).message(2, options);
  EXPECT_EQ(decode(PbWriter::envelope("policy/v1", "Eviction", eviction)), json::parse(R"({
    "apiVersion": "policy/v1", "kind": "Eviction",
    "metadata": {"name": "web-0", "namespace": "default"},
    "deleteOptions": {"gracePeriodSeconds": 0, "propagationPolicy": "Foreground"}
  })"));
  EXPECT_EQ(decode(PbWriter::envelope("batch/v1", "DeleteOptions", options)), json::parse(R"({
    "apiVersion": "batch/v1", "kind": "DeleteOptions",
    "gracePeriodSeconds": 0, "propagationPolicy": "Foreground"
  })"));
}

}  // namespace
}  // namespace berth::controlplane::schema
