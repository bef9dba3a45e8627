#include "shim/cri_config.h"

#include <gtest/gtest.h>

#include "common/file_util.h"

namespace berth::cri {
namespace {

TEST(CriConfig, EmptyFileGivesDefaults) {
  auto c = parseCriConfig("");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->root, "/var/lib/berth/cri");
  EXPECT_EQ(c->state, "/run/berth");
  EXPECT_EQ(c->listen, "/run/berth/cri.sock");
  EXPECT_EQ(c->logLevel, "info");
  EXPECT_EQ(c->cgroupDriver, CgroupDriver::kCgroupfs);
  EXPECT_EQ(c->defaultRuntimeHandler, "berth-runtime");
  EXPECT_EQ(c->registryConfig, "/etc/berth/registries.yaml");
  EXPECT_EQ(c->imageRoot, "/var/lib/berth/images");
  EXPECT_EQ(c->cni.confDir, "/etc/cni/net.d");
  EXPECT_EQ(c->streamServer.address, "127.0.0.1");
  EXPECT_EQ(c->streamServer.port, 0);
  ASSERT_TRUE(finalizeCriConfig(*c));
  ASSERT_EQ(c->runtimeHandlers.size(), 1u);
  const auto& h = c->runtimeHandlers.at("berth-runtime");
  EXPECT_EQ(h.type, "runc-cli");
  EXPECT_EQ(h.path, "berth-runtime");
  EXPECT_EQ(h.root, "/run/berth/runtimes/berth-runtime");
}

TEST(CriConfig, EveryKey) {
  auto c = parseCriConfig(R"(
root: /srv/cri
state: /run/b
listen: /run/b/cri.sock
log_level: debug
cgroup_driver: systemd
disable_apparmor: true
runtime_handlers:
  berth-runtime:
    type: runc-cli
    path: /usr/bin/berth-runtime
  runc:
    path: /usr/sbin/runc
    root: /run/b/runc
default_runtime_handler: runc
cni:
  bin_dirs: [/opt/cni/bin]
  conf_dir: /etc/cni/other.d
registry_config: /etc/b/registries.yaml
image_root: /srv/images
stream_server:
  address: "::1"
  port: 10010
)");
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_TRUE(finalizeCriConfig(*c));
  EXPECT_EQ(c->root, "/srv/cri");
  EXPECT_EQ(c->state, "/run/b");
  EXPECT_EQ(c->listen, "/run/b/cri.sock");
  EXPECT_EQ(c->logLevel, "debug");
  EXPECT_EQ(c->cgroupDriver, CgroupDriver::kSystemd);
  ASSERT_EQ(c->runtimeHandlers.size(), 2u);
  EXPECT_EQ(c->runtimeHandlers.at("berth-runtime").path, "/usr/bin/berth-runtime");
  EXPECT_EQ(c->runtimeHandlers.at("berth-runtime").root, "/run/b/runtimes/berth-runtime");
  EXPECT_EQ(c->runtimeHandlers.at("runc").path, "/usr/sbin/runc");
  EXPECT_EQ(c->runtimeHandlers.at("runc").root, "/run/b/runc");
  EXPECT_EQ(c->defaultRuntimeHandler, "runc");
  ASSERT_EQ(c->cni.binDirs.size(), 1u);
  EXPECT_EQ(c->cni.binDirs[0], "/opt/cni/bin");
  EXPECT_EQ(c->cni.confDir, "/etc/cni/other.d");
  EXPECT_EQ(c->registryConfig, "/etc/b/registries.yaml");
  EXPECT_EQ(c->imageRoot, "/srv/images");
  EXPECT_EQ(c->streamServer.address, "::1");
  EXPECT_EQ(c->streamServer.port, 10010);

  auto json = toJson(*c);
  EXPECT_EQ(json["cgroup_driver"], "systemd");
  EXPECT_TRUE(c->disableAppArmor);
  EXPECT_EQ(json["disable_apparmor"], true);
  EXPECT_EQ(json["runtime_handlers"]["runc"]["root"], "/run/b/runc");
}

// The commented example shipped in the repo (the future /etc/berth/cri.yaml) stays valid.
TEST(CriConfig, ShippedExampleParses) {
  auto c = loadCriConfig(BERTH_CRI_EXAMPLE_CONFIG, true);
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_TRUE(finalizeCriConfig(*c));
  EXPECT_EQ(c->listen, "/run/berth/cri.sock");
  EXPECT_EQ(c->runtimeHandlers.size(), 2u);
  EXPECT_EQ(c->runtimeHandlers.at("runc").root, "/run/berth/runtimes/runc");
  EXPECT_EQ(c->cni.binDirs.size(), 2u);
}

TEST(CriConfig, BadInputNamesTheKey) {
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"rooot: /x\n", "rooot: unknown key (line 1)"},
      {"root: relative\n", "root: must be an absolute path, not \"relative\" (line 1)"},
      {"state: [a]\n", "state: must be a string, not a list (line 1)"},
      {"listen: sock\n", "listen: must be an absolute path, not \"sock\" (line 1)"},
      {"log_level: loud\n", "log_level: must be one of trace, debug, info, warn, error (line 1)"},
      {"cgroup_driver: v2\n", "cgroup_driver: must be cgroupfs or systemd (line 1)"},
      {"disable_apparmor: maybe\n", "disable_apparmor: must be true or false (line 1)"},
      {"runtime_handlers: {}\n", "runtime_handlers: must name at least one handler (line 1)"},
      {"runtime_handlers: [runc]\n", "runtime_handlers: must be a mapping, not a list (line 1)"},
      {"runtime_handlers:\n  Runc:\n    path: runc\n",
       "runtime_handlers.Runc: a handler name must be a DNS label (line 2)"},
      {"runtime_handlers:\n  runc: runc\n",
       "runtime_handlers.runc: must be a mapping, not a scalar (line 2)"},
      {"runtime_handlers:\n  runc:\n    type: shim-v2\n    path: runc\n",
       "runtime_handlers.runc.type: must be runc-cli (line 3)"},
      {"runtime_handlers:\n  runc:\n    type: runc-cli\n",
       "runtime_handlers.runc.path: is required"},
      {"runtime_handlers:\n  runc:\n    path: runc\n    root: run/runc\n",
       "runtime_handlers.runc.root: must be an absolute path, not \"run/runc\" (line 4)"},
      {"runtime_handlers:\n  runc:\n    path: runc\n    bin: x\n",
       "runtime_handlers.runc.bin: unknown key (line 4)"},
      {"runtime_handlers:\n  runc:\n    path: runc\n",
       "default_runtime_handler: \"berth-runtime\" is not in runtime_handlers"},
      {"runtime_handlers:\n  runc:\n    path: runc\ndefault_runtime_handler: crun\n",
       "default_runtime_handler: \"crun\" is not in runtime_handlers (line 4)"},
      {"cni:\n  bin_dirs: []\n", "cni.bin_dirs: must not be empty (line 2)"},
      {"cni:\n  bin_dirs: [opt/cni]\n",
       "cni.bin_dirs: \"opt/cni\" is not an absolute path (line 2)"},
      {"cni:\n  conf_dir: net.d\n",
       "cni.conf_dir: must be an absolute path, not \"net.d\" (line 2)"},
      {"cni:\n  confdir: /x\n", "cni.confdir: unknown key (line 2)"},
      {"registry_config: registries.yaml\n",
       "registry_config: must be an absolute path, not \"registries.yaml\" (line 1)"},
      {"image_root: images\n", "image_root: must be an absolute path, not \"images\" (line 1)"},
      {"stream_server:\n  address: localhost\n",
       "stream_server.address: must be an IP address, not \"localhost\" (line 2)"},
      {"stream_server:\n  port: 70000\n",
       "stream_server.port: must be an integer from 0 to 65535 (line 2)"},
      {"stream_server: 127.0.0.1:10010\n",
       "stream_server: must be a mapping, not a scalar (line 1)"},
      {"root: /a\nroot: /b\n", "root: duplicate key (line 2)"},
      {"- root\n", "document: must be a mapping, not a list (line 1)"},
  };
  for (const auto& c : cases) {
    auto r = parseCriConfig(c.yaml);
    ASSERT_FALSE(r) << c.yaml;
    EXPECT_EQ(r.error().message(), c.error) << c.yaml;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << c.yaml;
  }
}

TEST(CriConfig, LoadPrefixesThePathAndToleratesAMissingDefault) {
  auto dir =
      std::filesystem::path(::testing::TempDir()) / fmt::format("cri-config-test-{}", ::getpid());
  ASSERT_TRUE(makeDirs(dir));
  auto file = dir / "cri.yaml";
  ASSERT_TRUE(writeFile(file, "log_level: 3\n"));
  auto r = loadCriConfig(file, true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            file.string() + ": log_level: must be one of trace, debug, info, warn, error (line 1)");

  auto missing = dir / "absent.yaml";
  EXPECT_TRUE(loadCriConfig(missing, false));
  auto named = loadCriConfig(missing, true);
  ASSERT_FALSE(named);
  EXPECT_NE(named.error().message().find(missing.string()), std::string::npos);
  ASSERT_TRUE(removeAll(dir));
}

}  // namespace
}  // namespace berth::cri
