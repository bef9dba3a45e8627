#include "cmd/berth/up/node_purge.h"

#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cmd/berth/up/executables.h"
#include "common/child_process.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/mount.h"
#include "common/netlink.h"
#include "common/nft.h"
#include "common/spawn.h"
#include "common/unix_socket.h"
#include "kubelet/cri_client.h"

namespace berth::cmd {

namespace {

std::filesystem::path cgroupsRecord(const NodePaths& paths) {
  return paths.data / "cgroups.json";
}

// Collects the first error while letting every step run.
struct Steps {
  Status first;
  void run(std::string_view what, const Status& s) {
    if (s) return;
    namedLogger("berth")->warn("purge: {}: {}", what, s.error().message());
    if (first) first = std::unexpected(s.error().context(what));
  }
};

// A berth-cri on the node's own config, for as long as the purge needs one.
Result<ChildProcess> startCriForPurge(const NodePaths& paths) {
  SpawnOptions o;
  o.path = BERTH_TRY(findExecutable("berth-cri")).string();
  o.args = {"berth-cri", "--config", paths.criConfig().string()};
  o.outputFile = paths.log("berth-cri-purge").string();
  auto cri = BERTH_TRY(startProgram(o));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!connectUnix(paths.criSocket().string())) {
    if (std::chrono::steady_clock::now() > deadline) {
      return fail(Code::kDeadlineExceeded, "berth-cri (for the purge) did not listen");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cri;
}

Status removePods(const NodePaths& paths) {
  if (!std::filesystem::exists(paths.criConfig())) return {};
  ChildProcess ownCri;
  if (!connectUnix(paths.criSocket().string())) ownCri = BERTH_TRY(startCriForPurge(paths));
  kubelet::CriClient cri("unix://" + paths.criSocket().string(), std::chrono::seconds(60));
  Steps steps;
  for (const auto& sandbox : BERTH_TRY(cri.listPodSandbox())) {
    steps.run("stop pod " + sandbox.id(), cri.stopPodSandbox(sandbox.id()));
    steps.run("remove pod " + sandbox.id(), cri.removePodSandbox(sandbox.id()));
  }
  if (ownCri.valid()) {
    ::kill(ownCri.pid(), SIGTERM);
    (void)ownCri.waitFor(std::chrono::seconds(10));
  }
  return steps.first;
}

// "add" first so that deleting a table that isn't there is no error (nft 1.0.6 has no destroy).
Status deleteNftTables() {
  auto nft = BERTH_TRY(LibNftables::create());
  Steps steps;
  for (const char* table :
       {"ip berth-proxy", "ip6 berth-proxy", "inet berth-cni", "bridge berth-cni-bridge"}) {
    steps.run(fmt::format("nft table {}", table),
              nft->run(fmt::format("add table {0}\ndelete table {0}\n", table)));
  }
  return steps.first;
}

Status deleteBridge() {
  auto nl = BERTH_TRY(MnlNetlink::open());
  auto link = BERTH_TRY(nl->linkByName(kPodBridge));
  if (!link) return {};
  return nl->deleteLink(link->index);
}

// Mount points under `dir`, shallowest first (detaching one takes its submounts along).
std::vector<std::string> mountsUnder(const std::filesystem::path& dir) {
  std::ifstream in("/proc/self/mountinfo");
  std::vector<std::string> found;
  const std::string prefix = dir.string() + "/";
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    fields >> id >> parent >> devno >> root >> point;
    if (point.starts_with(prefix)) found.push_back(point);
  }
  std::ranges::sort(found, [](const auto& a, const auto& b) { return a.size() < b.size(); });
  return found;
}

Status unmountUnder(const std::filesystem::path& dir) {
  Steps steps;
  for (const auto& point : mountsUnder(dir)) {
    if (!std::filesystem::exists(point)) continue;  // gone with a shallower one
    steps.run("unmount " + point, detachAll(point));
  }
  return steps.first;
}

// Leaves first: a cgroup directory can only go once its children have.
Status removeCgroupTree(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return {};
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_directory()) BERTH_TRY(removeCgroupTree(entry.path()));
  }
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
    return failErrno(fmt::format("rmdir {}", dir.string()));
  }
  return {};
}

Status removeCgroups(const NodePaths& paths) {
  auto text = readFile(cgroupsRecord(paths));
  if (!text) return {};
  auto dirs = nlohmann::json::parse(*text, nullptr, false);
  if (!dirs.is_array())
    return fail(Code::kDataLoss, "{}: not a list", cgroupsRecord(paths).string());
  Steps steps;
  for (const auto& dir : dirs) {
    if (dir.is_string()) steps.run("cgroup", removeCgroupTree(dir.get<std::string>()));
  }
  return steps.first;
}

}  // namespace

Status recordNodeCgroups(const NodePaths& paths, const std::string& cgroupRoot) {
  // Each hierarchy this process is in (/proc/self/cgroup: "id:controllers:/path").
  std::ifstream in("/proc/self/cgroup");
  nlohmann::json dirs = nlohmann::json::array();
  const bool relative = !cgroupRoot.empty() && cgroupRoot.front() != '/';
  for (std::string line; std::getline(in, line);) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string own = line.substr(second + 1);
    std::filesystem::path mount =
        controllers.empty() ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup/" + controllers;
    if (controllers.empty() && !std::filesystem::exists(mount / "cgroup.controllers")) {
      mount = "/sys/fs/cgroup";  // a pure cgroup v2 host
    }
    if (controllers.starts_with("name=")) mount = "/sys/fs/cgroup/" + controllers.substr(5);
    if (!std::filesystem::is_directory(mount)) continue;
    // A relative root is the node's own directory; under an absolute one only kubepods is.
    auto dir = relative ? mount / std::filesystem::path(own).relative_path() / cgroupRoot
                        : mount / std::filesystem::path(cgroupRoot).relative_path() / "kubepods";
    dirs.push_back(dir.lexically_normal().string());
  }
  return writeFileAtomic(cgroupsRecord(paths), dirs.dump(1) + "\n", 0600);
}

Status purgeNode(const NodePaths& paths) {
  Steps steps;
  steps.run("pods", removePods(paths));
  steps.run("nftables", deleteNftTables());
  steps.run("bridge " + std::string(kPodBridge), deleteBridge());
  steps.run("cgroups", removeCgroups(paths));
  steps.run("mounts", unmountUnder(paths.data));
  if (steps.first) steps.run("remove " + paths.data.string(), removeAll(paths.data));
  return steps.first;
}

}  // namespace berth::cmd
