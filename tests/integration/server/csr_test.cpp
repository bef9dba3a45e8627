// CertificateSigningRequests through berth-server as a kubelet's TLS bootstrap uses them: a
// bootstrap token creates a node client CSR, berth-server approves it (SubjectAccessReview on
// certificatesigningrequests/nodeclient) and signs it with the cluster CA, and the certificate
// authenticates as the node. A CSR nobody auto-approves waits for `kubectl certificate approve`.
#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/file_util.h"
#include "common/spawn.h"
#include "tests/integration/server/server_fixture.h"

namespace berth::testing {
namespace {

using nlohmann::json;

std::string run(const std::vector<std::string>& args) {
  SpawnOptions spawn;
  spawn.path = args[0];
  spawn.args = args;
  spawn.captureStdout = true;
  spawn.captureStderr = true;
  spawn.timeout = std::chrono::seconds(30);
  auto r = runProgram(spawn);
  EXPECT_TRUE(r && r->status.success())
      << args[0] << ": " << (r ? r->stderrData : r.error().message());
  return r ? r->stdoutData : "";
}

class CsrTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!haveKubectl()) GTEST_SKIP() << "no kubectl on this machine";
    auto server = ServerFixture::start({});
    ASSERT_TRUE(server) << server.error().message();
    server_ = std::move(*server);
    dir_ = server_->dataDir().parent_path();
  }

  // A key and a PEM CSR for `subject` ("/O=system:nodes/CN=system:node:n1").
  std::string makeRequest(const std::string& name, const std::string& subject) {
    std::string key = (dir_ / (name + ".key")).string();
    std::string csr = (dir_ / (name + ".csr")).string();
    run({"openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key});
    run({"openssl", "req", "-new", "-key", key, "-subj", subject, "-out", csr});
    return readFile(csr).value_or("");
  }

  json csrObject(const std::string& name, const std::string& pem, const std::string& signer,
                 std::vector<std::string> usages) {
    return {{"apiVersion", "certificates.k8s.io/v1"},
            {"kind", "CertificateSigningRequest"},
            {"metadata", {{"name", name}}},
            {"spec", {{"request", base64Encode(pem)}, {"signerName", signer}, {"usages", usages}}}};
  }

  // Waits for status.certificate; the decoded PEM, or "" at the deadline.
  std::string waitForCertificate(const std::string& name) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string cert =
          server_->kubectlOk({"get", "csr", name, "-o", "jsonpath={.status.certificate}"});
      if (!cert.empty()) return base64Decode(cert).value_or("");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return {};
  }

  std::unique_ptr<ServerFixture> server_;
  std::filesystem::path dir_;
};

TEST_F(CsrTest, BootstrapTokenNodeClientCsrIsApprovedSignedAndAuthenticatesTheNode) {
  // A bootstrap token, as kubeadm creates one.
  server_->kubectlOk(
      {"create", "-f", "-"},
      json{{"apiVersion", "v1"},
           {"kind", "Secret"},
           {"metadata", {{"name", "bootstrap-token-abcdef"}, {"namespace", "kube-system"}}},
           {"type", "bootstrap.kubernetes.io/token"},
           {"stringData",
            {{"token-id", "abcdef"},
             {"token-secret", "0123456789abcdef"},
             {"usage-bootstrap-authentication", "true"},
             {"auth-extra-groups", "system:bootstrappers:berth:default-node-token"}}}}
          .dump());
  std::string bootstrapConfig = (dir_ / "bootstrap.kubeconfig").string();
  std::string ca = (dir_ / "data" / "tls" / "ca.crt").string();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"config", "set-cluster", "berth", "--server=" + server_->url(),
            "--certificate-authority=" + ca, "--kubeconfig=" + bootstrapConfig},
           {"config", "set-credentials", "bootstrap", "--token=abcdef.0123456789abcdef",
            "--kubeconfig=" + bootstrapConfig},
           {"config", "set-context", "default", "--cluster=berth", "--user=bootstrap",
            "--kubeconfig=" + bootstrapConfig},
           {"config", "use-context", "default", "--kubeconfig=" + bootstrapConfig}}) {
    server_->kubectlOk(args);
  }
  KubectlResult whoami = server_->kubectl({"auth", "whoami", "-o", "json"}, "", bootstrapConfig);
  ASSERT_EQ(whoami.exitCode, 0) << whoami.err;
  EXPECT_EQ(json::parse(whoami.out)["status"]["userInfo"]["username"], "system:bootstrap:abcdef");

  std::string pem = makeRequest("n1", "/O=system:nodes/CN=system:node:n1");
  KubectlResult created =
      server_->kubectl({"create", "-f", "-"},
                       csrObject("node-csr-n1", pem, "kubernetes.io/kube-apiserver-client-kubelet",
                                 {"digital signature", "client auth"})
                           .dump(),
                       bootstrapConfig);
  ASSERT_EQ(created.exitCode, 0) << created.err;

  std::string certificate = waitForCertificate("node-csr-n1");
  ASSERT_FALSE(certificate.empty()) << "the node client CSR was not approved and signed";
  json csr = json::parse(server_->kubectlOk({"get", "csr", "node-csr-n1", "-o", "json"}));
  EXPECT_EQ(csr["spec"]["username"], "system:bootstrap:abcdef");
  EXPECT_EQ(csr["status"]["conditions"][0]["type"], "Approved");
  EXPECT_EQ(csr["status"]["conditions"][0]["reason"], "AutoApproved");

  // The certificate authenticates as the node.
  std::string certFile = (dir_ / "n1.crt").string();
  ASSERT_TRUE(writeFileAtomic(certFile, certificate, 0600));
  std::string nodeConfig = (dir_ / "node.kubeconfig").string();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"config", "set-cluster", "berth", "--server=" + server_->url(),
            "--certificate-authority=" + ca, "--kubeconfig=" + nodeConfig},
           {"config", "set-credentials", "node", "--client-certificate=" + certFile,
            "--client-key=" + (dir_ / "n1.key").string(), "--kubeconfig=" + nodeConfig},
           {"config", "set-context", "default", "--cluster=berth", "--user=node",
            "--kubeconfig=" + nodeConfig},
           {"config", "use-context", "default", "--kubeconfig=" + nodeConfig}}) {
    server_->kubectlOk(args);
  }
  KubectlResult node = server_->kubectl({"auth", "whoami", "-o", "json"}, "", nodeConfig);
  ASSERT_EQ(node.exitCode, 0) << node.err;
  json user = json::parse(node.out)["status"]["userInfo"];
  EXPECT_EQ(user["username"], "system:node:n1");
  EXPECT_EQ(user["groups"][0], "system:nodes");
}

TEST_F(CsrTest, OtherClientCsrsWaitForApprovalThenGetSigned) {
  std::string pem = makeRequest("jane", "/O=dev/CN=jane");
  server_->kubectlOk({"create", "-f", "-"},
                     csrObject("jane", pem, "kubernetes.io/kube-apiserver-client",
                               {"digital signature", "client auth"})
                         .dump());
  // Pending: no auto-approval for ordinary client certificates.
  std::string condition =
      server_->kubectlOk({"get", "csr", "jane", "-o", "jsonpath={.status.conditions}"});
  EXPECT_EQ(condition, "");

  server_->kubectlOk({"certificate", "approve", "jane"});
  std::string certificate = waitForCertificate("jane");
  ASSERT_FALSE(certificate.empty());
  std::string certFile = (dir_ / "jane.crt").string();
  ASSERT_TRUE(writeFileAtomic(certFile, certificate, 0600));
  std::string subject = run({"openssl", "x509", "-in", certFile, "-noout", "-subject"});
  EXPECT_NE(subject.find("CN = jane"), std::string::npos) << subject;
  EXPECT_NE(subject.find("O = dev"), std::string::npos) << subject;

  // A request the signer refuses (a server usage for a client signer) fails, with the reason.
  std::string bad = makeRequest("bad", "/CN=bad");
  server_->kubectlOk({"create", "-f", "-"},
                     csrObject("bad", bad, "kubernetes.io/kube-apiserver-client",
                               {"digital signature", "server auth"})
                         .dump());
  server_->kubectlOk({"certificate", "approve", "bad"});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string types;
  while (std::chrono::steady_clock::now() < deadline) {
    types =
        server_->kubectlOk({"get", "csr", "bad", "-o", "jsonpath={.status.conditions[*].type}"});
    if (types.find("Failed") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(types, "Approved Failed");
}

}  // namespace
}  // namespace berth::testing
