// berth-server proxying pods/log, exec, attach, portforward and nodes/proxy to the node's kubelet,
// driven by the real kubectl against a whole node (NodeFixture).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/spawn.h"
#include "common/unique_fd.h"
#include "tests/integration/kubelet/node_fixture.h"

namespace berth::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

class KubeletProxyTest : public NodeTest {
 protected:
  // A pod bound to the node (no scheduler here), waited for until `phase`.
  void runPod(const std::string& name, Json spec, const std::string& phase = "Running") {
    createPod(name, std::move(spec));
    ASSERT_TRUE(waitPod(
        name, [&](const Json& p) { return p["status"].value("phase", "") == phase; }, 90s))
        << name << " never reached " << phase;
  }
  KubectlResult kubectl(std::vector<std::string> args, const std::string& stdinData = {}) {
    args.insert(args.begin(), {"-n", ns_});
    return node_->server().kubectl(args, stdinData);
  }
  SpawnOptions kubectlSpawn(const std::vector<std::string>& args, bool spdy) const {
    SpawnOptions spawn;
    spawn.path = "kubectl";
    spawn.args = {"kubectl", "--kubeconfig=" + node_->server().adminKubeconfig().string(), "-n",
                  ns_};
    spawn.args.insert(spawn.args.end(), args.begin(), args.end());
    spawn.env = std::vector<std::string>{"HOME=" + node_->dir().string(), "PATH=/usr/bin:/bin"};
    // kubectl's switches back to its pre-1.30 SPDY streams (the fallback path).
    if (spdy) {
      spawn.env->push_back("KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false");
      spawn.env->push_back("KUBECTL_PORT_FORWARD_WEBSOCKETS=false");
    }
    return spawn;
  }
  // kubectl exec ... over SPDY.
  KubectlResult kubectlSpdy(const std::vector<std::string>& args, const std::string& stdinData) {
    SpawnOptions spawn = kubectlSpawn(args, true);
    spawn.stdinData = stdinData;
    spawn.captureStdout = spawn.captureStderr = true;
    spawn.timeout = 60s;
    KubectlResult result;
    auto run = runProgram(spawn);
    if (!run) return {.err = run.error().message()};
    return {.exitCode = run->status.code,
            .out = std::move(run->stdoutData),
            .err = std::move(run->stderrData)};
  }
  // kubectl in the background, its output to `output`.
  Result<ChildProcess> startKubectl(const std::vector<std::string>& args,
                                    const std::filesystem::path& output, bool spdy = false) {
    SpawnOptions spawn = kubectlSpawn(args, spdy);
    spawn.outputFile = output.string();
    return startProgram(spawn);
  }
  bool outputHas(const std::filesystem::path& file, std::string_view what, std::chrono::seconds t) {
    return eventually([&] { return readFile(file).value_or("").find(what) != std::string::npos; },
                      t);
  }

  // kubectl port-forward to the pod's httpd and a request through the forwarded port.
  void expectForwarded(bool spdy);
};

TEST_F(KubeletProxyTest, LogsPlainTailAndContainerChoice) {
  runPod("lines", {{"containers",
                    {container("app", "for i in 1 2 3 4 5; do echo line$i; done; sleep 3600"),
                     container("side", "echo side-says-hi; sleep 3600")}}});
  ASSERT_TRUE(eventually(
      [&] {
        return kubectl({"logs", "lines", "-c", "app"}).out.find("line5") != std::string::npos;
      },
      30s));
  EXPECT_EQ(kubectl({"logs", "lines", "-c", "app"}).out, "line1\nline2\nline3\nline4\nline5\n");
  EXPECT_EQ(kubectl({"logs", "lines", "-c", "app", "--tail=2"}).out, "line4\nline5\n");
  EXPECT_EQ(kubectl({"logs", "lines", "-c", "app", "--limit-bytes=6"}).out, "line1\n");
  KubectlResult stamped = kubectl({"logs", "lines", "-c", "side", "--timestamps"});
  EXPECT_NE(stamped.out.find("Z side-says-hi\n"), std::string::npos) << stamped.out;
  EXPECT_TRUE(stamped.out.starts_with("20")) << stamped.out;
  // Without a container the server answers with upstream's choice message.
  KubectlResult raw =
      kubectl({"get", "--raw", fmt::format("/api/v1/namespaces/{}/pods/lines/log", ns_)});
  EXPECT_NE(raw.exitCode, 0);
  EXPECT_NE(
      raw.err.find("a container name must be specified for pod lines, choose one of: [app side]"),
      std::string::npos)
      << raw.err;
}

TEST_F(KubeletProxyTest, PreviousLogsAfterARestart) {
  Json c = container("app",
                     "if [ -e /data/once ]; then echo second-run; sleep 3600; "
                     "else touch /data/once; echo first-run; exit 1; fi");
  c["volumeMounts"] = {{{"name", "data"}, {"mountPath", "/data"}}};
  runPod("again",
         {{"containers", {c}}, {"volumes", {{{"name", "data"}, {"emptyDir", Json::object()}}}}});
  ASSERT_TRUE(eventually(
      [&] {
        return kubectl({"logs", "again"}).out == "second-run\n";
      },
      90s))
      << kubectl({"logs", "again"}).out;
  KubectlResult previous = kubectl({"logs", "again", "--previous"});
  EXPECT_EQ(previous.exitCode, 0) << previous.err;
  EXPECT_EQ(previous.out, "first-run\n");
}

TEST_F(KubeletProxyTest, FollowSeesNewLinesAndEndsWithTheContainer) {
  Json c = container(
      "app", "echo before; while [ ! -e /data/go ]; do sleep 0.2; done; echo after; sleep 1");
  c["volumeMounts"] = {{{"name", "data"}, {"mountPath", "/data"}}};
  runPod("follow", {{"restartPolicy", "Never"},
                    {"containers", {c}},
                    {"volumes", {{{"name", "data"}, {"emptyDir", Json::object()}}}}});
  auto out = node_->dir() / (ns_ + "-follow.out");
  auto follower = startKubectl({"logs", "-f", "follow"}, out);
  ASSERT_TRUE(follower) << follower.error().message();
  ASSERT_TRUE(outputHas(out, "before\n", 30s)) << readFile(out).value_or("");
  // The follower is streaming: the next line is written only now.
  KubectlResult touched = kubectl({"exec", "follow", "--", "sh", "-c", ": > /data/go"});
  ASSERT_EQ(touched.exitCode, 0) << touched.err;
  auto ended = follower->waitFor(60s);
  ASSERT_TRUE(ended && *ended) << "kubectl logs -f did not end with the container";
  EXPECT_EQ(ended->value().code, 0);
  EXPECT_EQ(readFile(out).value_or(""), "before\nafter\n");
}

TEST_F(KubeletProxyTest, ExecPropagatesOutputErrorsExitCodeAndStdin) {
  runPod("shell", {{"containers", {container("app", "sleep 3600")}}});
  for (bool spdy : {false, true}) {
    SCOPED_TRACE(spdy ? "SPDY" : "WebSocket");
    auto exec = [&](std::vector<std::string> args, const std::string& in = {}) {
      return spdy ? kubectlSpdy(args, in) : kubectl(args, in);
    };
    KubectlResult r = exec({"exec", "shell", "--", "sh", "-c", "echo hi; echo err >&2; exit 3"});
    EXPECT_EQ(r.exitCode, 3) << r.err;
    EXPECT_EQ(r.out, "hi\n");
    EXPECT_NE(r.err.find("err\n"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("command terminated with exit code 3"), std::string::npos) << r.err;

    KubectlResult in =
        exec({"exec", "-i", "shell", "--", "sh", "-c", "tr a-z A-Z"}, "from stdin\n");
    EXPECT_EQ(in.exitCode, 0) << in.err;
    EXPECT_EQ(in.out, "FROM STDIN\n");
  }
}

TEST_F(KubeletProxyTest, AttachFeedsStdinAndShowsOutput) {
  Json c = container("app", "read line; echo got:$line; sleep 3600");
  c["stdin"] = true;
  runPod("talk", {{"containers", {c}}});
  KubectlResult r = kubectl({"attach", "-i", "talk", "-c", "app"}, "hello\n");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("got:hello"), std::string::npos) << r.out << r.err;
}

TEST_F(KubeletProxyTest, PortForwardReachesAServerInThePod) {
  runPod("web", {{"containers",
                  {container("app",
                             "mkdir -p /www && echo forwarded-page > /www/index.html && "
                             "exec httpd -f -p 8080 -h /www")}}});
  for (bool spdy : {false, true}) {
    SCOPED_TRACE(spdy ? "SPDY" : "WebSocket tunnel");
    expectForwarded(spdy);
  }
}

void KubeletProxyTest::expectForwarded(bool spdy) {
  auto out = node_->dir() / fmt::format("{}-pf-{}.out", ns_, spdy);
  auto forwarder =
      startKubectl({"port-forward", "--address=127.0.0.1", "pod/web", ":8080"}, out, spdy);
  ASSERT_TRUE(forwarder) << forwarder.error().message();
  ASSERT_TRUE(outputHas(out, " -> 8080", 30s)) << readFile(out).value_or("");
  std::string text = readFile(out).value_or("");
  constexpr std::string_view kForwarding = "Forwarding from 127.0.0.1:";
  auto at = text.find(kForwarding);
  ASSERT_NE(at, std::string::npos) << text;
  int port = std::atoi(text.c_str() + at + kForwarding.size());
  ASSERT_GT(port, 0) << text;

  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_TRUE(writeAll(fd.get(), "GET /index.html HTTP/1.0\r\n\r\n"));
  std::string response;
  char buf[4096];
  while (true) {
    auto n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) break;
    response.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_TRUE(response.starts_with("HTTP/1.")) << response;
  EXPECT_NE(response.find("forwarded-page"), std::string::npos) << response << "\n" << text;
}

TEST_F(KubeletProxyTest, NodeProxyReachesTheKubeletApi) {
  std::string base = "/api/v1/nodes/" + node_->nodeName() + "/proxy";
  KubectlResult configz = kubectl({"get", "--raw", base + "/configz"});
  ASSERT_EQ(configz.exitCode, 0) << configz.err;
  Json config = Json::parse(configz.out, nullptr, false);
  ASSERT_TRUE(config.is_object()) << configz.out;
  EXPECT_TRUE(config.contains("kubeletconfig")) << configz.out;

  KubectlResult pods = kubectl({"get", "--raw", base + "/pods"});
  ASSERT_EQ(pods.exitCode, 0) << pods.err;
  EXPECT_EQ(Json::parse(pods.out, nullptr, false).value("kind", ""), "PodList") << pods.out;

  KubectlResult missing = kubectl({"get", "--raw", "/api/v1/nodes/no-such-node/proxy/configz"});
  EXPECT_NE(missing.exitCode, 0);
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;
}

TEST_F(KubeletProxyTest, UnreachableKubeletsAreReportedAsUpstreamDoes) {
  // A port nothing listens on: bound, never listened to, so nobody else takes it meanwhile.
  UniqueFd holder(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(holder.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);

  for (const char* name : {"gone", "nameless"}) {
    node_->apply(
        Json({{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}}}).dump());
  }
  Json status = {{"status",
                  {{"addresses", {{{"type", "InternalIP"}, {"address", "127.0.0.1"}}}},
                   {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", port}}}}}}}};
  node_->server().kubectlOk(
      {"patch", "node", "gone", "--subresource=status", "--type=merge", "-p", status.dump()});
  KubectlResult refused = kubectl({"get", "--raw", "/api/v1/nodes/gone/proxy/configz"});
  EXPECT_NE(refused.exitCode, 0);
  EXPECT_NE(refused.err.find(fmt::format(
                "error dialing backend: dial tcp 127.0.0.1:{}: connect: connection refused", port)),
            std::string::npos)
      << refused.err;

  KubectlResult noAddress = kubectl({"get", "--raw", "/api/v1/nodes/nameless/proxy/configz"});
  EXPECT_NE(noAddress.exitCode, 0);
  EXPECT_NE(noAddress.err.find("no preferred addresses found; known addresses: []"),
            std::string::npos)
      << noAddress.err;
  for (const char* name : {"gone", "nameless"})
    node_->server().kubectl({"delete", "node", name});
}

// --kubelet-certificate-authority makes the kubelet's serving certificate checked; the client
// certificate flags replace the generated one. A second berth-server reaches the node's kubelet
// with the first server's kubelet-client pair, which the kubelet trusts.
TEST_F(KubeletProxyTest, KubeletServingCertificateIsVerifiedWhenACaIsGiven) {
  const auto tls = node_->server().dataDir() / "tls";
  const auto kubeletCert = node_->kubeletRoot() / "pki" / "kubelet.crt";
  // Written when the kubelet starts serving, which may be after it registered.
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(kubeletCert); }, 30s)) << kubeletCert;
  for (bool trusted : {true, false}) {
    SCOPED_TRACE(trusted ? "the kubelet's own certificate as CA" : "an unrelated CA");
    ServerFixture::Options options;
    options.extraArgs = {
        "--kubelet-client-certificate=" + (tls / "kubelet-client.crt").string(),
        "--kubelet-client-key=" + (tls / "kubelet-client.key").string(),
        "--kubelet-certificate-authority=" +
            (trusted ? kubeletCert : node_->server().dataDir() / "tls" / "ca.crt").string()};
    auto other = ServerFixture::start(options);
    ASSERT_TRUE(other) << other.error().message();
    Json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "remote"}}}};
    (*other)->kubectlOk({"apply", "-f", "-"}, node.dump());
    Json status = {
        {"status",
         {{"addresses", {{{"type", "InternalIP"}, {"address", "127.0.0.1"}}}},
          {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", node_->kubeletPort()}}}}}}}};
    (*other)->kubectlOk(
        {"patch", "node", "remote", "--subresource=status", "--type=merge", "-p", status.dump()});
    KubectlResult r = (*other)->kubectl({"get", "--raw", "/api/v1/nodes/remote/proxy/configz"});
    if (trusted) {
      EXPECT_EQ(r.exitCode, 0) << r.err;
      EXPECT_NE(r.out.find("kubeletconfig"), std::string::npos) << r.out;
    } else {
      EXPECT_NE(r.exitCode, 0) << r.out;
      EXPECT_NE(r.err.find("error dialing backend: tls: failed to verify certificate"),
                std::string::npos)
          << r.err;
    }
  }
}

}  // namespace
}  // namespace berth::testing
