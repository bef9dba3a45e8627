// The spec buildContainerSpec makes from a CRI request, run for real: berth-runtime (and
// Debian's runc, the peer berth-cri also drives) must accept it, and the container must see what
// the request asked for (user and groups, env, cwd, mounts, devices, capabilities, masked and
// read-only paths, a Localhost seccomp profile, no_new_privs).
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/mount.h"
#include "common/spawn.h"
#include "ocispec/spec_json.h"
#include "runtime/v1/api.pb.h"
#include "shim/container_spec.h"
#include "tests/integration/runtime_fixture.h"

namespace berth::testing {
namespace {

namespace fs = std::filesystem;
namespace v1 = ::runtime::v1;

constexpr const char* kScript =
    "id; echo env=$FOO host=$HOSTNAME; pwd; cat /home/berth/hello;"
    "touch /home/berth/x 2>/dev/null && echo vol=rw || echo vol=ro;"
    "mkdir /tmp/d 2>/dev/null && echo mkdir=ok || echo mkdir=denied;"
    "grep -E '^(CapBnd|NoNewPrivs)' /proc/self/status;"
    "ls -l /dev/xnull | cut -c1;"
    "awk '$5==\"/proc/sys\" {print \"procsys=\" substr($6,1,2)}"
    " $5==\"/proc/keys\" {print \"keys=masked\"}' /proc/self/mountinfo";

class CriSpecRun : public RuntimeTest {
 protected:
  nlohmann::json buildConfig() {
    fs::create_directories(dir() / "vol");
    std::ofstream(dir() / "vol/hello") << "hello from the host\n";
    std::ofstream(dir() / "seccomp.json")
        << R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],)"
           R"("action":"SCMP_ACT_ERRNO","errnoRet":1}]})";

    config_.mutable_metadata()->set_name("app");
    config_.add_command("sh");
    config_.add_args("-c");
    config_.add_args(kScript);
    auto* env = config_.add_envs();
    env->set_key("FOO");
    env->set_value("bar");
    config_.set_working_dir("/tmp");
    auto* m = config_.add_mounts();
    m->set_container_path("/home/berth");
    m->set_host_path((dir() / "vol").string());
    m->set_readonly(true);
    auto* d = config_.add_devices();
    d->set_host_path("/dev/null");
    d->set_container_path("/dev/xnull");
    d->set_permissions("rwm");
    auto* sc = config_.mutable_linux()->mutable_security_context();
    sc->set_run_as_username("berth");
    sc->add_supplemental_groups(3000);
    sc->mutable_capabilities()->add_drop_capabilities("ALL");
    sc->mutable_capabilities()->add_add_capabilities("NET_BIND_SERVICE");
    sc->add_masked_paths("/proc/keys");  // /proc/kcore is absent on some kernels
    sc->add_readonly_paths("/proc/sys");
    sc->set_no_new_privs(true);
    sc->mutable_seccomp()->set_profile_type(v1::SecurityProfile::Localhost);
    sc->mutable_seccomp()->set_localhost_ref((dir() / "seccomp.json").string());
    // The node's network, IPC and UTS: this test pins no pod namespaces.
    sc->mutable_namespace_options()->set_network(v1::NODE);
    sc->mutable_namespace_options()->set_ipc(v1::NODE);
    sc->mutable_namespace_options()->set_pid(v1::CONTAINER);
    sandbox_.mutable_metadata()->set_name("pod");
    sandbox_.set_hostname("podhost");

    cri::ContainerSpecInput in;
    in.containerId = "ctr";
    in.config = &config_;
    in.sandboxConfig = &sandbox_;
    in.rootfs = rootfs();
    in.containerDir = dir() / "ctr";
    in.pod.sandboxId = "pod";
    auto spec = cri::buildContainerSpec(in);
    EXPECT_TRUE(spec) << spec.error().message();
    if (!spec) return {};
    EXPECT_TRUE(spec->hostDirsToCreate.empty());
    return nlohmann::json::parse(ocispec::toJson(spec->spec).dump());
  }

  static void expectSeen(const std::string& out) {
    EXPECT_NE(out.find("uid=1000(berth) gid=1000(berth)"), std::string::npos) << out;
    EXPECT_NE(out.find("3000"), std::string::npos) << out;
    EXPECT_NE(out.find("env=bar host=podhost\n/tmp\nhello from the host\n"), std::string::npos)
        << out;
    EXPECT_NE(out.find("vol=ro\n"), std::string::npos) << out;
    EXPECT_NE(out.find("mkdir=denied\n"), std::string::npos) << out;
    // CAP_NET_BIND_SERVICE is bit 10.
    EXPECT_NE(out.find("CapBnd:\t0000000000000400\n"), std::string::npos) << out;
    EXPECT_NE(out.find("NoNewPrivs:\t1\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\nc\n"), std::string::npos) << out;  // /dev/xnull is a char device
    EXPECT_NE(out.find("procsys=ro\n"), std::string::npos) << out;
    EXPECT_NE(out.find("keys=masked\n"), std::string::npos) << out;
  }

  v1::ContainerConfig config_;
  v1::PodSandboxConfig sandbox_;
};

TEST_F(CriSpecRun, BerthRuntimeRunsTheBuiltSpec) {
  nlohmann::json c = buildConfig();
  ASSERT_FALSE(c.is_null());
  auto r = runContainer(c, "ctr");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  expectSeen(r.out);
}

TEST_F(CriSpecRun, RuncRunsTheBuiltSpec) {
  if (::access("/usr/sbin/runc", X_OK) != 0) GTEST_SKIP() << "Debian's runc is not installed";
  nlohmann::json c = buildConfig();
  ASSERT_FALSE(c.is_null());
  // runc nests a relative cgroupsPath under its own cgroup, like berth-runtime.
  c["linux"]["cgroupsPath"] = "berth-it-cri-spec-runc-" + std::to_string(::getpid());
  writeConfig(c);
  SpawnOptions opts;
  opts.path = "/usr/sbin/runc";
  opts.args = {"runc",         "--root",   (dir() / "runc").string(),
               "run",          "--bundle", bundle().string(),
               "cri-spec-runc"};
  opts.cwd = bundle().string();
  opts.captureStdout = opts.captureStderr = true;
  opts.timeout = std::chrono::seconds(60);
  auto r = runProgram(opts);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->status.success()) << r->stdoutData << r->stderrData;
  std::string out = r->stdoutData;
  expectSeen(out);
}

// Mount propagation as the kubelet asks for it: the source checked against the host's
// mountinfo, and inside the container a HOST_TO_CONTAINER mount is a slave, a BIDIRECTIONAL one
// shared.
TEST_F(CriSpecRun, MountPropagationReachesTheContainer) {
  fs::path shared = dir() / "shared";
  fs::create_directories(shared);
  auto tmpfs = Mount::make("tmpfs", shared.string(), "tmpfs", 0, "size=1m");
  ASSERT_TRUE(tmpfs) << tmpfs.error().message();
  ASSERT_EQ(::mount(nullptr, shared.c_str(), nullptr, MS_SHARED, nullptr), 0);
  fs::create_directories(shared / "a");
  fs::create_directories(dir() / "private");

  v1::ContainerConfig config;
  config.mutable_metadata()->set_name("prop");
  config.add_command("awk");
  config.add_args("$5==\"/h2c\" || $5==\"/bidi\" {print $5, substr($7,1,7)}");
  config.add_args("/proc/self/mountinfo");
  auto* m = config.add_mounts();
  m->set_container_path("/h2c");
  m->set_host_path((shared / "a").string());
  m->set_propagation(v1::PROPAGATION_HOST_TO_CONTAINER);
  m = config.add_mounts();
  m->set_container_path("/bidi");
  m->set_host_path(shared.string());
  m->set_propagation(v1::PROPAGATION_BIDIRECTIONAL);
  auto* ns = config.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  ns->set_network(v1::NODE);
  ns->set_ipc(v1::NODE);
  ns->set_pid(v1::CONTAINER);
  v1::PodSandboxConfig sandbox;
  cri::ContainerSpecInput in;
  in.containerId = "prop";
  in.config = &config;
  in.sandboxConfig = &sandbox;
  in.rootfs = rootfs();
  auto spec = cri::buildContainerSpec(in);
  ASSERT_TRUE(spec) << spec.error().message();
  EXPECT_EQ(spec->spec.linux->rootfsPropagation, "rshared");
  auto r = runContainer(nlohmann::json::parse(ocispec::toJson(spec->spec).dump()), "prop");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("/bidi shared:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/h2c master:"), std::string::npos) << r.out;

  // The same request on a private host directory is refused before anything runs.
  config.mutable_mounts(1)->set_host_path((dir() / "private").string());
  spec = cri::buildContainerSpec(in);
  ASSERT_FALSE(spec);
  EXPECT_NE(spec.error().message().find("is not a shared mount"), std::string::npos)
      << spec.error().message();
}

}  // namespace
}  // namespace berth::testing
