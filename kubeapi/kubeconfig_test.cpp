#include "kubeapi/kubeconfig.h"

#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/file_util.h"
#include "common/spawn.h"
#include "common/temp_dir_for_test.h"

namespace berth::kubeapi {
namespace {

const char* kConfig = R"(
apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority: pki/ca.crt
    tls-server-name: api.example
- name: dev
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: Q0EgUEVN
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    client-certificate: /abs/admin.crt
    client-key-data: S0VZ
- name: bot
  user:
    tokenFile: token
contexts:
- name: prod-admin
  context: {cluster: prod, user: admin, namespace: kube-system}
- name: dev-bot
  context: {cluster: dev, user: bot}
current-context: prod-admin
preferences: {colors: true}
extensions: []
)";

TEST(Kubeconfig, ParsesAndResolvesPaths) {
  auto kc = Kubeconfig::parse(kConfig, "/etc/kube");
  ASSERT_TRUE(kc) << kc.error().message();
  EXPECT_EQ(kc->currentContext, "prod-admin");
  auto rc = kc->restConfig();
  ASSERT_TRUE(rc) << rc.error().message();
  EXPECT_EQ(rc->host, "https://10.0.0.1:6443");
  EXPECT_EQ(rc->caFile, "/etc/kube/pki/ca.crt");
  EXPECT_EQ(rc->tlsServerName, "api.example");
  EXPECT_EQ(rc->certFile, "/abs/admin.crt");
  EXPECT_EQ(rc->keyData, "KEY");
  EXPECT_EQ(rc->defaultNamespace, "kube-system");

  auto dev = kc->restConfig("dev-bot");
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->caData, "CA PEM");
  EXPECT_TRUE(dev->insecureSkipTlsVerify);
  EXPECT_EQ(dev->bearerTokenFile, "/etc/kube/token");
  EXPECT_EQ(dev->defaultNamespace, "default");
}

TEST(Kubeconfig, ErrorsNameWhatIsWrong) {
  struct Case {
    const char* yaml;
    const char* context;
    std::string error;
  };
  std::vector<Case> cases = {
      {"clusters: [{name: a, cluster: {server: x, certificate-authority-data: '!!'}}]", "",
       "clusters[a].cluster.certificate-authority-data"},
      {"clusters: [{name: a, cluster: {insecure-skip-tls-verify: maybe}}]", "",
       "clusters[a].cluster.insecure-skip-tls-verify: must be true or false"},
      {"users: [{name: u, user: {exec: {command: x}}}]", "",
       "users[u]: exec and auth-provider credentials are not supported"},
      {"clusters: {}", "", "clusters: must be a list"},
      {"current-context: x", "", "context was not found for specified context: x"},
      {"contexts: [{name: c, context: {cluster: nope}}]\ncurrent-context: c", "",
       "context c: cluster nope not found"},
      {"clusters: [{name: a, cluster: {}}]\ncontexts: [{name: c, context: {cluster: a}}]", "c",
       "cluster a: cluster has no server defined"},
      {"{}", "", "invalid configuration: no configuration has been provided (no current-context)"},
  };
  for (const auto& c : cases) {
    auto kc = Kubeconfig::parse(c.yaml);
    std::string message;
    if (!kc) {
      message = kc.error().message();
    } else {
      auto rc = kc->restConfig(c.context);
      ASSERT_FALSE(rc) << c.yaml;
      message = rc.error().message();
    }
    EXPECT_NE(message.find(c.error), std::string::npos) << c.yaml << " -> " << message;
  }
}

TEST(Kubeconfig, MergesAsKubectlDoes) {
  testing::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto first = dir.path() / "first";
  auto second = dir.path() / "second";
  ASSERT_TRUE(writeFile(first,
                        "clusters: [{name: c, cluster: {server: https://first}}]\n"
                        "contexts: [{name: x, context: {cluster: c}}]\n"));
  ASSERT_TRUE(writeFile(second,
                        "clusters: [{name: c, cluster: {server: https://second}},"
                        " {name: d, cluster: {server: https://d}}]\n"
                        "contexts: [{name: y, context: {cluster: d}}]\n"
                        "current-context: y\n"));
  std::string list =
      first.string() + "::" + (dir.path() / "missing").string() + ":" + second.string();
  auto kc = Kubeconfig::loadDefault([&](const char* name) -> const char* {
    return std::string_view(name) == "KUBECONFIG" ? list.c_str() : nullptr;
  });
  ASSERT_TRUE(kc) << kc.error().message();
  EXPECT_EQ(kc->clusters.at("c").server, "https://first");  // the first file wins
  EXPECT_EQ(kc->clusters.at("d").server, "https://d");
  EXPECT_EQ(kc->currentContext, "y");  // the first file that sets it
  auto rc = kc->restConfig();
  ASSERT_TRUE(rc);
  EXPECT_EQ(rc->host, "https://d");
}

TEST(Kubeconfig, WritesEmbeddedDataThatReadsBack) {
  testing::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto kc = Kubeconfig::embedded("berth", "https://127.0.0.1:6443", "CA\n", "CERT\n", "KEY\n");
  kc.contexts["berth"].namespace_ = "kube-system";
  auto path = dir.path() / "admin.kubeconfig";
  ASSERT_TRUE(kc.write(path));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = Kubeconfig::load(path);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->clusters, kc.clusters);
  EXPECT_EQ(back->users, kc.users);
  EXPECT_EQ(back->contexts, kc.contexts);
  EXPECT_EQ(back->currentContext, "berth");

  // kubectl reads it the same way.
  auto view = runProgram(
      {.path = "kubectl",
       .args = {"kubectl", "config", "view", "--raw", "-o", "json", "--kubeconfig", path.string()},
       .captureStdout = true,
       .captureStderr = true,
       .timeout = std::chrono::seconds(30)});
  if (!view || view->status.code != 0) GTEST_SKIP() << "kubectl is not usable here";
  auto j = nlohmann::json::parse(view->stdoutData);
  EXPECT_EQ(j["current-context"], "berth");
  EXPECT_EQ(j["clusters"][0]["cluster"]["server"], "https://127.0.0.1:6443");
  EXPECT_EQ(j["clusters"][0]["cluster"]["certificate-authority-data"], base64Encode("CA\n"));
  EXPECT_EQ(j["users"][0]["user"]["client-key-data"], base64Encode("KEY\n"));
  EXPECT_EQ(j["contexts"][0]["context"]["namespace"], "kube-system");
}

TEST(RestConfig, InCluster) {
  testing::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  ASSERT_TRUE(writeFile(dir.path() / "token", "tok"));
  ASSERT_TRUE(writeFile(dir.path() / "ca.crt", "CA"));
  ASSERT_TRUE(writeFile(dir.path() / "namespace", "team-a\n"));
  std::map<std::string, std::string> env = {{"KUBERNETES_SERVICE_HOST", "fd00::1"},
                                            {"KUBERNETES_SERVICE_PORT", "443"}};
  auto getenv = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto rc = RestConfig::inCluster(getenv, dir.path());
  ASSERT_TRUE(rc) << rc.error().message();
  EXPECT_EQ(rc->host, "https://[fd00::1]:443");
  EXPECT_EQ(rc->bearerToken, "tok");
  EXPECT_EQ(rc->bearerTokenFile, (dir.path() / "token").string());
  EXPECT_EQ(rc->caFile, (dir.path() / "ca.crt").string());
  EXPECT_EQ(rc->defaultNamespace, "team-a");

  env["POD_NAMESPACE"] = "from-env";
  EXPECT_EQ(RestConfig::inCluster(getenv, dir.path())->defaultNamespace, "from-env");

  env.erase("KUBERNETES_SERVICE_PORT");
  auto notIn = RestConfig::inCluster(getenv, dir.path());
  ASSERT_FALSE(notIn);
  EXPECT_EQ(notIn.error().code(), Code::kNotFound);
  EXPECT_EQ(notIn.error().message(),
            "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
            "KUBERNETES_SERVICE_PORT must be defined");
}

}  // namespace
}  // namespace berth::kubeapi
