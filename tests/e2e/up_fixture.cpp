#include "tests/e2e/up_fixture.h"

#include <signal.h>
#include <unistd.h>

#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/spawn.h"

namespace berth::testing {

namespace up_fixture {

Status sh(const std::string& command) {
  SpawnOptions o;
  o.path = "/bin/sh";
  o.args = {"sh", "-c", command};
  o.captureStdout = true;
  o.captureStderr = true;
  auto r = BERTH_TRY(runProgram(o));
  if (!r.status.success()) return fail(Code::kInternal, "{}: {}", command, r.stderrData);
  return {};
}

}  // namespace up_fixture

std::string UpFixture::missingPrerequisite() {
  if (::geteuid() != 0) return "needs root (network namespaces, mounts, cgroups)";
  if (!haveKubectl()) return "no kubectl on this machine";
  if (!images::testing::RegistryServer::available()) return "docker-registry is not installed";
  return "";
}

Result<std::unique_ptr<UpFixture>> UpFixture::start(Options options) {
  std::unique_ptr<UpFixture> f(new UpFixture());
  f->options_ = std::move(options);
  char tmpl[] = "/tmp/berth-e2e.XXXXXX";
  if (!::mkdtemp(tmpl)) return failErrno(errno, "mkdtemp");
  f->dir_ = tmpl;
  f->dataDir_ = f->dir_ / "data";
  f->netns_ = fmt::format("berth-e2e-{}", ::getpid());
  f->nodeName_ = fmt::format("e2e-{}", ::getpid());
  const std::string& n = f->netns_;
  BERTH_TRY(up_fixture::sh(
      fmt::format("ip netns add {0} && ip -n {0} link set lo up && "
                  "ip -n {0} link add node0 type veth peer name node1 && "
                  "ip -n {0} addr add {1}/24 dev node0 && ip -n {0} link set node0 up && "
                  "ip -n {0} link set node1 up && ip -n {0} route add default dev node0",
                  n, kNodeIp)));
  auto ns = BERTH_TRY(NetNs::open("/run/netns/" + n));
  f->inside_.emplace(BERTH_TRY(NetNsGuard::enter(ns)));

  auto registry = images::testing::RegistryServer::start(f->dir_ / "registry", {});
  if (!registry) return std::unexpected(registry.error().context("registry"));
  f->registry_ = std::move(*registry);
  auto image = images::testing::makeBusyboxImage(images::testing::ManifestFlavour::kOci);
  // Two tags of one image: a rolling update between them changes the pod template.
  BERTH_TRY(images::testing::push(*f->registry_, "test/busybox", "1", image));
  BERTH_TRY(images::testing::push(*f->registry_, "test/busybox", "2", image));
  f->image_ = f->registry_->host() + "/test/busybox:1";
  BERTH_TRY(writeFile(
      f->dir_ / "registries.yaml",
      fmt::format("mirrors:\n  \"{0}\":\n    endpoint: [\"http://{0}\"]\n", f->registry_->host())));
  BERTH_TRY(f->launch());
  BERTH_TRY(f->waitForNodeReady());
  return f;
}

Status UpFixture::launch() {
  SpawnOptions o;
  o.path = BERTH_BIN_DIR "/berth";
  o.args = {"berth",
            "--registry-config",
            (dir_ / "registries.yaml").string(),
            "up",
            "--data-dir",
            dataDir_.string(),
            "--node-name",
            nodeName_,
            "--node-ip",
            kNodeIp,
            "--bind-address",
            kNodeIp,
            "--cgroup-root",
            fmt::format("berth-e2e-{}", ::getpid())};
  for (const auto& a : options_.extraArgs)
    o.args.push_back(a);
  o.outputFile = (dir_ / "berth-up.log").string();
  up_ = BERTH_TRY(startProgram(o));
  return {};
}

Status UpFixture::waitForNodeReady() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto exited = up_.waitFor(std::chrono::milliseconds(0)); exited && *exited) {
      return fail(Code::kInternal, "berth up exited: {}", logs());
    }
    if (std::filesystem::exists(kubeconfig())) {
      auto r = kubectl({"get", "node", nodeName_, "-o",
                        "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"});
      if (r.exitCode == 0 && r.out == "True") return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return fail(Code::kDeadlineExceeded, "node {} not Ready: {}", nodeName_, logs());
}

KubectlResult UpFixture::kubectl(const std::vector<std::string>& args,
                                 const std::string& stdinData) {
  return runKubectl(kubeconfig(), dir_, args, stdinData);
}

std::string UpFixture::kubectlOk(const std::vector<std::string>& args,
                                 const std::string& stdinData) {
  auto r = kubectl(args, stdinData);
  EXPECT_EQ(r.exitCode, 0) << "kubectl " << fmt::format("{}", fmt::join(args, " ")) << ": "
                           << r.err;
  return r.out;
}

bool UpFixture::waitForOutput(const std::vector<std::string>& args, const std::string& want,
                              std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = kubectl(args);
    if (r.exitCode == 0 && r.out == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return false;
}

Status UpFixture::stop() {
  if (!up_.valid()) return {};
  ::kill(up_.pid(), SIGTERM);
  auto exited = BERTH_TRY(up_.wait());
  if (!exited.success())
    return fail(Code::kInternal, "berth up exited {}: {}", exited.code, logs());
  return {};
}

Status UpFixture::startAgain() {
  BERTH_TRY(launch());
  return waitForNodeReady();
}

Status UpFixture::down(bool purge) {
  SpawnOptions o;
  o.path = BERTH_BIN_DIR "/berth";
  o.args = {"berth", "down", "--data-dir", dataDir_.string()};
  if (purge) o.args.push_back("--purge");
  o.captureStdout = true;
  o.captureStderr = true;
  auto r = BERTH_TRY(runProgram(o));
  if (!r.status.success()) return fail(Code::kInternal, "berth down: {}", r.stderrData);
  if (up_.valid()) BERTH_TRY(up_.wait());
  return {};
}

std::string UpFixture::logs() const {
  std::string out = readFile(dir_ / "berth-up.log").value_or("");
  for (const char* daemon : {"berth-cri", "berth-kubelet", "berth-proxy"}) {
    auto text = readFile(dataDir_ / "logs" / (std::string(daemon) + ".log"));
    if (!text) continue;
    std::string tail = text->size() > 3000 ? text->substr(text->size() - 3000) : *text;
    out += fmt::format("\n--- {} (tail)\n{}", daemon, tail);
  }
  return out;
}

UpFixture::~UpFixture() {
  // Also after berth up died: the purge removes what its node left (pods, mounts, cgroups).
  if (std::filesystem::exists(dataDir_)) {
    if (auto s = down(true); !s) ADD_FAILURE() << s.error().message();
  }
  registry_.reset();
  inside_.reset();
  (void)up_fixture::sh(fmt::format("ip netns del {}", netns_));
  (void)removeAll(dir_);
}

}  // namespace berth::testing
