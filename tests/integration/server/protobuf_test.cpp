// kubectl's typed clients (`kubectl create <kind>`, `create token`) send their bodies in
// Kubernetes' protobuf encoding: berth-server reads them and stores what a kube-apiserver 1.32
// stores, checked field by field with `kubectl get -o json`. Then bodies kubectl can't send:
// malformed protobuf gets a 400 naming the field, and the server goes on serving.
#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/http_client.h"
#include "controlplane/schema/protobuf_test_encoder.h"
#include "tests/integration/server/server_fixture.h"

namespace berth::testing {
namespace {

using controlplane::schema::testing::PbWriter;
using nlohmann::json;

class ProtobufBodiesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!haveKubectl()) GTEST_SKIP() << "no kubectl on this machine";
    auto server = ServerFixture::start({});
    ASSERT_TRUE(server) << server.error().message();
    server_ = std::move(*server);
  }

  json get(const std::vector<std::string>& what) {
    std::vector<std::string> args{"get"};
    args.insert(args.end(), what.begin(), what.end());
    args.insert(args.end(), {"-o", "json"});
    std::string out = server_->kubectlOk(args);
    json j = json::parse(out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << out;
    return j;
  }

  // The object `kubectl create <args>` stored (from protobuf) equals the one the same command's
  // JSON (--dry-run=client -o json, renamed) stores through `kubectl create -f`, whatever the
  // server adds to both; only what the server allocates per object may differ.
  void sameAsFromJson(std::vector<std::string> args) {
    std::string kind = args[0] == "service" ? "service" : args[0];
    std::string name = args[0] == "service" ? args[2] : args[1];
    std::vector<std::string> dryRun{"create"};
    dryRun.insert(dryRun.end(), args.begin(), args.end());
    // The flags go before a command's "--".
    auto end = std::find(dryRun.begin(), dryRun.end(), "--");
    dryRun.insert(end, {"--dry-run=client", "-o", "json"});
    json object = json::parse(server_->kubectlOk(dryRun), nullptr, false);
    ASSERT_TRUE(object.is_object());
    object["metadata"]["name"] = name + "-json";
    server_->kubectlOk({"create", "-f", "-"}, object.dump());
    json fromProtobuf = get({kind, name});
    json fromJson = get({kind, name + "-json"});
    for (json* o : {&fromProtobuf, &fromJson}) {
      for (const char* allocated :
           {"name", "uid", "resourceVersion", "creationTimestamp", "managedFields"})
        (*o)["metadata"].erase(allocated);
      if (kind == "job") {  // the generated selector and labels carry its name and UID
        (*o)["metadata"].erase("labels");
        (*o)["spec"].erase("selector");
        (*o)["spec"]["template"]["metadata"].erase("labels");
      }
      if (kind == "service") {
        (*o)["spec"].erase("clusterIP");
        (*o)["spec"].erase("clusterIPs");
      }
    }
    EXPECT_EQ(fromProtobuf, fromJson) << "kubectl create " << kind << " " << name;
  }

  // POST with the admin's client certificate.
  Result<HttpResponse> post(const std::string& path, const std::string& body) {
    std::filesystem::path tls = server_->dataDir() / "tls";
    HttpClient client(TlsOptions{.caFile = (tls / "ca.crt").string(),
                                 .certFile = (tls / "admin.crt").string(),
                                 .keyFile = (tls / "admin.key").string()});
    HttpRequest request;
    request.method = "POST";
    request.url = server_->url() + path;
    request.headers = {"Content-Type: application/vnd.kubernetes.protobuf",
                       "Accept: application/json"};
    request.body = body;
    return client.send(request);
  }

  std::unique_ptr<ServerFixture> server_;
};

TEST_F(ProtobufBodiesTest, ConfigMapsAndSecrets) {
  server_->kubectlOk(
      {"create", "configmap", "app", "--from-literal=color=blue", "--from-literal=empty="});
  json cm = get({"configmap", "app"});
  EXPECT_EQ(cm["data"], json::parse(R"({"color": "blue", "empty": ""})"));
  EXPECT_EQ(cm["metadata"]["namespace"], "default");
  EXPECT_TRUE(cm["metadata"]["creationTimestamp"].is_string());
  EXPECT_FALSE(cm.contains("binaryData"));
  EXPECT_FALSE(cm["metadata"].contains("generateName"));

  // Bytes that are not UTF-8 go to binaryData: a map of bytes on the wire, base64 in JSON.
  std::filesystem::path blob = server_->dataDir() / "blob.bin";
  std::ofstream(blob, std::ios::binary) << std::string("\x00\xff\xfe", 3);
  server_->kubectlOk({"create", "configmap", "bin", "--from-file=blob=" + blob.string()});
  EXPECT_EQ(get({"configmap", "bin"})["binaryData"], json::parse(R"({"blob": "AP/+"})"));

  server_->kubectlOk({"create", "secret", "generic", "creds", "--from-literal=password=s3cr3t"});
  json secret = get({"secret", "creds"});
  EXPECT_EQ(secret["data"], json::parse(R"({"password": "czNjcjN0"})"));
  EXPECT_EQ(secret["type"], "Opaque");
}

TEST_F(ProtobufBodiesTest, ServicesDeploymentsAndNamespaces) {
  server_->kubectlOk({"create", "service", "clusterip", "web", "--tcp=80:8080"});
  json svc = get({"service", "web"});
  EXPECT_EQ(svc["spec"]["type"], "ClusterIP");
  EXPECT_EQ(svc["spec"]["selector"], json::parse(R"({"app": "web"})"));
  ASSERT_EQ(svc["spec"]["ports"].size(), 1u);
  EXPECT_EQ(
      svc["spec"]["ports"][0],
      json::parse(R"({"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080})"));
  EXPECT_TRUE(svc["spec"]["clusterIP"].is_string());
  EXPECT_NE(svc["spec"]["clusterIP"], "");
  sameAsFromJson({"service", "clusterip", "web", "--tcp=80:8080"});

  server_->kubectlOk(
      {"create", "deployment", "web", "--image=registry.local/web:1", "--replicas=3", "--port=80"});
  json deploy = get({"deployment", "web"});
  EXPECT_EQ(deploy["spec"]["replicas"], 3);
  EXPECT_EQ(deploy["spec"]["selector"], json::parse(R"({"matchLabels": {"app": "web"}})"));
  json container = deploy["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(container["name"], "web");
  EXPECT_EQ(container["image"], "registry.local/web:1");
  EXPECT_EQ(container["ports"][0]["containerPort"], 80);
  sameAsFromJson(
      {"deployment", "web", "--image=registry.local/web:1", "--replicas=3", "--port=80"});

  // replicas is a pointer: 0 sent is 0 kept, not defaulted to 1.
  server_->kubectlOk(
      {"create", "deployment", "idle", "--image=registry.local/web:1", "--replicas=0"});
  EXPECT_EQ(get({"deployment", "idle"})["spec"]["replicas"], 0);

  server_->kubectlOk({"create", "namespace", "team-a"});
  json ns = get({"namespace", "team-a"});
  EXPECT_EQ(ns["metadata"]["name"], "team-a");
  EXPECT_EQ(ns["status"]["phase"], "Active");
}

TEST_F(ProtobufBodiesTest, JobsAndCronJobs) {
  server_->kubectlOk(
      {"create", "job", "once", "--image=registry.local/busybox:1", "--", "echo", "hi"});
  json job = get({"job", "once"});
  json spec = job["spec"]["template"]["spec"];
  EXPECT_EQ(spec["containers"][0]["command"], json::parse(R"(["echo", "hi"])"));
  EXPECT_EQ(spec["restartPolicy"], "Never");
  sameAsFromJson({"job", "once", "--image=registry.local/busybox:1", "--", "echo", "hi"});

  server_->kubectlOk({"create", "cronjob", "nightly", "--image=registry.local/busybox:1",
                      "--schedule=0 3 * * *", "--", "date"});
  json cron = get({"cronjob", "nightly"});
  EXPECT_EQ(cron["spec"]["schedule"], "0 3 * * *");
  json jobSpec = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];
  EXPECT_EQ(jobSpec["containers"][0]["command"], json::parse(R"(["date"])"));
  EXPECT_EQ(jobSpec["restartPolicy"], "OnFailure");
  sameAsFromJson({"cronjob", "nightly", "--image=registry.local/busybox:1", "--schedule=0 3 * * *",
                  "--", "date"});
}

TEST_F(ProtobufBodiesTest, RbacObjects) {
  server_->kubectlOk({"create", "role", "reader", "--verb=get,list", "--resource=pods"});
  // apiGroups [""]: an empty string in a list is an element, kept.
  EXPECT_EQ(get({"role", "reader"})["rules"], json::parse(R"([
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}])"));

  server_->kubectlOk({"create", "rolebinding", "read", "--role=reader", "--user=alice",
                      "--serviceaccount=default:bot"});
  json binding = get({"rolebinding", "read"});
  EXPECT_EQ(binding["roleRef"], json::parse(R"(
    {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"})"));
  EXPECT_EQ(binding["subjects"], json::parse(R"([
    {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"},
    {"kind": "ServiceAccount", "name": "bot", "namespace": "default"}])"));

  server_->kubectlOk({"create", "clusterrole", "node-reader", "--verb=get", "--resource=nodes"});
  EXPECT_EQ(get({"clusterrole", "node-reader"})["rules"], json::parse(R"([
    {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}])"));

  server_->kubectlOk(
      {"create", "clusterrolebinding", "read-nodes", "--clusterrole=node-reader", "--group=ops"});
  json crb = get({"clusterrolebinding", "read-nodes"});
  EXPECT_EQ(crb["roleRef"]["kind"], "ClusterRole");
  EXPECT_EQ(crb["subjects"], json::parse(R"([
    {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "ops"}])"));
}

TEST_F(ProtobufBodiesTest, PriorityClassesServiceAccountsAndTokens) {
  server_->kubectlOk({"create", "priorityclass", "high", "--value=1000",
                      "--description=for the important ones", "--preemption-policy=Never"});
  json pc = get({"priorityclass", "high"});
  EXPECT_EQ(pc["value"], 1000);
  EXPECT_EQ(pc["description"], "for the important ones");
  EXPECT_EQ(pc["preemptionPolicy"], "Never");
  EXPECT_FALSE(pc.contains("globalDefault"));  // a plain false on the wire, omitted as Go does

  server_->kubectlOk({"create", "serviceaccount", "bot"});
  EXPECT_EQ(get({"serviceaccount", "bot"})["metadata"]["name"], "bot");

  // TokenRequest: a create on the token subresource, answered with the token.
  std::string token = server_->kubectlOk({"create", "token", "bot", "--duration=1h"});
  while (!token.empty() && token.back() == '\n')
    token.pop_back();
  std::size_t dot = token.find('.');
  std::size_t dot2 = token.find('.', dot + 1);
  ASSERT_NE(dot2, std::string::npos) << token;
  std::string payload = token.substr(dot + 1, dot2 - dot - 1);
  for (char& c : payload)
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  auto claims = base64Decode(payload);
  ASSERT_TRUE(claims) << claims.error().message();
  json jwt = json::parse(*claims);
  EXPECT_EQ(jwt["sub"], "system:serviceaccount:default:bot");
  EXPECT_EQ(jwt["exp"].get<std::int64_t>() - jwt["iat"].get<std::int64_t>(), 3600);
}

TEST_F(ProtobufBodiesTest, MalformedBodiesAreBadRequests) {
  PbWriter data;
  data.bytes(1, "color")
      .raw(
          "\x12\x09"
          "blue");  // the value's length runs past its end
  PbWriter cm;
  cm.message(1, PbWriter().bytes(1, "broken")).message(2, data);
  auto r = post("/api/v1/namespaces/default/configmaps", PbWriter::envelope("v1", "ConfigMap", cm));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 400);
  json status = json::parse(r->body, nullptr, false);
  EXPECT_EQ(status["message"],
            "v1 ConfigMap: data[color]: length runs past the end of the message");

  r = post("/api/v1/namespaces/default/configmaps", PbWriter::envelope("v1", "Gadget", cm));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(r->body, nullptr, false)["message"],
            "no kind \"Gadget\" is registered for version \"v1\"");

  // The server answers in JSON, whatever the request body was.
  PbWriter good;
  good.message(1, PbWriter().bytes(1, "fine")).message(2, PbWriter().bytes(1, "k").bytes(2, "v"));
  r = post("/api/v1/namespaces/default/configmaps", PbWriter::envelope("v1", "ConfigMap", good));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 201) << r->body;
  json created = json::parse(r->body, nullptr, false);
  EXPECT_EQ(created["data"], json::parse(R"({"k": "v"})"));
  EXPECT_EQ(get({"configmap", "fine"})["data"]["k"], "v");
}

}  // namespace
}  // namespace berth::testing
