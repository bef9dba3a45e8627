// Container-escape attempts against the runtime itself (the classic runc CVEs), each made from
// inside a real container.
#include <unistd.h>

#include <fstream>

#include "common/file_util.h"
#include "tests/integration/runtime_fixture.h"

namespace berth::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

class Escape : public RuntimeTest {};

TEST_F(Escape, RuntimeBinaryIsNotReachableThroughProcExe) {
  // CVE-2019-5736: until the user process execs, the container's init is the runtime's binary;
  // a container process that opens /proc/<pid>/exe then could rewrite the host's binary. After
  // `create` the init waits on exec.fifo as pid 1: a process exec'd into the container tries.
  writeConfig(defaultConfig({"true"}));
  ASSERT_EQ(runtimeDetached({"create", "c"}).code, 0);
  auto r = runtime({"exec", "c", "sh", "-c",
                    "readlink /proc/1/exe && echo reachable; "
                    "cat /proc/1/exe > /dev/null 2>&1 && echo readable; echo done"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "done\n") << "the runtime binary was reachable from the container";
}

TEST_F(Escape, NoHostDirectoryAsWorkingDirectory) {
  // CVE-2024-21626: a cwd of /proc/self/fd/<n> would land on a leaked host directory fd.
  for (int fd = 3; fd < 10; ++fd) {
    auto c = defaultConfig({"pwd"});
    c["process"]["cwd"] = fmt::format("/proc/self/fd/{}", fd);
    auto r = runContainer(c, fmt::format("cwd{}", fd));
    EXPECT_EQ(r.out.find("(unreachable)"), std::string::npos) << r.out;
    EXPECT_NE(r.code, 0) << "cwd " << fd << " was accepted: " << r.out;
  }
}

TEST_F(Escape, ProcMountOnSymlinkedTargetIsRefused) {
  // CVE-2019-16884 / CVE-2023-27561 shape: /proc in the image points somewhere else.
  auto root = dir() / "evil";
  fs::create_directories(root / "bin");
  fs::copy_file(rootfs() / "bin" / "busybox", root / "bin" / "sh");
  fs::create_directories(root / "host-proc-target");
  fs::create_symlink("/host-proc-target", root / "proc");
  auto c = defaultConfig({"sh", "-c", "true"});
  c["root"]["path"] = root.string();
  auto r = runContainer(c);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("ordinary directory"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(root / "host-proc-target"));
}

TEST_F(Escape, MaskedPathCannotBeUnmaskedEvenWithSysAdmin) {
  // Masks are mounts in the container's namespace: with CAP_SYS_ADMIN a process could unmount
  // them, which is why the default caps leave it out; without it umount is refused.
  auto c = defaultConfig({"sh", "-c", "umount /proc/keys 2>&1; cat /proc/keys | wc -c"});
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Operation not permitted"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n0\n"), std::string::npos) << r.out;
}

TEST_F(Escape, MountTargetSwappedForASymlinkMidCreateStaysInside) {
  // CVE-2021-30465: two containers share a volume. A exchanges a directory of it with a symlink
  // to "/" (renameat2 RENAME_EXCHANGE in a tight loop, so the path flips at any instant) while B
  // is created again and again with a tmpfs mounted under that directory. Resolved fd-relative
  // inside B's rootfs, the mount lands in the volume or in B's own root, never on the host's /.
  fs::path vol = dir() / "vol";
  fs::create_directories(vol / "dir");
  fs::create_symlink("/", vol / "link");
  auto a = defaultConfig({"/swapper", "/vol/dir", "/vol/link", "/vol/stop"});
  a["mounts"].push_back({{"destination", "/vol"},
                         {"type", "bind"},
                         {"source", vol.string()},
                         {"options", {"rbind"}}});
  a["mounts"].push_back({{"destination", "/swapper"},
                         {"type", "bind"},
                         {"source", BERTH_ESCAPE_SWAPPER_PATH},
                         {"options", {"bind", "ro"}}});
  a["linux"]["cgroupsPath"] = a["linux"]["cgroupsPath"].get<std::string>() + "-a";
  writeConfig(a);
  ASSERT_EQ(runtimeDetached({"run", "-d", "swapper"}).code, 0);
  // B reports whether its tmpfs ended up at its own root, i.e. the create met the symlink.
  auto b = defaultConfig(
      {"sh", "-c", "grep -q ' /berth-escape-target ' /proc/mounts && echo swapped; true"});
  b["mounts"].push_back({{"destination", "/vol"},
                         {"type", "bind"},
                         {"source", vol.string()},
                         {"options", {"rbind"}}});
  b["mounts"].push_back(
      {{"destination", "/vol/dir/berth-escape-target"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  // Each create mounts in the directory, in B's root (the swap met), or fails on a vanished
  // path; none escapes.
  int failed = 0, swapped = 0;
  for (int i = 0; i < 60; ++i) {
    auto r = runContainer(b, fmt::format("b{}", i));
    failed += r.code != 0;
    swapped += r.out == "swapped\n";
  }
  RecordProperty("creates_that_failed", failed);
  RecordProperty("creates_that_met_the_symlink", swapped);
  std::ofstream(vol / "stop") << "";
  EXPECT_EQ(runtime({"delete", "--force", "swapper"}).code, 0);
  EXPECT_FALSE(fs::exists("/berth-escape-target"));
  EXPECT_TRUE(mountsUnder("/berth-escape-target").empty());
  for (const auto& m : mountsUnder("/"))
    EXPECT_EQ(m.find("berth-escape-target"), std::string::npos) << m;
  fs::remove_all(rootfs() / "berth-escape-target");
}

}  // namespace
}  // namespace berth::testing
