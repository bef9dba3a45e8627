// bench_images BERTH — pull + unpack of one multi-layer image from a local docker-registry (plain
// HTTP on 127.0.0.1), in one run: `berth image pull`, Debian containerd's `ctr images pull`
// (fetch + unpack into its overlayfs snapshotter; its own containerd on a private socket, root
// and state dir, CRI plugin disabled, as tests/integration/containerd_interop_test.sh starts it),
// and `skopeo copy` + `umoci unpack` when they are installed. Every run starts from an empty
// store. Prints the median wall time of each and the ratio to berth; never asserts on time.
//
// Exit: 0, 1 when a tool fails to pull at all, 77 (ctest skip) without root, docker-registry or
// containerd. Environment: BENCH_RUNS (default 5), BENCH_LAYERS (default 8).

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

#include "common/file_util.h"
#include "common/spawn.h"
#include "images/digest.h"
#include "images/tar_builder_for_test.h"
#include "images/test_util.h"
#include "tests/bench/tools/bench_util.h"
#include "tests/integration/registry_fixture.h"

namespace {

using namespace berth;
using namespace berth::images::testing;

using berth::bench::envInt;

bool have(const char* program) {
  auto r = runProgram(
      {.path = "sh", .args = {"sh", "-c", fmt::format("command -v {} >/dev/null", program)}});
  return r && r->status.success();
}

// Runs a shell command; returns seconds, or an error with its output.
Result<double> timed(const std::string& command) {
  auto start = std::chrono::steady_clock::now();
  SpawnOptions o{.path = "sh", .args = {"sh", "-c", command}};
  o.captureStdout = true;
  o.captureStderr = true;
  o.timeout = std::chrono::minutes(5);
  auto r = BERTH_TRY(runProgram(o));
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!r.status.success()) {
    return fail(Code::kInternal, "{}: exit {}: {}{}", command, r.status.code, r.stdoutData,
                r.stderrData);
  }
  return s;
}

Status run(const std::string& command) {
  BERTH_TRY(timed(command));
  return {};
}

// busybox, then layers of many small files and one larger semi-compressible file each.
TestImage makeBenchImage(int layers) {
  TestImage base = makeBusyboxImage(ManifestFlavour::kOci);
  TestImage image;
  image.layers.push_back(base.layers[0]);
  std::mt19937_64 rng(7);
  for (int l = 0; l < layers - 1; ++l) {
    TarBuilder t;
    t.dir(fmt::format("layer{}/", l));
    for (int f = 0; f < 400; ++f) {
      std::string data(2048 + rng() % 8192, '\0');
      for (auto& c : data)
        c = static_cast<char>('a' + rng() % 16);
      t.file(fmt::format("layer{}/f{:04}", l, f), data);
    }
    std::string big(4 << 20, '\0');
    for (size_t i = 0; i < big.size(); i += 8) {
      uint64_t v = rng() & 0x0f0f0f0f0f0f0f0full;  // half the entropy: gzip has work to do
      std::memcpy(&big[i], &v, 8);
    }
    t.file(fmt::format("layer{}/big", l), big);
    std::string tar = t.finish();
    image.layers.push_back({TarBuilder::compress(tar, Compression::kGzip), images::sha256Of(tar),
                            std::string(ocispec::kMediaTypeOciLayerGzip)});
  }
  std::vector<std::string> diffIds;
  for (const auto& l : image.layers)
    diffIds.push_back(l.diffId);
  nlohmann::ordered_json config;
  config["architecture"] = "amd64";
  config["os"] = "linux";
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", diffIds}};
  image.config = config.dump();
  writeManifest(image, ManifestFlavour::kOci);
  return image;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

class Containerd {
 public:
  static Result<std::unique_ptr<Containerd>> start(const std::filesystem::path& dir) {
    std::unique_ptr<Containerd> c(new Containerd());
    c->dir_ = dir;
    c->sock_ = (dir / "containerd.sock").string();
    BERTH_TRY(makeDirs(dir));
    BERTH_TRY(writeFile(dir / "config.toml", fmt::format(R"(version = 2
root = "{0}/root"
state = "{0}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{1}"
[plugins."io.containerd.internal.v1.opt"]
  path = "{0}/opt"
)",
                                                         dir.string(), c->sock_)));
    pid_t pid = ::fork();
    if (pid < 0) return failErrno("fork");
    if (pid == 0) {
      std::string log = (dir / "containerd.log").string();
      FILE* f = std::freopen(log.c_str(), "a", stderr);
      (void)f;
      std::string config = (dir / "config.toml").string();
      ::execlp("containerd", "containerd", "--config", config.c_str(), nullptr);
      ::_exit(127);
    }
    c->process_ = ChildProcess(pid);
    for (int i = 0; i < 200; ++i) {
      if (run(c->ctr("version"))) return c;
      auto exited = BERTH_TRY(c->process_.waitFor(std::chrono::milliseconds(100)));
      if (exited) return fail(Code::kInternal, "containerd exited at start");
    }
    return fail(Code::kDeadlineExceeded, "containerd did not answer");
  }
  std::string ctr(const std::string& args) const {
    return fmt::format("ctr --address {} --namespace berth-bench-{} {}", sock_, ::getpid(), args);
  }
  ~Containerd() { process_.killAndReap(); }

 private:
  Containerd() = default;
  std::filesystem::path dir_;
  std::string sock_;
  ChildProcess process_;
};

int runBench(const std::string& berthBinary) {
  if (::geteuid() != 0) {
    std::puts("SKIP: needs root (unpacking with ownership)");
    return 77;
  }
  if (!RegistryServer::available() || !have("containerd") || !have("ctr")) {
    std::puts("SKIP: needs docker-registry and containerd");
    return 77;
  }
  int runs = std::max(1, envInt("BENCH_RUNS", 5));
  int layers = std::max(2, envInt("BENCH_LAYERS", 8));
  TempDir dir;
  auto registry = RegistryServer::start(dir.path() / "registry", {});
  if (!registry) {
    std::printf("registry: %s\n", registry.error().message().c_str());
    return 1;
  }
  TestImage image = makeBenchImage(layers);
  int64_t compressed = 0;
  for (const auto& l : image.layers)
    compressed += static_cast<int64_t>(l.blob.size());
  if (auto st = push(**registry, "bench", "v1", image); !st) {
    std::printf("push: %s\n", st.error().message().c_str());
    return 1;
  }
  std::string ref = (*registry)->host() + "/bench:v1";
  std::printf("image: %d layers, %.1f MB compressed, %d runs each (median)\n", layers,
              static_cast<double>(compressed) / 1e6, runs);
  auto yaml = dir.path() / "registries.yaml";
  (void)writeFile(yaml, fmt::format("mirrors:\n  \"{0}\":\n    endpoint: [\"http://{0}\"]\n",
                                    (*registry)->host()));

  struct Row {
    std::string name;
    std::vector<double> times;
    std::string error;
  };
  std::vector<Row> rows;

  Row berthRow{.name = "berth image pull"};
  for (int i = 0; i < runs && berthRow.error.empty(); ++i) {
    auto root = dir.path() / fmt::format("berth-{}", i);
    auto t = timed(fmt::format("{} --root {} --registry-config {} image pull {}", berthBinary,
                               root.string(), yaml.string(), ref));
    if (t)
      berthRow.times.push_back(*t);
    else
      berthRow.error = t.error().message();
    (void)removeAll(root);
  }
  rows.push_back(berthRow);

  Row ctrRow{.name = "ctr images pull"};
  auto containerd = Containerd::start(dir.path() / "containerd");
  if (!containerd) {
    ctrRow.error = containerd.error().message();
  } else {
    for (int i = 0; i < runs && ctrRow.error.empty(); ++i) {
      auto t = timed((*containerd)->ctr("images pull --plain-http " + ref));
      if (t)
        ctrRow.times.push_back(*t);
      else
        ctrRow.error = t.error().message();
      // Back to an empty store: the image, then its content; --sync waits for the GC that
      // removes the snapshots.
      (void)run((*containerd)->ctr("images rm --sync " + ref));
      (void)run((*containerd)->ctr("content ls -q") + " | xargs -r " +
                (*containerd)->ctr("content rm"));
    }
  }
  rows.push_back(ctrRow);

  if (have("skopeo") && have("umoci")) {
    Row row{.name = "skopeo copy + umoci unpack"};
    for (int i = 0; i < runs && row.error.empty(); ++i) {
      auto layout = dir.path() / fmt::format("oci-{}", i);
      auto bundle = dir.path() / fmt::format("bundle-{}", i);
      auto t =
          timed(fmt::format("skopeo copy --quiet --src-tls-verify=false docker://{} oci:{}:v1 && "
                            "umoci unpack --image {}:v1 {} >/dev/null",
                            ref, layout.string(), layout.string(), bundle.string()));
      if (t)
        row.times.push_back(*t);
      else
        row.error = t.error().message();
      (void)removeAll(layout);
      (void)removeAll(bundle);
    }
    rows.push_back(row);
  } else {
    rows.push_back({.name = "skopeo copy + umoci unpack", .error = "not installed"});
  }

  double base = median(rows[0].times);
  std::printf("%-28s %10s %12s\n", "", "median s", "vs berth");
  int status = 0;
  for (const auto& r : rows) {
    if (!r.error.empty()) {
      std::printf("%-28s %10s %12s  (%s)\n", r.name.c_str(), "n/a", "n/a",
                  r.error.substr(0, 300).c_str());
      if (r.error != "not installed") status = 1;
      continue;
    }
    double m = median(r.times);
    std::printf("%-28s %10.3f %11.2fx\n", r.name.c_str(), m, base > 0 ? m / base : 0);
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s BERTH\n", argv[0]);
    return 2;
  }
  return runBench(argv[1]);
}
