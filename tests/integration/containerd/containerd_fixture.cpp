#include "tests/integration/containerd/containerd_fixture.h"

#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/spawn.h"

namespace berth::cri_testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string containerdConfig(const ContainerdOptions& o) {
  std::string mirror;
  if (!o.registryMirror.empty()) {
    mirror = fmt::format(
        "  [plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"{0}\"]\n"
        "    endpoint = [\"http://{0}\"]\n",
        o.registryMirror);
  }
  return fmt::format(R"(version = 2
root = "{0}/root"
state = "{0}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "{0}/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "{0}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{1}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "{2}"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "{3}"
        Root = "{0}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{4}"
    conf_dir = "{5}"
{6})",
                     o.dir.string(), o.sandboxImage, o.snapshotter, o.runcPath, o.cniBinDir,
                     o.cniConfDir.string(), mirror);
}

Result<std::unique_ptr<Containerd>> Containerd::start(ContainerdOptions options) {
  std::unique_ptr<Containerd> c(new Containerd(std::move(options)));
  const auto& o = c->options_;
  BERTH_TRY(makeDirs(o.dir));
  fs::path config = o.dir / "containerd.toml";
  BERTH_TRY(writeFile(config, containerdConfig(o)));
  SpawnOptions s;
  s.path = "containerd";
  s.args = {"containerd", "--config", config.string()};
  if (!o.netnsPath.empty()) {
    // nsenter execs containerd in the same process: the PID is containerd's. Only the network
    // namespace changes; mounts stay the host's, as for a containerd on a node.
    s.path = "nsenter";
    s.args.insert(s.args.begin(), {"nsenter", "--net=" + o.netnsPath});
  }
  s.outputFile = c->log().string();
  c->process_ = BERTH_TRY(startProgram(s));
  return c;
}

std::vector<pid_t> Containerd::shims() const {
  const std::string address = "-address " + socket().string();
  return pidsWhose(
      [&](pid_t, const std::string& cmd) { return cmd.find(address) != std::string::npos; });
}

void Containerd::stop() {
  if (process_.valid()) {
    ::kill(process_.pid(), SIGTERM);
    auto exited = process_.waitFor(20s);
    if (!exited || !*exited) process_.killAndReap();
    (void)process_.release();
  }
  for (pid_t p : shims())
    endProcess(p, 2s);
}

std::string cmdlineOf(pid_t pid) {
  std::string s = readFile(fmt::format("/proc/{}/cmdline", pid)).value_or("");
  std::replace(s.begin(), s.end(), '\0', ' ');
  return s;
}

std::vector<pid_t> pidsWhose(const std::function<bool(pid_t, const std::string&)>& pred) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string n = e.path().filename().string();
    if (n.empty() || !std::all_of(n.begin(), n.end(), ::isdigit)) continue;
    pid_t p = std::stoi(n);
    std::string cmd = cmdlineOf(p);
    if (!cmd.empty() && pred(p, cmd)) out.push_back(p);
  }
  return out;
}

void endProcess(pid_t pid, std::chrono::milliseconds grace) {
  if (::kill(pid, SIGTERM) != 0) return;
  auto deadline = Clock::now() + grace;
  while (::kill(pid, 0) == 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  if (::kill(pid, SIGKILL) != 0) return;
  deadline = Clock::now() + 5s;
  while (::kill(pid, 0) == 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
}

void unmountUnder(const fs::path& dir) {
  std::vector<std::string> points;
  std::istringstream in(readFile("/proc/self/mountinfo").value_or(""));
  std::string line;
  const std::string prefix = dir.string() + "/";
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    f >> id >> parent >> dev >> root >> point;
    if (point.starts_with(prefix)) points.push_back(point);
  }
  for (auto it = points.rbegin(); it != points.rend(); ++it)
    ::umount2(it->c_str(), MNT_DETACH);  // octal escapes (\040) aside: our paths have none
}

void removeCgroups(const std::string& name) {
  std::istringstream in(readFile("/proc/self/cgroup").value_or(""));
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':');
    auto b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (controllers.starts_with("name=")) controllers = controllers.substr(5);
    if (controllers.empty()) controllers = fs::exists("/sys/fs/cgroup/unified") ? "unified" : "";
    fs::path dir = fs::path("/sys/fs/cgroup") / controllers / fs::path(path).relative_path() / name;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> dirs;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->is_directory(ec)) dirs.push_back(it->path());
    }
    std::sort(dirs.begin(), dirs.end(), [](const fs::path& x, const fs::path& y) {
      return x.string().size() > y.string().size();
    });
    for (const auto& d : dirs)
      ::rmdir(d.c_str());
    ::rmdir(dir.c_str());
  }
}

std::vector<fs::path> missingContainerdHostDirs() {
  std::vector<fs::path> out;
  for (const char* d : {"/run/containerd", "/run/containerd/s", "/run/containerd/fifo",
                        "/run/containerd/runc", "/var/lib/cni", "/var/lib/cni/results"}) {
    if (!fs::exists(d)) out.emplace_back(d);
  }
  return out;
}

void removeIfEmpty(const std::vector<fs::path>& dirs) {
  // Listed parents first: the reverse is deepest first.
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    // The CRI plugin's runc namespace dir under the shared runc root.
    if (*it == "/run/containerd/runc") ::rmdir("/run/containerd/runc/k8s.io");
    ::rmdir(it->c_str());
  }
}

}  // namespace berth::cri_testing
