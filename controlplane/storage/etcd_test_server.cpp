#include "controlplane/storage/etcd_test_server.h"

#include <unistd.h>

#include <thread>

#include "common/file_util.h"
#include "common/free_port_for_test.h"
#include "common/spawn.h"
#include "controlplane/storage/etcd_backend.h"

namespace berth::controlplane::storage::testing {

namespace {

std::string findEtcd() {
  const char* path = ::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (!dirs.empty()) {
    auto colon = dirs.find(':');
    auto dir = dirs.substr(0, colon);
    auto candidate = std::filesystem::path(dir) / "etcd";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return {};
}

}  // namespace

std::string EtcdTestServer::unavailableReason() {
  return findEtcd().empty() ? "no etcd binary on PATH (Debian's etcd-server package)" : "";
}

Result<std::unique_ptr<EtcdTestServer>> EtcdTestServer::start(std::filesystem::path dir) {
  std::unique_ptr<EtcdTestServer> server(new EtcdTestServer());
  server->dir_ = std::move(dir);
  server->clientPort_ = BERTH_TRY(berth::testing::freeLoopbackPort());
  server->peerPort_ = BERTH_TRY(berth::testing::freeLoopbackPort());
  server->url_ = fmt::format("http://127.0.0.1:{}", server->clientPort_);
  BERTH_TRY(server->launch());
  return server;
}

Status EtcdTestServer::restart() {
  process_.killAndReap();
  return launch();
}

Status EtcdTestServer::launch() {
  auto etcd = findEtcd();
  if (etcd.empty()) return fail(Code::kFailedPrecondition, "{}", unavailableReason());
  BERTH_TRY(makeDirs(dir_, 0700));
  auto peer = fmt::format("http://127.0.0.1:{}", peerPort_);
  SpawnOptions o;
  o.path = etcd;
  o.args = {etcd,
            "--name=berth-test",
            "--data-dir=" + (dir_ / "data").string(),
            "--listen-client-urls=" + url_,
            "--advertise-client-urls=" + url_,
            "--listen-peer-urls=" + peer,
            "--initial-advertise-peer-urls=" + peer,
            "--initial-cluster=berth-test=" + peer,
            "--logger=zap",
            "--log-level=warn"};
  o.outputFile = (dir_ / "etcd.log").string();
  process_ = BERTH_TRY(startProgram(o));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (true) {
    auto backend =
        EtcdBackend::open({.servers = {url_}, .requestTimeout = std::chrono::seconds(1)});
    if (backend) return {};
    auto exited = BERTH_TRY(process_.waitFor(std::chrono::milliseconds(0)));
    if (exited || std::chrono::steady_clock::now() > deadline) {
      auto log = readFile(dir_ / "etcd.log").value_or("");
      if (log.size() > 2000) log = log.substr(log.size() - 2000);
      process_.killAndReap();
      return fail(Code::kUnavailable, "etcd on {} did not come up ({}); its log ends: {}", url_,
                  backend.error().message(), log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace berth::controlplane::storage::testing
