// berth-kubelet's TLS bootstrap against berth-server: a kubelet given only a bootstrap token
// (a bootstrap-token Secret created with kubectl) gets its client certificate through an
// auto-approved CSR, asks for its serving certificate (approved by hand with kubectl, as
// upstream never auto-approves those), stops on a denied CSR, and rotates short-lived client and
// serving certificates without a restart. No runtime is needed: the node registers without
// one, so these tests start only berth-server and berth-kubelet.
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "common/base64.h"
#include "common/child_process.h"
#include "common/crypto/certificate.h"
#include "common/file_util.h"
#include "common/free_port_for_test.h"
#include "common/spawn.h"
#include "common/temp_dir_for_test.h"
#include "kubeapi/kubeconfig.h"
#include "kubeapi/meta_time.h"
#include "tests/integration/kubelet/node_fixture.h"
#include "tests/integration/server/server_fixture.h"

namespace berth::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

constexpr const char* kTokenId = "abcdef";
constexpr const char* kTokenSecret = "0123456789abcdef";

class KubeletBootstrapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the kubelet runs as root";
    if (!haveKubectl()) GTEST_SKIP() << "kubectl is not installed";
    ASSERT_FALSE(dir_.path().empty());
    nodeName_ = fmt::format("boot-{}", ::getpid());
  }
  void TearDown() override {
    if (kubelet_.valid()) kubelet_.killAndReap();
    if (HasFailure()) std::fprintf(stderr, "berth-kubelet log:\n%s\n", kubeletLog().c_str());
  }

  // berth-server signing certificates for `signingDuration`, and a bootstrap token in it.
  void startServer(const std::string& signingDuration = "8760h") {
    auto server =
        ServerFixture::start({.extraArgs = {"--cluster-signing-duration=" + signingDuration}});
    ASSERT_TRUE(server) << server.error().message();
    server_ = std::move(*server);
    server_->kubectlOk({"-n", "kube-system", "create", "secret", "generic",
                        std::string("bootstrap-token-") + kTokenId,
                        "--type=bootstrap.kubernetes.io/token",
                        std::string("--from-literal=token-id=") + kTokenId,
                        std::string("--from-literal=token-secret=") + kTokenSecret,
                        "--from-literal=usage-bootstrap-authentication=true"});
    kubeapi::Kubeconfig kc;
    kc.clusters["server"] = {.server = server_->url(), .certificateAuthority = caFile().string()};
    kc.users["bootstrap"] = {.token = fmt::format("{}.{}", kTokenId, kTokenSecret)};
    kc.contexts["bootstrap"] = {.cluster = "server", .user = "bootstrap"};
    kc.currentContext = "bootstrap";
    ASSERT_TRUE(kc.write(dir_.path() / "bootstrap.kubeconfig"));
  }

  void startKubelet(const std::string& extraConfig = {}) {
    kubeletPort_ = freeLoopbackPort().value();
    ASSERT_TRUE(writeFile(dir_.path() / "kubelet.yaml",
                          fmt::format("apiVersion: kubelet.config.k8s.io/v1beta1\n"
                                      "kind: KubeletConfiguration\n"
                                      "podLogsDir: {}/logs\n"
                                      "healthzPort: {}\n"
                                      "cgroupRoot: berth-kb-{}\n"
                                      "failSwapOn: false\n"
                                      "address: 127.0.0.1\n"
                                      "port: {}\n"
                                      "authentication:\n"
                                      "  x509:\n"
                                      "    clientCAFile: {}\n"
                                      "{}",
                                      dir_.path().string(), freeLoopbackPort().value(), ::getpid(),
                                      kubeletPort_, caFile().string(), extraConfig)));
    SpawnOptions o;
    o.path = BERTH_KUBELET_PATH;
    o.args = {"berth-kubelet", "--config=" + (dir_.path() / "kubelet.yaml").string(),
              "--bootstrap-kubeconfig=" + (dir_.path() / "bootstrap.kubeconfig").string(),
              "--kubeconfig=" + kubeconfig().string(), "--hostname-override=" + nodeName_,
              "--node-ip=127.0.0.1", "--root-dir=" + (dir_.path() / "kubelet").string(),
              // No runtime: the node registers (NotReady) without one.
              "--container-runtime-endpoint=unix://" + (dir_.path() / "no-cri.sock").string()};
    o.outputFile = (dir_.path() / "berth-kubelet.log").string();
    auto started = startProgram(o);
    ASSERT_TRUE(started) << started.error().message();
    kubelet_ = std::move(*started);
  }

  std::filesystem::path caFile() const { return server_->dataDir() / "tls" / "ca.crt"; }
  std::filesystem::path kubeconfig() const { return dir_.path() / "kubelet.kubeconfig"; }
  std::filesystem::path pki() const { return dir_.path() / "kubelet" / "pki"; }
  std::string kubeletLog() const {
    return readFile(dir_.path() / "berth-kubelet.log").value_or("(no log)");
  }
  Json getJson(const std::vector<std::string>& args) const {
    std::vector<std::string> full = {"get"};
    full.insert(full.end(), args.begin(), args.end());
    full.insert(full.end(), {"-o", "json"});
    auto r = server_->kubectl(full);
    return r.exitCode == 0 ? Json::parse(r.out, nullptr, false) : Json();
  }
  bool nodeRegistered() const { return server_->kubectl({"get", "node", nodeName_}).exitCode == 0; }
  // The CSRs of one signer, oldest first.
  std::vector<Json> csrs(std::string_view signer) const {
    std::vector<Json> out;
    Json list = getJson({"csr", "--sort-by=.metadata.creationTimestamp"});
    if (!list.is_object()) return out;
    for (const Json& c : list["items"])
      if (c["spec"]["signerName"] == signer) out.push_back(c);
    return out;
  }
  static std::string issuedPem(const Json& csr) {
    return base64Decode(csr["status"].value("certificate", "")).value_or("");
  }
  static crypto::Certificate certificateIn(const std::filesystem::path& file) {
    auto pem = readFile(file);
    EXPECT_TRUE(pem) << file;
    auto cert = crypto::Certificate::fromPem(pem.value_or(""));
    EXPECT_TRUE(cert) << file;
    return cert.value();
  }
  // The certificate the :10250 server presents, or empty when the handshake fails.
  std::string servedCertificate() const {
    SpawnOptions o;
    o.path = "/bin/sh";
    o.args = {"sh", "-c",
              fmt::format("openssl s_client -connect 127.0.0.1:{} </dev/null 2>/dev/null | "
                          "openssl x509 2>/dev/null",
                          kubeletPort_)};
    o.captureStdout = o.captureStderr = true;
    o.timeout = 20s;
    auto r = runProgram(o);
    return r && r->status.success() ? r->stdoutData : std::string();
  }
  static std::string der(const std::string& pem) {
    auto cert = crypto::Certificate::fromPem(pem);
    return cert ? cert->der().value_or("") : "";
  }
  static mode_t modeOf(const std::filesystem::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
  }

  TempDir dir_{"berth-kubelet-bootstrap"};
  std::unique_ptr<ServerFixture> server_;
  std::string nodeName_;
  int kubeletPort_ = 0;
  ChildProcess kubelet_;
};

TEST_F(KubeletBootstrapTest, JoinsWithABootstrapTokenAndAnAutoApprovedClientCertificate) {
  startServer();
  startKubelet();
  ASSERT_TRUE(eventually([&] { return nodeRegistered(); }, 60s)) << "the node did not register";

  // The client certificate: system:node:<name> in system:nodes, from an approved node-csr-*
  // that the bootstrap token's user asked for.
  const auto current = pki() / "kubelet-client-current.pem";
  ASSERT_TRUE(std::filesystem::is_symlink(current));
  const auto target = std::filesystem::read_symlink(current);
  EXPECT_TRUE(target.string().starts_with("kubelet-client-2")) << target;
  EXPECT_EQ(modeOf(pki() / target), 0600u);
  auto cert = certificateIn(current);
  EXPECT_EQ(cert.commonName(), "system:node:" + nodeName_);
  EXPECT_EQ(cert.organizations(), std::vector<std::string>{"system:nodes"});
  EXPECT_TRUE(cert.allowsExtendedUsage("client auth"));
  EXPECT_FALSE(std::filesystem::exists(pki() / "kubelet-client.key.tmp"));

  auto clientCsrs = csrs("kubernetes.io/kube-apiserver-client-kubelet");
  ASSERT_EQ(clientCsrs.size(), 1u);
  const Json& csr = clientCsrs[0];
  EXPECT_TRUE(csr["metadata"]["name"].get<std::string>().starts_with("node-csr-"));
  EXPECT_EQ(csr["spec"]["username"], std::string("system:bootstrap:") + kTokenId);
  EXPECT_EQ(csr["status"]["conditions"][0]["type"], "Approved");
  EXPECT_EQ(der(issuedPem(csr)), cert.der().value());

  // The kubeconfig the kubelet wrote: the bootstrap's server and CA, the stored pair.
  EXPECT_EQ(modeOf(kubeconfig()), 0600u);
  auto kc = kubeapi::Kubeconfig::load(kubeconfig());
  ASSERT_TRUE(kc) << kc.error().message();
  auto rc = kc->restConfig();
  ASSERT_TRUE(rc);
  EXPECT_EQ(rc->host, server_->url());
  EXPECT_EQ(rc->caFile, caFile().string());
  EXPECT_EQ(rc->certFile, current.string());
  EXPECT_EQ(rc->keyFile, current.string());
  EXPECT_TRUE(rc->bearerToken.empty());

  // Without serverTLSBootstrap the server's certificate is self-signed, in kubelet.crt.
  ASSERT_TRUE(eventually([&] { return !servedCertificate().empty(); }, 30s));
  EXPECT_EQ(der(servedCertificate()), certificateIn(pki() / "kubelet.crt").der().value());
  EXPECT_EQ(modeOf(pki() / "kubelet.key"), 0600u);

  // A restart finds its kubeconfig valid and asks for nothing.
  kubelet_.killAndReap();
  startKubelet();
  std::this_thread::sleep_for(5s);  // time for a wrongful second CSR to appear
  EXPECT_EQ(csrs("kubernetes.io/kube-apiserver-client-kubelet").size(), 1u);
  auto exited = kubelet_.waitFor(0ms);
  EXPECT_TRUE(exited && !*exited) << "the restarted kubelet exited";
}

TEST_F(KubeletBootstrapTest, ServingCertificateIsServedOnceApprovedWithKubectlAndRotates) {
  startServer("40s");
  // The client certificate lives 40 s too: it must rotate for the kubelet to ask again.
  startKubelet("serverTLSBootstrap: true\nrotateCertificates: true\n");
  ASSERT_TRUE(eventually([&] { return nodeRegistered(); }, 60s));
  std::string name;
  ASSERT_TRUE(eventually(
      [&] {
        auto serving = csrs("kubernetes.io/kubelet-serving");
        if (!serving.empty()) name = serving[0]["metadata"]["name"];
        return !name.empty();
      },
      30s))
      << "no kubelet-serving CSR";
  // As upstream: nobody approves a serving certificate on its own, and until one is issued
  // the server has nothing to present.
  std::this_thread::sleep_for(2s);
  Json pending = getJson({"csr", name});
  const Json& status = pending["status"];
  EXPECT_TRUE(!status.is_object() || status.value("conditions", Json::array()).empty())
      << pending.dump();
  EXPECT_EQ(pending["spec"]["username"], "system:node:" + nodeName_);
  EXPECT_EQ(pending["spec"]["usages"], Json({"digital signature", "server auth"}));
  EXPECT_TRUE(servedCertificate().empty());

  server_->kubectlOk({"certificate", "approve", name});
  std::string issued;
  ASSERT_TRUE(eventually(
      [&] {
        issued = issuedPem(getJson({"csr", name}));
        return !issued.empty();
      },
      30s));
  ASSERT_TRUE(eventually([&] { return der(servedCertificate()) == der(issued); }, 30s))
      << "the server does not present the issued certificate";
  auto cert = crypto::Certificate::fromPem(issued).value();
  EXPECT_EQ(cert.commonName(), "system:node:" + nodeName_);
  EXPECT_EQ(cert.ipAddresses(), std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(cert.dnsNames(), std::vector<std::string>{nodeName_});
  EXPECT_TRUE(cert.allowsExtendedUsage("server auth"));
  const auto current = pki() / "kubelet-server-current.pem";
  EXPECT_EQ(modeOf(pki() / std::filesystem::read_symlink(current)), 0600u);
  EXPECT_FALSE(std::filesystem::exists(pki() / "kubelet.crt"));  // no self-signed pair

  // At 70-90% of its 40 s the kubelet asks again; once approved, new connections get the new
  // certificate without a restart.
  std::string renewal;
  ASSERT_TRUE(eventually(
      [&] {
        auto serving = csrs("kubernetes.io/kubelet-serving");
        if (serving.size() > 1) renewal = serving.back()["metadata"]["name"];
        return !renewal.empty();
      },
      60s))
      << "no renewal CSR";
  server_->kubectlOk({"certificate", "approve", renewal});
  std::string renewed;
  ASSERT_TRUE(eventually(
      [&] {
        renewed = issuedPem(getJson({"csr", renewal}));
        return !renewed.empty();
      },
      30s));
  ASSERT_TRUE(eventually([&] { return der(servedCertificate()) == der(renewed); }, 30s))
      << "the server does not present the renewed certificate";
  EXPECT_NE(der(renewed), der(issued));
  auto exited = kubelet_.waitFor(0ms);
  EXPECT_TRUE(exited && !*exited) << "the kubelet exited";
}

TEST_F(KubeletBootstrapTest, ADeniedCsrEndsTheKubeletWithAnError) {
  startServer();
  // Without this binding the bootstrap token's CSRs wait for a human, as in a cluster whose
  // operator approves nodes by hand.
  server_->kubectlOk({"delete", "clusterrolebinding", "berth:node-autoapprove-bootstrap"});
  startKubelet();
  std::string name;
  ASSERT_TRUE(eventually(
      [&] {
        auto client = csrs("kubernetes.io/kube-apiserver-client-kubelet");
        if (!client.empty()) name = client[0]["metadata"]["name"];
        return !name.empty();
      },
      30s));
  server_->kubectlOk({"certificate", "deny", name});
  auto exited = kubelet_.waitFor(30s);
  ASSERT_TRUE(exited && *exited) << "the kubelet did not exit";
  EXPECT_FALSE((*exited)->success());
  EXPECT_NE(kubeletLog().find("certificate signing request is denied"), std::string::npos)
      << kubeletLog();
  EXPECT_FALSE(std::filesystem::exists(kubeconfig()));
  EXPECT_FALSE(nodeRegistered());
}

TEST_F(KubeletBootstrapTest, AShortLivedClientCertificateRotatesAndTheKubeletKeepsTalking) {
  // The signer's duration is the only lifetime a kubelet gets (it sets no expirationSeconds).
  startServer("40s");
  startKubelet("rotateCertificates: true\n");
  ASSERT_TRUE(eventually([&] { return nodeRegistered(); }, 60s));
  const auto current = pki() / "kubelet-client-current.pem";
  const auto first = certificateIn(current);
  ASSERT_LT(first.notAfter() - first.notBefore(), 41s);

  // Rotation at 70-90% of 40 s, with a new key, through a CSR the node asked for itself.
  ASSERT_TRUE(
      eventually([&] { return certificateIn(current).der().value() != first.der().value(); }, 60s))
      << "the client certificate was not rotated";
  auto second = certificateIn(current);
  EXPECT_EQ(second.commonName(), "system:node:" + nodeName_);
  EXPECT_GT(second.notAfter(), first.notAfter());
  EXPECT_NE(second.publicKey().der().value(), first.publicKey().der().value());
  bool renewedBySelf = false;
  for (const Json& csr : csrs("kubernetes.io/kube-apiserver-client-kubelet"))
    renewedBySelf |= csr["spec"]["username"] == "system:node:" + nodeName_;
  EXPECT_TRUE(renewedBySelf);

  // Past the first certificate's end the kubelet still renews its Lease: its requests carry
  // the new certificate.
  while (std::chrono::system_clock::now() < first.notAfter() + 12s)
    std::this_thread::sleep_for(1s);
  const auto since = std::chrono::system_clock::now();
  ASSERT_TRUE(eventually(
      [&] {
        Json lease = getJson({"lease", nodeName_, "-n", "kube-node-lease"});
        auto renew = kubeapi::parseTime(lease["spec"].value("renewTime", ""));
        return renew && *renew > since;
      },
      30s))
      << "the Lease is not renewed after the first certificate expired";
  auto exited = kubelet_.waitFor(0ms);
  EXPECT_TRUE(exited && !*exited) << "the kubelet exited";
}

}  // namespace
}  // namespace berth::testing
