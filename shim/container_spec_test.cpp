#include "shim/container_spec.h"
#include "shim/default_seccomp.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>

#include "ocispec/spec_json.h"
#include "runtime/v1/api.pb.h"

// The tests set the deprecated seccomp_profile_path and apparmor_profile on purpose.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace berth::cri {
namespace {

namespace fs = std::filesystem;
namespace v1 = ::runtime::v1;

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

class ContainerSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth-ctr-spec-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = fs::canonical(tmpl);
    fs::create_directories(dir_ / "rootfs/etc");
    write("rootfs/etc/passwd",
          "root:x:0:0:root:/root:/bin/sh\n"
          "app:x:1000:1001::/home/app:/bin/sh\n"
          "nobody:x:65534:65534::/:/bin/false\n");
    write("rootfs/etc/group", "root:x:0:\nwheel:x:10:root,app\napp:x:1001:app\nstaff:x:50:app\n");
    fs::create_directories(dir_ / "shared/vol");
    fs::create_directories(dir_ / "slave/vol");
    fs::create_directories(dir_ / "private/vol");
    write("mountinfo",
          "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n" +
              fmt::format("2 1 0:40 / {} rw shared:5 - tmpfs t rw\n", (dir_ / "shared").string()) +
              fmt::format("3 1 0:41 / {} rw master:6 - tmpfs t rw\n", (dir_ / "slave").string()) +
              fmt::format("4 1 0:42 / {} rw - tmpfs t rw\n", (dir_ / "private").string()));
    write("pod/hosts", "127.0.0.1 localhost\n");
    write("pod/resolv.conf", "nameserver 10.0.0.10\n");
    write("pod/hostname", "web-0\n");

    config_.mutable_metadata()->set_name("app");
    sandbox_.mutable_metadata()->set_name("web-0");
    sandbox_.mutable_metadata()->set_namespace_("default");
    sandbox_.mutable_metadata()->set_uid("uid-1");
    sandbox_.set_hostname("web-0");

    in_.containerId = "c0ffee";
    in_.config = &config_;
    in_.sandboxConfig = &sandbox_;
    in_.image.cmd = {"sh"};
    in_.imageName = "registry.local/busybox:1";
    in_.rootfs = dir_ / "rootfs";
    in_.containerDir = dir_ / "ctr";
    in_.pod.sandboxId = "pod1";
    in_.pod.netnsPath = "/run/berth/ns/pod1/net";
    in_.pod.ipcnsPath = "/run/berth/ns/pod1/ipc";
    in_.pod.utsnsPath = "/run/berth/ns/pod1/uts";
    in_.pod.pidnsPath = "/run/berth/ns/pod1/pid";
    in_.host.mountInfoFile = dir_ / "mountinfo";
    in_.host.allCapabilities = {"CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"};
  }
  void TearDown() override { fs::remove_all(dir_); }

 public:  // the table lambdas below reach these through a ContainerSpecTest&
  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }
  v1::LinuxContainerSecurityContext* sc() {
    return config_.mutable_linux()->mutable_security_context();
  }
  ocispec::Spec build() {
    auto r = buildContainerSpec(in_);
    EXPECT_TRUE(r) << r.error().message();
    if (!r) return {};
    // Whatever we build must be a valid config.json.
    auto parsed = ocispec::parseSpec(ocispec::toJson(r->spec).dump());
    EXPECT_TRUE(parsed) << parsed.error().message();
    return r->spec;
  }
  Error buildError() {
    auto r = buildContainerSpec(in_);
    EXPECT_FALSE(r);
    return r ? Error(Code::kOk, "") : r.error();
  }
  const ocispec::Mount* mountAt(const ocispec::Spec& s, const std::string& dst) {
    for (const auto& m : s.mounts)
      if (m.destination == dst) return &m;
    return nullptr;
  }
  const ocispec::Namespace* ns(const ocispec::Spec& s, const std::string& type) {
    return s.findNamespace(type);
  }

  fs::path dir_;
  v1::ContainerConfig config_;
  v1::PodSandboxConfig sandbox_;
  ContainerSpecInput in_;
};

#define EXPECT_ERROR(err, text) \
  EXPECT_NE((err).message().find(text), std::string::npos) << (err).message()

struct ArgsCase {
  std::vector<std::string> entrypoint, cmd, command, args, want;
};

TEST_F(ContainerSpecTest, CommandAndArgsMergeAsDocker) {
  const ArgsCase cases[] = {
      {{"/ep"}, {"c1"}, {}, {}, {"/ep", "c1"}},
      {{"/ep"}, {"c1"}, {}, {"a1"}, {"/ep", "a1"}},  // args replace Cmd
      {{"/ep"}, {"c1"}, {"/cmd"}, {}, {"/cmd"}},     // command drops Cmd
      {{"/ep"}, {"c1"}, {"/cmd"}, {"a1"}, {"/cmd", "a1"}},
      {{}, {"c1", "c2"}, {}, {}, {"c1", "c2"}},
      {{""}, {"c1"}, {}, {}, {"c1"}},  // ENTRYPOINT [""]
      {{}, {}, {}, {"a1"}, {"a1"}},
  };
  for (const auto& c : cases) {
    in_.image.entrypoint = c.entrypoint;
    in_.image.cmd = c.cmd;
    config_.clear_command();
    config_.clear_args();
    for (const auto& s : c.command)
      config_.add_command(s);
    for (const auto& s : c.args)
      config_.add_args(s);
    EXPECT_EQ(build().process->args, c.want);
  }
  in_.image = {};
  config_.clear_command();
  config_.clear_args();
  EXPECT_ERROR(buildError(), "no command specified");
}

TEST_F(ContainerSpecTest, EnvImageThenCriLaterWins) {
  in_.image.env = {"PATH=/img/bin", "A=image", "B=image"};
  auto* e = config_.add_envs();
  e->set_key("A");
  e->set_value("cri");
  e = config_.add_envs();
  e->set_key("C");
  e->set_value("x=y");
  auto s = build();
  EXPECT_EQ(s.process->env, (std::vector<std::string>{"PATH=/img/bin", "HOSTNAME=web-0", "A=cri",
                                                      "B=image", "C=x=y"}));
  config_.set_tty(true);
  sandbox_.set_hostname("");
  in_.host.nodeHostname = "node1";
  s = build();
  EXPECT_TRUE(s.process->terminal);
  EXPECT_TRUE(contains(s.process->env, "TERM=xterm"));
  EXPECT_TRUE(contains(s.process->env, "HOSTNAME=node1"));
}

TEST(MergeEnv, ReplaceAppendUnset) {
  EXPECT_EQ(mergeEnv({"A=1", "B=2", "C=3"}, {"B=20", "D=4", "A", "B=21"}),
            (std::vector<std::string>{"B=21", "C=3", "D=4"}));
}

TEST_F(ContainerSpecTest, WorkingDirAndTerminal) {
  EXPECT_EQ(build().process->cwd, "/");
  EXPECT_FALSE(build().process->terminal);
  in_.image.workingDir = "/srv";
  EXPECT_EQ(build().process->cwd, "/srv");
  config_.set_working_dir("/work");
  EXPECT_EQ(build().process->cwd, "/work");
  config_.set_working_dir("rel");
  EXPECT_ERROR(buildError(), "working_dir \"rel\": must be absolute");
}

TEST_F(ContainerSpecTest, UserResolution) {
  struct Case {
    std::function<void(ContainerSpecTest&)> set;
    uint32_t uid, gid;
    std::vector<uint32_t> gids;
  };
  const Case cases[] = {
      {[](auto&) {}, 0, 0, {0, 10}},  // root is a member of wheel
      {[](auto& t) { t.sc()->mutable_run_as_user()->set_value(1000); }, 1000, 1001, {10, 50, 1001}},
      {[](auto& t) { t.sc()->mutable_run_as_user()->set_value(4242); }, 4242, 0, {0}},
      {[](auto& t) { t.sc()->set_run_as_username("app"); }, 1000, 1001, {10, 50, 1001}},
      {[](auto& t) {
         t.sc()->set_run_as_username("app");
         t.sc()->mutable_run_as_user()->set_value(5);  // the name wins
         t.sc()->mutable_run_as_group()->set_value(7);
       },
       1000,
       7,
       {7, 10, 50}},
      {[](auto& t) { t.in_.image.user = "app:staff"; }, 1000, 50, {10, 50}},
      {[](auto& t) { t.in_.image.user = "65534"; }, 65534, 65534, {65534}},
      {[](auto& t) {
         t.in_.image.user = "app";
         t.sc()->mutable_run_as_user()->set_value(0);  // CRI over the image
       },
       0,
       0,
       {0, 10}},
      {[](auto& t) {
         t.sc()->mutable_run_as_user()->set_value(1000);
         t.sc()->add_supplemental_groups(3000);
         t.sc()->add_supplemental_groups(10);
       },
       1000,
       1001,
       {10, 50, 1001, 3000}},
      {[](auto& t) {
         t.sc()->mutable_run_as_user()->set_value(1000);
         t.sc()->add_supplemental_groups(3000);
         t.sc()->set_supplemental_groups_policy(v1::Strict);  // no /etc/group memberships
       },
       1000,
       1001,
       {1001, 3000}},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    SCOPED_TRACE(i);
    config_.mutable_linux()->clear_security_context();
    in_.image.user.clear();
    cases[i].set(*this);
    auto s = build();
    EXPECT_EQ(s.process->user.uid, cases[i].uid);
    EXPECT_EQ(s.process->user.gid, cases[i].gid);
    EXPECT_EQ(s.process->user.additionalGids, cases[i].gids);
  }
}

TEST_F(ContainerSpecTest, UserErrorsNameTheField) {
  sc()->set_run_as_username("nobody2");
  EXPECT_EQ(buildError().message(), "run_as_username \"nobody2\": no such user in /etc/passwd");
  config_.clear_linux();
  sc()->mutable_run_as_group()->set_value(5);
  EXPECT_ERROR(buildError(), "run_as_group 5 is set without run_as_user or run_as_username");
  config_.clear_linux();
  in_.image.user = "app:nogroup";
  EXPECT_ERROR(buildError(), "image User \"app:nogroup\": no such group \"nogroup\"");
  in_.image.user = "";
  sc()->mutable_run_as_user()->set_value(-1);
  EXPECT_ERROR(buildError(), "run_as_user -1: uid out of range");
  sc()->mutable_run_as_user()->set_value(1000);
  sc()->add_supplemental_groups(-3);
  EXPECT_ERROR(buildError(), "supplemental_groups: gid -3 out of range");
}

TEST_F(ContainerSpecTest, PodFilesAndShm) {
  in_.pod.hostsPath = (dir_ / "pod/hosts").string();
  in_.pod.resolvConfPath = (dir_ / "pod/resolv.conf").string();
  in_.pod.hostnamePath = (dir_ / "pod/hostname").string();
  in_.pod.shmPath = (dir_ / "pod").string();
  sc()->set_readonly_rootfs(true);
  auto s = build();
  for (const char* f : {"/etc/hosts", "/etc/resolv.conf", "/etc/hostname"}) {
    const ocispec::Mount* m = mountAt(s, f);
    ASSERT_NE(m, nullptr) << f;
    EXPECT_EQ(m->type, "bind");
    EXPECT_EQ(m->options, (std::vector<std::string>{"rbind", "rprivate", "ro"}));
  }
  const ocispec::Mount* shm = mountAt(s, "/dev/shm");
  ASSERT_NE(shm, nullptr);
  EXPECT_EQ(shm->source, (dir_ / "pod").string());
  EXPECT_EQ(shm->type, "bind");
  EXPECT_TRUE(s.root->readonly);

  // No pod shm: the default tmpfs stays. Host IPC: the host's /dev/shm.
  in_.pod.shmPath.clear();
  s = build();
  EXPECT_EQ(mountAt(s, "/dev/shm")->type, "tmpfs");
  sc()->mutable_namespace_options()->set_ipc(v1::NODE);
  s = build();
  EXPECT_EQ(mountAt(s, "/dev/shm")->source, "/dev/shm");
  EXPECT_EQ(ns(s, "ipc"), nullptr);
}

TEST_F(ContainerSpecTest, CriMountOverridesPodFile) {
  in_.pod.hostsPath = (dir_ / "pod/hosts").string();
  auto* m = config_.add_mounts();
  m->set_container_path("/etc/hosts/");
  m->set_host_path((dir_ / "pod/resolv.conf").string());
  auto s = build();
  int n = 0;
  for (const auto& mt : s.mounts)
    n += mt.destination.starts_with("/etc/hosts");
  EXPECT_EQ(n, 1);
  EXPECT_EQ(mountAt(s, "/etc/hosts/")->source, (dir_ / "pod/resolv.conf").string());
}

struct PropagationCase {
  const char* hostDir;
  v1::MountPropagation propagation;
  const char* option;  // nullptr: error
  const char* error;
};

TEST_F(ContainerSpecTest, MountPropagationChecksTheHostMount) {
  const PropagationCase cases[] = {
      {"private/vol", v1::PROPAGATION_PRIVATE, "rprivate", nullptr},
      {"shared/vol", v1::PROPAGATION_BIDIRECTIONAL, "rshared", nullptr},
      {"shared/vol", v1::PROPAGATION_HOST_TO_CONTAINER, "rslave", nullptr},
      {"slave/vol", v1::PROPAGATION_HOST_TO_CONTAINER, "rslave", nullptr},
      {"slave/vol", v1::PROPAGATION_BIDIRECTIONAL, nullptr, "but it is not a shared mount"},
      {"private/vol", v1::PROPAGATION_HOST_TO_CONTAINER, nullptr,
       "but it is not a shared or slave mount"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.hostDir);
    config_.clear_mounts();
    auto* m = config_.add_mounts();
    m->set_container_path("/data");
    m->set_host_path((dir_ / c.hostDir).string());
    m->set_propagation(c.propagation);
    if (!c.option) {
      Error e = buildError();
      EXPECT_ERROR(e, "mounts[0] (/data): path \"" + (dir_ / c.hostDir).string() +
                          "\" is mounted on \"" + (dir_ / c.hostDir).parent_path().string());
      EXPECT_ERROR(e, c.error);
      EXPECT_EQ(e.code(), Code::kFailedPrecondition);
      continue;
    }
    auto s = build();
    const ocispec::Mount* mt = mountAt(s, "/data");
    ASSERT_NE(mt, nullptr);
    EXPECT_EQ(mt->options, (std::vector<std::string>{"rbind", c.option, "rw"}));
    if (std::string(c.option) == "rprivate")
      EXPECT_FALSE(s.linux->rootfsPropagation);
    else
      EXPECT_EQ(s.linux->rootfsPropagation, c.option);
  }
}

TEST_F(ContainerSpecTest, MountOptionsAndErrors) {
  auto* m = config_.add_mounts();
  m->set_container_path("/ro");
  m->set_host_path((dir_ / "private/vol").string());
  m->set_readonly(true);
  m->set_selinux_relabel(true);
  m = config_.add_mounts();
  m->set_container_path("/rro");
  m->set_host_path((dir_ / "private/vol").string());
  m->set_readonly(true);
  m->set_recursive_read_only(true);
  auto s = build();
  EXPECT_EQ(mountAt(s, "/ro")->options, (std::vector<std::string>{"rbind", "rprivate", "ro"}));
  EXPECT_EQ(mountAt(s, "/rro")->options, (std::vector<std::string>{"rbind", "rprivate", "rro"}));
  in_.host.seLinuxEnabled = true;
  s = build();
  EXPECT_EQ(mountAt(s, "/ro")->options, (std::vector<std::string>{"rbind", "rprivate", "ro", "z"}));

  config_.mutable_mounts(1)->set_readonly(false);
  EXPECT_ERROR(buildError(), "mounts[1] (/rro): recursive_read_only needs readonly");
  config_.mutable_mounts(1)->set_readonly(true);
  config_.mutable_mounts(1)->set_propagation(v1::PROPAGATION_HOST_TO_CONTAINER);
  config_.mutable_mounts(1)->set_host_path((dir_ / "shared/vol").string());
  EXPECT_ERROR(buildError(), "recursive_read_only needs PROPAGATION_PRIVATE");
  config_.mutable_mounts(1)->set_propagation(v1::PROPAGATION_PRIVATE);
  config_.mutable_mounts(1)->set_container_path("relative");
  EXPECT_ERROR(buildError(), "mounts[1].container_path \"relative\": must be absolute");
  config_.mutable_mounts(1)->set_container_path("/x");
  config_.mutable_mounts(1)->set_host_path("");
  EXPECT_ERROR(buildError(), "mounts[1] (/x): host_path is empty");
  config_.mutable_mounts(1)->set_host_path("/tmp");
  config_.mutable_mounts(1)->add_uidmappings()->set_length(1);
  EXPECT_ERROR(buildError(), "mounts[1] (/x): idmap mounts are not supported");
}

TEST_F(ContainerSpecTest, MountsSortedParentsFirstAndMissingSourcesReported) {
  for (const char* dst : {"/a/b/c", "/a", "/a/b"}) {
    auto* m = config_.add_mounts();
    m->set_container_path(dst);
    m->set_host_path((dir_ / "private/new" / (dst + 1)).string());
  }
  in_.image.volumes = {"/var/data", "cache"};
  auto r = buildContainerSpec(in_);
  ASSERT_TRUE(r) << r.error().message();
  std::vector<std::string> binds;
  for (const auto& m : r->spec.mounts)
    if (m.type == "bind") binds.push_back(m.destination);
  EXPECT_EQ(binds, (std::vector<std::string>{"/a", "/cache", "/a/b", "/var/data", "/a/b/c"}));
  // Defaults come first, untouched.
  EXPECT_EQ(r->spec.mounts[0].destination, "/proc");
  // Three missing CRI sources and two volume directories.
  ASSERT_EQ(r->hostDirsToCreate.size(), 5u);
  for (const auto& d : r->hostDirsToCreate)
    EXPECT_FALSE(fs::exists(d)) << d;
  EXPECT_TRUE(r->hostDirsToCreate[3].starts_with((dir_ / "ctr/volumes/").string()));
  EXPECT_NE(r->hostDirsToCreate[3], r->hostDirsToCreate[4]);

  // A CRI mount at an image volume's path replaces the volume.
  config_.clear_mounts();
  auto* m = config_.add_mounts();
  m->set_container_path("/var/data");
  m->set_host_path((dir_ / "private/vol").string());
  r = buildContainerSpec(in_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->hostDirsToCreate.size(), 1u);
  in_.containerDir.clear();
  EXPECT_ERROR(buildError(), "image volume /cache: no container directory");
}

TEST(SortMounts, ByDepthStable) {
  std::vector<ocispec::Mount> ms(4);
  ms[0].destination = "/a/b";
  ms[1].destination = "/z";
  ms[2].destination = "/a/";
  ms[3].destination = "/a/b/../c";
  sortMountsByDepth(ms);
  EXPECT_EQ(ms[0].destination, "/z");
  EXPECT_EQ(ms[1].destination, "/a/");
  EXPECT_EQ(ms[2].destination, "/a/b");
  EXPECT_EQ(ms[3].destination, "/a/b/../c");
}

TEST_F(ContainerSpecTest, DevMountReplacesDefaultDevTree) {
  auto* m = config_.add_mounts();
  m->set_container_path("/dev");
  m->set_host_path("/dev");
  auto s = build();
  for (const auto& mt : s.mounts)
    EXPECT_FALSE(mt.destination.starts_with("/dev/")) << mt.destination;
  EXPECT_EQ(mountAt(s, "/dev")->type, "bind");
}

TEST_F(ContainerSpecTest, Namespaces) {
  auto s = build();
  EXPECT_EQ(ns(s, "network")->path, "/run/berth/ns/pod1/net");
  EXPECT_EQ(ns(s, "ipc")->path, "/run/berth/ns/pod1/ipc");
  EXPECT_EQ(ns(s, "uts")->path, "/run/berth/ns/pod1/uts");
  // POD is the proto's default pid mode: the pod's shared PID namespace.
  EXPECT_EQ(ns(s, "pid")->path, "/run/berth/ns/pod1/pid");
  EXPECT_NE(ns(s, "mount"), nullptr);
  EXPECT_EQ(ns(s, "cgroup"), nullptr);

  auto* opts = sc()->mutable_namespace_options();
  opts->set_pid(v1::CONTAINER);
  s = build();
  EXPECT_FALSE(ns(s, "pid")->path);
  opts->set_pid(v1::NODE);
  opts->set_network(v1::NODE);
  in_.pod.utsnsPath.clear();
  s = build();
  EXPECT_EQ(ns(s, "pid"), nullptr);
  EXPECT_EQ(ns(s, "network"), nullptr);
  EXPECT_EQ(ns(s, "uts"), nullptr);
  opts->set_pid(v1::TARGET);
  opts->set_target_id("other");
  in_.pod.targetPidnsPath = "/proc/42/ns/pid";
  EXPECT_EQ(build().findNamespace("pid")->path, "/proc/42/ns/pid");
  in_.pod.targetPidnsPath.clear();
  EXPECT_ERROR(buildError(), "namespace_options.target_id \"other\": no pid namespace");
  opts->set_network(v1::CONTAINER);
  opts->set_pid(v1::CONTAINER);
  EXPECT_ERROR(buildError(), "namespace_options.network: mode CONTAINER is not allowed");
  opts->set_network(v1::POD);
  in_.pod.netnsPath.clear();
  EXPECT_ERROR(buildError(), "namespace_options.network: the pod has no network namespace");
  in_.pod.netnsPath = "/n";
  in_.pod.utsnsPath = "/u";
  opts->mutable_userns_options()->set_mode(v1::POD);
  EXPECT_ERROR(buildError(), "user namespaces (mode POD) are not supported");
  opts->clear_userns_options();
  in_.host.cgroupV2Unified = true;
  EXPECT_NE(build().findNamespace("cgroup"), nullptr);
}

TEST_F(ContainerSpecTest, PidModePodNeedsTheSharedNamespace) {
  sc()->mutable_namespace_options()->set_pid(v1::POD);
  in_.pod.pidnsPath.clear();
  EXPECT_ERROR(buildError(), "namespace_options.pid: mode POD but the pod has no shared pid");
}

// critest and older kubelets send no namespace options for a container: POD then means the
// pod's namespaces, the node's ones for a host-network pod (containerd joins the sandbox's).
TEST_F(ContainerSpecTest, PodModeFollowsAHostNetworkPod) {
  auto* podNs = sandbox_.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  podNs->set_network(v1::NODE);
  podNs->set_ipc(v1::NODE);
  podNs->set_pid(v1::CONTAINER);
  in_.pod.netnsPath.clear();
  in_.pod.ipcnsPath.clear();
  in_.pod.utsnsPath.clear();
  in_.pod.pidnsPath.clear();
  sc()->mutable_namespace_options()->set_pid(v1::POD);
  auto s = build();
  EXPECT_EQ(s.findNamespace("network"), nullptr);
  EXPECT_EQ(s.findNamespace("ipc"), nullptr);
  EXPECT_EQ(s.findNamespace("uts"), nullptr);
  ASSERT_NE(s.findNamespace("pid"), nullptr) << "the container's own, as a pause's would be";
  EXPECT_FALSE(s.findNamespace("pid")->path);
  podNs->set_pid(v1::NODE);
  EXPECT_EQ(build().findNamespace("pid"), nullptr);
}

// The built-in RuntimeDefault refuses what reaches past the container unless its capabilities
// make the call legitimate: mount and namespace-creating clone need CAP_SYS_ADMIN.
TEST(DefaultSeccomp, CapabilitiesLiftTheirRules) {
  auto denied = [](const ocispec::Seccomp& p, const std::string& name) {
    for (const auto& r : p.syscalls) {
      if (r.args.empty() && std::find(r.names.begin(), r.names.end(), name) != r.names.end())
        return r.action == "SCMP_ACT_ERRNO";
    }
    return false;
  };
  auto plain = defaultSeccompProfile({"CAP_CHOWN", "CAP_NET_BIND_SERVICE"});
  EXPECT_TRUE(denied(plain, "mount"));
  EXPECT_TRUE(denied(plain, "kexec_load"));
  EXPECT_TRUE(denied(plain, "keyctl"));
  EXPECT_FALSE(denied(plain, "read"));
  EXPECT_TRUE(denied(plain, "clone3")) << "ENOSYS, so the libc falls back to clone";
  size_t cloneRules = std::count_if(plain.syscalls.begin(), plain.syscalls.end(), [](auto& r) {
    return r.names == std::vector<std::string>{"clone"} && r.args.size() == 1 &&
           r.args[0].op == "SCMP_CMP_MASKED_EQ";
  });
  EXPECT_EQ(cloneRules, 7u) << "one per CLONE_NEW* flag";
  auto admin = defaultSeccompProfile({"CAP_SYS_ADMIN", "CAP_SYS_BOOT"});
  EXPECT_FALSE(denied(admin, "mount"));
  EXPECT_FALSE(denied(admin, "kexec_load"));
  EXPECT_FALSE(denied(admin, "clone3"));
  EXPECT_TRUE(denied(admin, "keyctl")) << "never allowed";
  EXPECT_TRUE(denied(admin, "init_module"));
}

TEST_F(ContainerSpecTest, CgroupsPath) {
  EXPECT_FALSE(build().linux->cgroupsPath);
  sandbox_.mutable_linux()->set_cgroup_parent("/kubepods/besteffort/pod1");
  EXPECT_EQ(build().linux->cgroupsPath, "/kubepods/besteffort/pod1/c0ffee");
  in_.host.cgroupDriver = CgroupDriver::kSystemd;
  sandbox_.mutable_linux()->set_cgroup_parent("/kubepods.slice/kubepods-pod1.slice");
  EXPECT_EQ(build().linux->cgroupsPath, "kubepods-pod1.slice:cri-berth:c0ffee");
  sandbox_.mutable_linux()->set_cgroup_parent("/kubepods/pod1");
  EXPECT_ERROR(buildError(), "cgroup_parent \"/kubepods/pod1\": the systemd cgroup driver");
}

TEST_F(ContainerSpecTest, Resources) {
  auto* r = config_.mutable_linux()->mutable_resources();
  r->set_cpu_period(100000);
  r->set_cpu_quota(50000);
  r->set_cpu_shares(512);
  r->set_cpuset_cpus("0-1");
  r->set_cpuset_mems("0");
  r->set_memory_limit_in_bytes(64 << 20);
  r->set_oom_score_adj(-500);
  auto* h = r->add_hugepage_limits();
  h->set_page_size("2MB");
  h->set_limit(0);
  (*r->mutable_unified())["memory.high"] = "1000000";
  auto s = build();
  const auto& res = *s.linux->resources;
  EXPECT_EQ(res.cpu->period, 100000u);
  EXPECT_EQ(res.cpu->quota, 50000);
  EXPECT_EQ(res.cpu->shares, 512u);
  EXPECT_EQ(res.cpu->cpus, "0-1");
  EXPECT_EQ(res.cpu->mems, "0");
  EXPECT_EQ(res.memory->limit, 64 << 20);
  EXPECT_FALSE(res.memory->swap);  // no swap controller here
  EXPECT_TRUE(res.hugepageLimits.empty());
  EXPECT_EQ(res.unified.at("memory.high"), "1000000");
  EXPECT_EQ(s.process->oomScoreAdj, -500);

  in_.host.swapControllerAvailable = true;
  in_.host.hugetlbControllerAvailable = true;
  in_.host.minOomScoreAdj = 0;  // this host can't go lower than the daemon
  s = build();
  EXPECT_EQ(s.linux->resources->memory->swap, 64 << 20);
  ASSERT_EQ(s.linux->resources->hugepageLimits.size(), 1u);
  r->set_memory_swap_limit_in_bytes(128 << 20);
  r->set_oom_score_adj(-999);
  in_.host.minOomScoreAdj = -100;
  s = build();
  EXPECT_EQ(s.linux->resources->memory->swap, 128 << 20);
  EXPECT_EQ(s.process->oomScoreAdj, -100);
  r->set_oom_score_adj(900);
  EXPECT_EQ(build().process->oomScoreAdj, 900);

  in_.host.hugetlbControllerAvailable = false;
  h->set_limit(2 << 20);
  EXPECT_ERROR(buildError(), "resources.hugepage_limits: the host has no hugetlb");
  h->set_limit(0);
  r->set_oom_score_adj(1001);
  EXPECT_ERROR(buildError(), "resources.oom_score_adj 1001");
}

TEST_F(ContainerSpecTest, MaskedAndReadonlyPaths) {
  auto s = build();
  EXPECT_TRUE(s.linux->maskedPaths.empty());  // the kubelet sends them; none sent, none masked
  sc()->add_masked_paths("/proc/kcore");
  sc()->add_readonly_paths("/proc/sys");
  s = build();
  EXPECT_EQ(s.linux->maskedPaths, (std::vector<std::string>{"/proc/kcore"}));
  EXPECT_EQ(s.linux->readonlyPaths, (std::vector<std::string>{"/proc/sys"}));
  in_.host.disableProcMount = true;
  s = build();
  EXPECT_EQ(s.linux->maskedPaths.size(), 11u);
  EXPECT_TRUE(contains(s.linux->maskedPaths, "/sys/firmware"));
  EXPECT_EQ(s.linux->readonlyPaths.size(), 5u);
}

TEST_F(ContainerSpecTest, Privileged) {
  sc()->set_privileged(true);
  sc()->add_masked_paths("/proc/kcore");
  sc()->mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  in_.host.defaultSeccomp = ocispec::Seccomp{.defaultAction = "SCMP_ACT_ERRNO"};
  EXPECT_ERROR(buildError(), "privileged: no privileged container allowed in a sandbox");
  sandbox_.mutable_linux()->mutable_security_context()->set_privileged(true);
  auto s = build();
  EXPECT_EQ(s.process->capabilities->bounding, in_.host.allCapabilities);
  EXPECT_EQ(s.process->capabilities->effective, in_.host.allCapabilities);
  EXPECT_TRUE(s.linux->maskedPaths.empty());
  EXPECT_TRUE(contains(mountAt(s, "/sys")->options, "rw"));
  EXPECT_TRUE(contains(mountAt(s, "/sys/fs/cgroup")->options, "rw"));
  EXPECT_FALSE(s.linux->seccomp);
  ASSERT_EQ(s.linux->resources->devices.size(), 1u);
  EXPECT_TRUE(s.linux->resources->devices[0].allow);
  bool hasNull = false;
  for (const auto& d : s.linux->devices)
    hasNull = hasNull || d.path == "/dev/null";
  EXPECT_TRUE(hasNull);
}

struct CapCase {
  std::vector<std::string> add, drop;
  std::vector<std::string> want;  // bounding
};

TEST_F(ContainerSpecTest, Capabilities) {
  auto s = build();
  EXPECT_EQ(s.process->capabilities->bounding.size(), 14u);
  EXPECT_TRUE(s.process->capabilities->ambient.empty());
  const CapCase cases[] = {
      {{"ALL"}, {"chown"}, {"CAP_SYS_ADMIN", "CAP_NET_ADMIN"}},
      {{"NET_ADMIN", "cap_sys_time"}, {"ALL"}, {"CAP_NET_ADMIN", "CAP_SYS_TIME"}},
      {{}, {"ALL"}, {}},
  };
  for (const auto& c : cases) {
    auto* caps = sc()->mutable_capabilities();
    caps->Clear();
    for (const auto& a : c.add)
      caps->add_add_capabilities(a);
    for (const auto& d : c.drop)
      caps->add_drop_capabilities(d);
    s = build();
    EXPECT_EQ(s.process->capabilities->bounding, c.want);
    EXPECT_EQ(s.process->capabilities->permitted, c.want);
  }
  sc()->mutable_capabilities()->Clear();
  sc()->mutable_capabilities()->add_drop_capabilities("NET_RAW");
  sc()->mutable_capabilities()->add_add_capabilities("SYS_PTRACE");
  s = build();
  EXPECT_FALSE(contains(s.process->capabilities->effective, "CAP_NET_RAW"));
  EXPECT_TRUE(contains(s.process->capabilities->effective, "CAP_SYS_PTRACE"));
  sc()->mutable_capabilities()->add_add_capabilities("MAKE_COFFEE");
  EXPECT_ERROR(buildError(),
               "capabilities.add_capabilities[1]: unknown capability \"MAKE_COFFEE\"");
}

TEST_F(ContainerSpecTest, NoNewPrivsAndNoRlimits) {
  auto s = build();
  EXPECT_FALSE(s.process->noNewPrivileges);
  EXPECT_TRUE(s.process->rlimits.empty());
  EXPECT_FALSE(s.root->readonly);
  sc()->set_no_new_privs(true);
  EXPECT_TRUE(build().process->noNewPrivileges);
}

TEST_F(ContainerSpecTest, Seccomp) {
  write("seccomp/profile.json",
        R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],)"
        R"("action":"SCMP_ACT_ERRNO","errnoRet":1}]})");
  write("seccomp/bad.json", R"({"defaultAction":"SCMP_ACT_BOGUS"})");
  in_.host.defaultSeccomp = ocispec::Seccomp{.defaultAction = "SCMP_ACT_ERRNO"};
  EXPECT_FALSE(build().linux->seccomp);  // not asked for: none (containerd)
  auto* p = sc()->mutable_seccomp();
  p->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  EXPECT_EQ(build().linux->seccomp->defaultAction, "SCMP_ACT_ERRNO");
  p->set_profile_type(v1::SecurityProfile::Unconfined);
  EXPECT_FALSE(build().linux->seccomp);
  p->set_profile_type(v1::SecurityProfile::Localhost);
  p->set_localhost_ref((dir_ / "seccomp/profile.json").string());
  auto s = build();
  ASSERT_TRUE(s.linux->seccomp);
  EXPECT_EQ(s.linux->seccomp->defaultAction, "SCMP_ACT_ALLOW");
  EXPECT_EQ(s.linux->seccomp->syscalls[0].names[0], "mkdir");
  p->set_localhost_ref((dir_ / "seccomp/bad.json").string());
  EXPECT_ERROR(buildError(),
               "seccomp Localhost: seccomp profile " + (dir_ / "seccomp/bad.json").string());
  p->set_localhost_ref((dir_ / "seccomp/missing.json").string());
  EXPECT_ERROR(buildError(), "missing.json");
  p->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  EXPECT_ERROR(buildError(), "seccomp.localhost_ref: only allowed with profile_type Localhost");

  // The deprecated string field, used only when the profile message is absent.
  sc()->clear_seccomp();
  struct Legacy {
    std::string path;
    std::optional<std::string> action;
  } legacy[] = {{"runtime/default", "SCMP_ACT_ERRNO"},
                {"docker/default", "SCMP_ACT_ERRNO"},
                {"unconfined", std::nullopt},
                {"localhost/" + (dir_ / "seccomp/profile.json").string(), "SCMP_ACT_ALLOW"}};
  for (const auto& l : legacy) {
    sc()->set_seccomp_profile_path(l.path);
    s = build();
    if (l.action)
      EXPECT_EQ(s.linux->seccomp->defaultAction, *l.action) << l.path;
    else
      EXPECT_FALSE(s.linux->seccomp) << l.path;
  }
  sc()->set_seccomp_profile_path("bogus");
  EXPECT_ERROR(buildError(), "seccomp_profile_path \"bogus\"");
  sc()->set_seccomp_profile_path("runtime/default");
  in_.host.defaultSeccomp.reset();
  {
    // Neither configured: berth's built-in default (default_seccomp.h).
    auto builtIn = build().linux->seccomp;
    ASSERT_TRUE(builtIn);
    EXPECT_EQ(builtIn->defaultAction, "SCMP_ACT_ALLOW");
    EXPECT_NE(builtIn->syscalls.at(0).names, std::vector<std::string>{});
  }
  in_.host.defaultSeccompFile = dir_ / "seccomp/profile.json";
  EXPECT_EQ(build().linux->seccomp->defaultAction, "SCMP_ACT_ALLOW");
  in_.host.defaultSeccompFile = dir_ / "seccomp/bad.json";
  EXPECT_ERROR(buildError(), "seccomp RuntimeDefault: seccomp profile");
  in_.host.defaultSeccompFile.clear();
  // A profile is one JSON object, not text spliced into a document.
  write("seccomp/spliced.json", R"({"defaultAction":"SCMP_ACT_ALLOW"}}, "x": {"y": 1)");
  sc()->set_seccomp_profile_path("localhost/" + (dir_ / "seccomp/spliced.json").string());
  EXPECT_ERROR(buildError(), "spliced.json: not valid JSON");
  sc()->set_seccomp_profile_path("runtime/default");
  in_.host.seccompEnabled = false;
  EXPECT_ERROR(buildError(), "seccomp: the host has no seccomp support");
  sc()->set_seccomp_profile_path("unconfined");
  EXPECT_FALSE(build().linux->seccomp);
}

TEST_F(ContainerSpecTest, AppArmor) {
  // No AppArmor on the host: the default is skipped, a named profile is an error.
  EXPECT_FALSE(build().process->apparmorProfile);
  sc()->mutable_apparmor()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  EXPECT_FALSE(build().process->apparmorProfile);
  sc()->mutable_apparmor()->set_profile_type(v1::SecurityProfile::Localhost);
  sc()->mutable_apparmor()->set_localhost_ref("my-prof");
  Error e = buildError();
  EXPECT_ERROR(e, "apparmor profile \"my-prof\": the host has no AppArmor");
  EXPECT_EQ(e.code(), Code::kFailedPrecondition);

  in_.host.appArmorEnabled = true;
  write("apparmor/profiles", "berth-default (enforce)\nmy-prof (enforce)\n");
  in_.host.appArmorProfilesFile = dir_ / "apparmor/profiles";
  EXPECT_EQ(build().process->apparmorProfile, "my-prof");
  sc()->mutable_apparmor()->set_localhost_ref("localhost/other");
  EXPECT_ERROR(buildError(), "apparmor profile \"other\": not loaded");
  sc()->clear_apparmor();
  EXPECT_EQ(build().process->apparmorProfile, "berth-default");
  sc()->set_apparmor_profile("unconfined");
  EXPECT_FALSE(build().process->apparmorProfile);
  sc()->set_apparmor_profile("localhost/my-prof");
  EXPECT_EQ(build().process->apparmorProfile, "my-prof");
}

TEST_F(ContainerSpecTest, Devices) {
  auto* d = config_.add_devices();
  d->set_host_path("/dev/null");
  d->set_container_path("/dev/xnull");
  d->set_permissions("rw");
  auto s = build();
  ASSERT_EQ(s.linux->devices.size(), 1u);
  EXPECT_EQ(s.linux->devices[0].path, "/dev/xnull");
  EXPECT_EQ(s.linux->devices[0].major, 1);
  EXPECT_EQ(s.linux->devices[0].minor, 3);
  const auto& rules = s.linux->resources->devices;
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_FALSE(rules[0].allow);  // deny all first
  EXPECT_TRUE(rules[1].allow);
  EXPECT_EQ(rules[1].type, "c");
  EXPECT_EQ(rules[1].major, 1);
  EXPECT_EQ(rules[1].access, "rw");

  EXPECT_EQ(s.linux->devices[0].uid, 0u);
  sc()->mutable_run_as_user()->set_value(1000);
  sc()->mutable_run_as_group()->set_value(2000);
  in_.host.deviceOwnershipFromSecurityContext = true;
  s = build();
  EXPECT_EQ(s.linux->devices[0].uid, 1000u);
  EXPECT_EQ(s.linux->devices[0].gid, 2000u);

  d->set_permissions("rwx");
  EXPECT_ERROR(buildError(), "devices[0].permissions \"rwx\": only r, w and m");
  d->set_permissions("r");
  d->set_host_path("/dev/berth-no-such-device");
  Error e = buildError();
  EXPECT_ERROR(e, "devices[0] (/dev/berth-no-such-device): no such device on the host");
  EXPECT_EQ(e.code(), Code::kNotFound);
  d->set_host_path((dir_ / "mountinfo").string());
  EXPECT_ERROR(buildError(), "not a device node");
}

TEST_F(ContainerSpecTest, AnnotationsAndSysctls) {
  (*config_.mutable_annotations())["io.kubernetes.container.hash"] = "abc";
  (*sandbox_.mutable_linux()->mutable_sysctls())["net.ipv4.ip_forward"] = "1";
  auto s = build();
  EXPECT_EQ(s.annotations.at("io.kubernetes.container.hash"), "abc");
  EXPECT_EQ(s.annotations.at("io.kubernetes.cri.container-type"), "container");
  EXPECT_EQ(s.annotations.at("io.kubernetes.cri.sandbox-id"), "pod1");
  EXPECT_EQ(s.annotations.at("io.kubernetes.cri.sandbox-name"), "web-0");
  EXPECT_EQ(s.annotations.at("io.kubernetes.cri.sandbox-namespace"), "default");
  EXPECT_EQ(s.annotations.at("io.kubernetes.cri.sandbox-uid"), "uid-1");
  EXPECT_EQ(s.annotations.at("io.kubernetes.cri.container-name"), "app");
  EXPECT_EQ(s.annotations.at("io.kubernetes.cri.image-name"), "registry.local/busybox:1");
  EXPECT_EQ(s.linux->sysctl.at("net.ipv4.ip_forward"), "1");
  EXPECT_EQ(s.root->path, (dir_ / "rootfs").string());

  // Pod annotations only through the handler's patterns.
  (*sandbox_.mutable_annotations())["io.katacontainers.config.x"] = "1";
  (*sandbox_.mutable_annotations())["other"] = "2";
  EXPECT_FALSE(build().annotations.contains("io.katacontainers.config.x"));
  in_.host.podAnnotationPatterns = {"io.katacontainers.*"};
  s = build();
  EXPECT_EQ(s.annotations.at("io.katacontainers.config.x"), "1");
  EXPECT_FALSE(s.annotations.contains("other"));
}

TEST_F(ContainerSpecTest, ConfigsAreRequired) {
  in_.config = nullptr;
  EXPECT_ERROR(buildError(), "container config and pod sandbox config are required");
}

TEST_F(ContainerSpecTest, RootfsMustBeAbsolute) {
  in_.rootfs = "rootfs";
  EXPECT_ERROR(buildError(), "rootfs \"rootfs\": must be an absolute path");
}

}  // namespace
}  // namespace berth::cri
