#include "tests/integration/server/server_fixture.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/http_client.h"
#include "common/spawn.h"
#include "common/unique_fd.h"

namespace berth::testing {
namespace {

constexpr std::chrono::seconds kStartTimeout{30};

// A port the kernel just gave out on 127.0.0.1 (for etcd, which can't report one it chose).
Result<int> freeLoopbackPort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return failErrno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return failErrno("bind 127.0.0.1:0");
  }
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return failErrno("getsockname");
  }
  return ntohs(addr.sin_port);
}

// Polls `url` until it answers 200 or the deadline passes.
Status waitHealthy(const std::string& url, std::chrono::steady_clock::time_point deadline,
                   ChildProcess* process) {
  HttpClient client(TlsOptions{.insecureSkipVerify = true});
  std::string last = "no answer";
  while (std::chrono::steady_clock::now() < deadline) {
    if (process) {
      auto exited = process->waitFor(std::chrono::milliseconds(0));
      if (exited && *exited) return fail(Code::kInternal, "the process exited while starting");
    }
    HttpRequest request;
    request.url = url;
    request.connectTimeoutSeconds = 2;
    auto response = client.send(request);
    if (response && response->status == 200) return {};
    last = response ? fmt::format("HTTP {}", response->status) : response.error().message();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return fail(Code::kDeadlineExceeded, "{} not healthy: {}", url, last);
}

}  // namespace

// etcd-server on loopback for the etcd-backend runs of the suites.
class EtcdProcess {
 public:
  static Result<std::unique_ptr<EtcdProcess>> start(const std::filesystem::path& dir) {
    auto etcd = std::unique_ptr<EtcdProcess>(new EtcdProcess());
    int client = BERTH_TRY(freeLoopbackPort());
    int peer = BERTH_TRY(freeLoopbackPort());
    etcd->url_ = fmt::format("http://127.0.0.1:{}", client);
    std::string peerUrl = fmt::format("http://127.0.0.1:{}", peer);
    SpawnOptions spawn;
    spawn.path = "etcd";
    spawn.args = {"etcd",
                  "--data-dir=" + (dir / "etcd").string(),
                  "--listen-client-urls=" + etcd->url_,
                  "--advertise-client-urls=" + etcd->url_,
                  "--listen-peer-urls=" + peerUrl,
                  "--initial-advertise-peer-urls=" + peerUrl,
                  "--initial-cluster=default=" + peerUrl,
                  "--log-level=error"};
    spawn.outputFile = (dir / "etcd.log").string();
    etcd->process_ = BERTH_TRY(startProgram(spawn));
    BERTH_TRY(waitHealthy(etcd->url_ + "/health", std::chrono::steady_clock::now() + kStartTimeout,
                          &etcd->process_));
    return etcd;
  }
  const std::string& url() const { return url_; }

 private:
  std::string url_;
  ChildProcess process_;
};

bool haveKubectl() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    if (::access((std::string(dir) + "/kubectl").c_str(), X_OK) == 0) return true;
  }
  return false;
}

Result<std::unique_ptr<ServerFixture>> ServerFixture::start(Options options) {
  auto fixture = std::unique_ptr<ServerFixture>(new ServerFixture());
  fixture->options_ = std::move(options);
  if (fixture->temp_.path().empty()) return fail(Code::kInternal, "no temporary directory");
  fixture->dataDir_ = fixture->temp_.path() / "data";
  if (fixture->options_.backend == StoreBackend::kEtcd) {
    fixture->etcd_ = BERTH_TRY(EtcdProcess::start(fixture->temp_.path()));
  }
  BERTH_TRY(fixture->launch());
  return fixture;
}

ServerFixture::~ServerFixture() = default;

std::string ServerFixture::url() const {
  return fmt::format("https://127.0.0.1:{}", port_);
}

Status ServerFixture::launch() {
  SpawnOptions spawn;
  spawn.path = BERTH_SERVER_PATH;
  spawn.args = {BERTH_SERVER_PATH, "--data-dir=" + dataDir_.string(), "--bind-address=127.0.0.1",
                fmt::format("--secure-port={}", port_), "--log-level=debug"};
  if (etcd_) spawn.args.push_back("--etcd-servers=" + etcd_->url());
  for (const auto& a : options_.extraArgs)
    spawn.args.push_back(a);
  spawn.outputFile = (temp_.path() / "server.log").string();
  process_ = BERTH_TRY(startProgram(spawn));

  // The server writes admin.kubeconfig with the port it bound once it serves.
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  std::regex serverLine(R"(server: https://127\.0\.0\.1:(\d+))");
  while (port_ == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      return fail(Code::kDeadlineExceeded, "berth-server wrote no admin.kubeconfig; log: {}",
                  readFile(spawn.outputFile->c_str()).value_or(""));
    }
    auto exited = process_.waitFor(std::chrono::milliseconds(0));
    if (exited && *exited) {
      return fail(Code::kInternal, "berth-server exited at start; log: {}",
                  readFile(spawn.outputFile->c_str()).value_or(""));
    }
    auto text = readFile(adminKubeconfig().string());
    std::smatch m;
    if (text && std::regex_search(*text, m, serverLine)) {
      port_ = std::stoi(m[1]);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto healthy = waitHealthy(url() + "/readyz", deadline, &process_);
  if (!healthy) {
    return fail(Code::kDeadlineExceeded, "{}; log: {}", healthy.error().message(),
                readFile(spawn.outputFile->c_str()).value_or(""));
  }
  return {};
}

Status ServerFixture::crashAndRestart() {
  ::kill(process_.pid(), SIGKILL);
  (void)process_.wait();
  process_ = ChildProcess();
  return launch();
}

KubectlResult runKubectl(const std::filesystem::path& kubeconfig, const std::filesystem::path& home,
                         const std::vector<std::string>& args, const std::string& stdinData) {
  SpawnOptions spawn;
  spawn.path = "kubectl";
  spawn.args = {"kubectl", "--kubeconfig=" + kubeconfig.string()};
  for (const auto& a : args)
    spawn.args.push_back(a);
  spawn.stdinData = stdinData;
  spawn.captureStdout = true;
  spawn.captureStderr = true;
  spawn.timeout = std::chrono::seconds(60);
  // kubectl keeps a discovery cache under $HOME: a test's own, so runs don't see each other's.
  spawn.env = std::vector<std::string>{"HOME=" + home.string(), "PATH=/usr/bin:/bin",
                                       "KUBECTL_EXTERNAL_DIFF=diff -u"};
  KubectlResult result;
  auto run = runProgram(spawn);
  if (!run) {
    result.err = run.error().message();
    return result;
  }
  result.exitCode = run->status.code;
  result.out = std::move(run->stdoutData);
  result.err = std::move(run->stderrData);
  return result;
}

KubectlResult ServerFixture::kubectl(const std::vector<std::string>& args,
                                     const std::string& stdinData,
                                     const std::string& kubeconfig) const {
  return runKubectl(kubeconfig.empty() ? adminKubeconfig() : std::filesystem::path(kubeconfig),
                    temp_.path(), args, stdinData);
}

std::string ServerFixture::kubectlOk(const std::vector<std::string>& args,
                                     const std::string& stdinData) const {
  KubectlResult r = kubectl(args, stdinData);
  std::string joined;
  for (const auto& a : args)
    joined += " " + a;
  EXPECT_EQ(r.exitCode, 0) << "kubectl" << joined << "\nstdout: " << r.out << "\nstderr: " << r.err;
  return r.out;
}

}  // namespace berth::testing
