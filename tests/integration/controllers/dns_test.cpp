// Cluster DNS against berth-server: Services and EndpointSlices are written with kubectl (no
// controllers), ClusterDns runs Unbound on 127.0.0.1:<free port>, and dig asks it. Names
// outside the cluster go to a fake upstream: a second Unbound with one static host, on
// 127.0.0.<n>:53 as the test's resolv.conf names it (resolv.conf has no port).
#include "dns/cluster_dns.h"
#include "dns/kube_dns_objects.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/free_port_for_test.h"
#include "common/spawn.h"
#include "common/temp_dir_for_test.h"
#include "common/unique_fd.h"
#include "kubeapi/informer_factory.h"
#include "tests/integration/controllers/control_plane_fixture.h"

namespace berth::testing {
namespace {

using nlohmann::json;

bool havePrograms() {
  for (const char* p : {"unbound", "unbound-control", "dig"}) {
    auto r = runProgram({.path = "sh",
                         .args = {"sh", "-c", std::string("command -v ") + p},
                         .captureStdout = true});
    if (!r || !r->status.success()) return false;
  }
  return true;
}

// Whether UDP port 53 on `address` is free for the fake upstream.
bool canBindDns(const std::string& address) {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(53);
  ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
  return s && ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

class ClusterDnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!haveKubectl()) GTEST_SKIP() << "no kubectl on this machine";
    if (!havePrograms()) GTEST_SKIP() << "needs unbound, unbound-control and dig (deps.sh)";
    upstream_ = "127.0.0." + std::to_string(100 + ::getpid() % 150);
    if (!canBindDns(upstream_)) GTEST_SKIP() << "can't bind " << upstream_ << ":53 (root?)";
    startUpstream();
    auto cp = ControlPlaneFixture::start();
    ASSERT_TRUE(cp) << cp.error().message();
    cp_ = std::move(*cp);
    auto port = freeLoopbackPort();
    ASSERT_TRUE(port) << port.error().message();
    port_ = *port;
    ASSERT_TRUE(writeFile(temp_.path() / "resolv.conf",
                          "search example.org\nnameserver " + upstream_ + "\n"));
    startDns();
  }
  // ClusterDns in the test process, as `berth up` runs it.
  virtual void startDns() {
    informers_ = std::make_unique<kubeapi::InformerFactory>(cp_->client());
    dns_ = std::make_unique<dns::ClusterDns>(
        *informers_, dns::ClusterDnsOptions{.listenAddress = "127.0.0.1",
                                            .port = port_,
                                            .resolvConf = temp_.path() / "resolv.conf",
                                            .stateDir = temp_.path() / "dns",
                                            .minSyncPeriod = std::chrono::milliseconds(100)});
    auto st = dns_->start();
    ASSERT_TRUE(st) << st.error().message();
    informers_->start();
  }
  void TearDown() override {
    if (dns_) dns_->stop();
    if (informers_) informers_->stop();
  }

  // An Unbound that knows www.example.org and refuses everything else (no traffic leaves). Not
  // a name under test.: Unbound answers that reserved zone itself (RFC 6761).
  void startUpstream() {
    const auto dir = temp_.path() / "upstream";
    ASSERT_TRUE(makeDirs(dir));
    const std::string conf = "server:\n  interface: " + upstream_ +
                             "@53\n  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n"
                             "  directory: \"" +
                             dir.string() +
                             "\"\n  pidfile: \"\"\n  use-syslog: no\n  module-config: iterator\n"
                             "  local-zone: \".\" refuse\n"
                             "  local-zone: \"example.org.\" static\n"
                             "  local-data: \"www.example.org. 60 IN A 192.0.2.7\"\n";
    ASSERT_TRUE(writeFile(dir / "unbound.conf", conf));
    auto p = startProgram({.path = "unbound",
                           .args = {"unbound", "-d", "-p", "-c", (dir / "unbound.conf").string()},
                           .outputFile = (dir / "unbound.log").string()});
    ASSERT_TRUE(p) << p.error().message();
    upstreamProcess_ = std::move(*p);
    ASSERT_TRUE(ControlPlaneFixture::eventually(
        [&] {
          return dig({"@" + upstream_, "+short", "www.example.org"}) == "192.0.2.7";
        },
        std::chrono::seconds(10)));
  }

  // dig's output, trailing newline dropped, lines sorted (answers come in any order).
  std::string dig(std::vector<std::string> args) {
    args.insert(args.begin(), {"dig", "+tries=1", "+time=2"});
    auto r = runProgram({.path = "dig", .args = args, .captureStdout = true});
    if (!r) return "dig: " + r.error().message();
    std::vector<std::string> lines;
    std::istringstream in(r->stdoutData);
    for (std::string line; std::getline(in, line);)
      lines.push_back(line);
    std::ranges::sort(lines);
    std::string out;
    for (const auto& l : lines)
      out += (out.empty() ? "" : "\n") + l;
    return out;
  }
  std::string ask(const std::string& name, const std::string& type = "A") {
    return dig({"@127.0.0.1", "-p", std::to_string(port_), "+short", name, type});
  }
  std::string status(const std::string& name) {
    std::string out = dig({"@127.0.0.1", "-p", std::to_string(port_), name});
    size_t at = out.find("status: ");
    return at == std::string::npos ? out : out.substr(at + 8, out.find(',', at) - at - 8);
  }
  // Waits until `name` answers `want` (records reach Unbound a sync after the watch event).
  void expectAnswer(const std::string& name, const std::string& type, const std::string& want) {
    std::string got;
    EXPECT_TRUE(ControlPlaneFixture::eventually([&] { return (got = ask(name, type)) == want; },
                                                std::chrono::seconds(20)))
        << name << " " << type << ": got\n"
        << got << "\nwant\n"
        << want;
  }

  void create(const json& object) { cp_->server().kubectlOk({"create", "-f", "-"}, object.dump()); }

  TempDir temp_{"berth-dns-test"};
  std::string upstream_;
  ChildProcess upstreamProcess_;
  std::unique_ptr<ControlPlaneFixture> cp_;
  int port_ = 0;
  std::unique_ptr<kubeapi::InformerFactory> informers_;
  std::unique_ptr<dns::ClusterDns> dns_;
};

json service(const std::string& name, json spec) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", std::move(spec)}};
}

TEST_F(ClusterDnsTest, AnswersEveryRecordKindFollowsChangesAndForwardsTheRest) {
  create(service("web", {{"ports", {{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}}}}}));
  create(service("db", {{"clusterIP", "None"},
                        {"ports", {{{"name", "pg"}, {"port", 5432}, {"protocol", "TCP"}}}}}));
  create(service("ext", {{"type", "ExternalName"}, {"externalName", "www.example.org"}}));
  create({{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata",
           {{"name", "db-1"},
            {"namespace", "default"},
            {"labels", {{"kubernetes.io/service-name", "db"}}}}},
          {"addressType", "IPv4"},
          {"endpoints",
           {{{"addresses", {"10.42.0.7"}}, {"hostname", "db-0"}, {"conditions", {{"ready", true}}}},
            {{"addresses", {"10.42.0.8"}}, {"conditions", {{"ready", true}}}},
            {{"addresses", {"10.42.0.9"}}, {"conditions", {{"ready", false}}}}}},
          {"ports", {{{"name", "pg"}, {"port", 5432}, {"protocol", "TCP"}}}}});
  const std::string ip =
      cp_->server().kubectlOk({"get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"});
  ASSERT_FALSE(ip.empty());

  // ClusterIP: A, SRV for the named port, PTR.
  expectAnswer("web.default.svc.cluster.local", "A", ip);
  expectAnswer("_http._tcp.web.default.svc.cluster.local", "SRV",
               "0 100 80 web.default.svc.cluster.local.");
  EXPECT_EQ(dig({"@127.0.0.1", "-p", std::to_string(port_), "+short", "-x", ip}),
            "web.default.svc.cluster.local.");
  // Headless: the ready endpoints, each by its own name, SRV to them, PTR back.
  expectAnswer("db.default.svc.cluster.local", "A", "10.42.0.7\n10.42.0.8");
  EXPECT_EQ(ask("db-0.db.default.svc.cluster.local"), "10.42.0.7");
  EXPECT_EQ(ask("10-42-0-8.db.default.svc.cluster.local"), "10.42.0.8");
  EXPECT_EQ(ask("_pg._tcp.db.default.svc.cluster.local", "SRV"),
            "0 50 5432 10-42-0-8.db.default.svc.cluster.local.\n"
            "0 50 5432 db-0.db.default.svc.cluster.local.");
  EXPECT_EQ(dig({"@127.0.0.1", "-p", std::to_string(port_), "+short", "-x", "10.42.0.7"}),
            "db-0.db.default.svc.cluster.local.");
  // ExternalName: the CNAME, its target resolved upstream in the same answer.
  EXPECT_EQ(ask("ext.default.svc.cluster.local"), "192.0.2.7\nwww.example.org.");
  EXPECT_EQ(ask("dns-version.cluster.local", "TXT"), "\"1.1.0\"");
  // Over TCP as well.
  EXPECT_EQ(dig({"@127.0.0.1", "-p", std::to_string(port_), "+short", "+tcp",
                 "web.default.svc.cluster.local"}),
            ip);
  // Outside the cluster: forwarded to the resolv.conf's server.
  EXPECT_EQ(ask("www.example.org"), "192.0.2.7");
  // Unknown cluster names are NXDOMAIN here, never forwarded.
  EXPECT_EQ(status("nope.default.svc.cluster.local"), "NXDOMAIN");

  // Changes: an endpoint turning not ready leaves, a deleted Service is NXDOMAIN.
  cp_->server().kubectlOk(
      {"patch", "endpointslice", "db-1", "--type=json", "-p",
       R"([{"op":"replace","path":"/endpoints/1/conditions/ready","value":false}])"});
  expectAnswer("db.default.svc.cluster.local", "A", "10.42.0.7");
  cp_->server().kubectlOk({"delete", "service", "web"});
  EXPECT_TRUE(ControlPlaneFixture::eventually(
      [&] { return status("web.default.svc.cluster.local") == "NXDOMAIN"; },
      std::chrono::seconds(20)));
  // Forwarded answers survive the reloads.
  EXPECT_EQ(ask("www.example.org"), "192.0.2.7");
}

TEST_F(ClusterDnsTest, KubeDnsObjectsAreAcceptedAndAnswered) {
  // What `berth up` writes: the API server accepts them and cluster DNS answers for itself.
  create(dns::kubeDnsService({"10.43.0.10"}, port_));
  create(dns::kubeDnsEndpointSlice("node-1", "IPv4", "192.0.2.10", port_));
  expectAnswer("kube-dns.kube-system.svc.cluster.local", "A", "10.43.0.10");
  EXPECT_EQ(ask("_dns._udp.kube-dns.kube-system.svc.cluster.local", "SRV"),
            "0 100 53 kube-dns.kube-system.svc.cluster.local.");
  EXPECT_EQ(
      cp_->server().kubectlOk({"get", "endpointslice", "-n", "kube-system", "kube-dns-node-1-ipv4",
                               "-o", "jsonpath={.endpoints[0].addresses[0]}:{.ports[0].port}"}),
      "192.0.2.10:" + std::to_string(port_));
}

TEST_F(ClusterDnsTest, RestartsUnboundThatDied) {
  create(service("web", {{"ports", {{{"port", 80}}}}}));
  const std::string ip =
      cp_->server().kubectlOk({"get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"});
  expectAnswer("web.default.svc.cluster.local", "A", ip);
  auto pid = readFile(temp_.path() / "dns" / "unbound.pid");
  ASSERT_TRUE(pid);
  ASSERT_EQ(::kill(std::stoi(*pid), SIGKILL), 0);
  // The next sync (an event, or the periodic one) starts it again with the records.
  create(service("web2", {{"ports", {{{"port", 80}}}}}));
  const std::string ip2 =
      cp_->server().kubectlOk({"get", "service", "web2", "-o", "jsonpath={.spec.clusterIP}"});
  expectAnswer("web2.default.svc.cluster.local", "A", ip2);
  EXPECT_EQ(ask("web.default.svc.cluster.local"), ip);
}

TEST_F(ClusterDnsTest, StartFailsNamingWhyWhenTheAddressIsTaken) {
  dns::ClusterDns other(*informers_, {.listenAddress = "127.0.0.1",
                                      .port = port_,
                                      .resolvConf = temp_.path() / "resolv.conf",
                                      .stateDir = temp_.path() / "other"});
  auto st = other.start();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("unbound exited"), std::string::npos) << st.error().message();
  EXPECT_NE(st.error().message().find(std::to_string(port_)), std::string::npos)
      << st.error().message();
}

// The standalone daemon on the same fixture.
class BerthDnsTest : public ClusterDnsTest {
 protected:
  void startDns() override {
    auto p = startProgram(
        {.path = BERTH_DNS_PATH,
         .args = {BERTH_DNS_PATH, "--kubeconfig", cp_->server().adminKubeconfig().string(),
                  "--listen", "127.0.0.1:" + std::to_string(port_), "--allow-from", "127.0.0.0/8",
                  "--resolv-conf", (temp_.path() / "resolv.conf").string(), "--state-dir",
                  (temp_.path() / "dns").string()},
         .outputFile = (temp_.path() / "berth-dns.log").string()});
    ASSERT_TRUE(p) << p.error().message();
    daemon_ = std::move(*p);
  }
  ChildProcess daemon_;
};

TEST_F(BerthDnsTest, RestartAfterAKillStopsTheUnboundLeftBehind) {
  create(service("web", {{"ports", {{{"name", "http"}, {"port", 80}}}}}));
  const std::string ip =
      cp_->server().kubectlOk({"get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"});
  expectAnswer("web.default.svc.cluster.local", "A", ip);
  auto left = readFile(temp_.path() / "dns" / "unbound.pid");
  ASSERT_TRUE(left);
  daemon_.killAndReap();  // SIGKILL: its Unbound lives on, holding the port
  ASSERT_EQ(::kill(std::stoi(*left), 0), 0);
  startDns();
  EXPECT_TRUE(ControlPlaneFixture::eventually([&] {
    auto now = readFile(temp_.path() / "dns" / "unbound.pid");
    return now && *now != *left;
  })) << "no new Unbound";
  expectAnswer("web.default.svc.cluster.local", "A", ip);
  // Gone, or a zombie its new parent has not reaped.
  auto stat = readFile("/proc/" + *left + "/stat");
  EXPECT_TRUE(!stat || stat->find(") Z ") != std::string::npos) << "the old Unbound still runs";
  daemon_.killAndReap();
  if (auto pid = readFile(temp_.path() / "dns" / "unbound.pid")) ::kill(std::stoi(*pid), SIGKILL);
}

TEST_F(BerthDnsTest, AnswersServicesAndForwards) {
  create(service("web", {{"ports", {{{"name", "http"}, {"port", 80}}}}}));
  const std::string ip =
      cp_->server().kubectlOk({"get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"});
  expectAnswer("web.default.svc.cluster.local", "A", ip);
  EXPECT_EQ(ask("www.example.org"), "192.0.2.7");
  // SIGTERM: berth-dns stops its Unbound and exits 0.
  ASSERT_EQ(::kill(daemon_.pid(), SIGTERM), 0);
  auto exited = daemon_.waitFor(std::chrono::seconds(10));
  ASSERT_TRUE(exited && *exited) << "berth-dns did not exit on SIGTERM";
  EXPECT_TRUE((*exited)->success()) << (*exited)->code;
  EXPECT_NE(status("web.default.svc.cluster.local"), "NOERROR");
}

}  // namespace
}  // namespace berth::testing
