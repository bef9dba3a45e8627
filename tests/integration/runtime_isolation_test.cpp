// berth-runtime isolation, checked from inside real containers: each namespace isolates, the
// rootfs is set up as the spec says, and the process gets the credentials it asked for.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "common/file_util.h"
#include "tests/integration/runtime_fixture.h"

namespace berth::testing {
namespace {

using json = nlohmann::json;

class Isolation : public RuntimeTest {};

TEST_F(Isolation, RunPropagatesOutputAndExitStatus) {
  auto r = runContainer(defaultConfig({"sh", "-c", "echo hello; exit 3"}));
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_EQ(r.out, "hello\n");
}

TEST_F(Isolation, PidNamespaceMakesInitPidOne) {
  auto r = runContainer(defaultConfig({"sh", "-c", "echo $$; ls /proc | grep -c '^[0-9]'"}));
  ASSERT_EQ(r.code, 0) << r.err;
  // pid 1 and the ls/grep pipeline: no host process is visible.
  std::istringstream in(r.out);
  int self = 0, count = 0;
  in >> self >> count;
  EXPECT_EQ(self, 1);
  EXPECT_LE(count, 4);
}

TEST_F(Isolation, UtsNamespaceHasItsOwnHostname) {
  auto c = defaultConfig({"hostname"});
  c["hostname"] = "berth-test-host";
  c["domainname"] = "example.test";
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "berth-test-host\n");
  char host[256];
  ::gethostname(host, sizeof host);
  EXPECT_STRNE(host, "berth-test-host");
}

TEST_F(Isolation, NetworkNamespaceHasOnlyLoopback) {
  auto r = runContainer(defaultConfig({"ls", "/sys/class/net"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "lo\n");
}

TEST_F(Isolation, MountNamespaceShowsOnlyContainerMounts) {
  auto r = runContainer(defaultConfig({"cat", "/proc/self/mountinfo"}));
  ASSERT_EQ(r.code, 0) << r.err;
  // Field 5 is the mount point: only the container's own mounts, no host path.
  std::set<std::string> points;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::string a, b, c, root, point;
    f >> a >> b >> c >> root >> point;
    points.insert(point);
    EXPECT_EQ(point.rfind("/work", 0), std::string::npos) << line;
    EXPECT_EQ(point.rfind("/tmp/berth", 0), std::string::npos) << line;
  }
  for (const char* want : {"/", "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"})
    EXPECT_TRUE(points.count(want)) << want << " missing in\n" << r.out;
}

TEST_F(Isolation, IpcNamespaceIsPrivate) {
  auto c = defaultConfig({"readlink", "/proc/self/ns/ipc"});
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  char host[128] = {};
  ASSERT_GT(::readlink("/proc/self/ns/ipc", host, sizeof host - 1), 0);
  EXPECT_NE(r.out, std::string(host) + "\n");
}

TEST_F(Isolation, CgroupNamespaceRootIsTheContainerCgroup) {
  auto c = defaultConfig({"cat", "/proc/self/cgroup"});
  c["linux"]["namespaces"].push_back({{"type", "cgroup"}});
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  // Inside its own cgroup namespace the container sees itself at the root of every hierarchy.
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    EXPECT_EQ(line.substr(line.rfind(':')), ":/") << line;
}

TEST_F(Isolation, UserNamespaceMapsRoot) {
  auto c = defaultConfig({"sh", "-c", "id -u; cat /proc/self/uid_map"});
  addUserNamespace(c);
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream in(r.out);
  int uid = -1;
  long inside = -1, outside = -1, size = -1;
  in >> uid >> inside >> outside >> size;
  EXPECT_EQ(uid, 0);
  EXPECT_EQ(inside, 0);
  EXPECT_EQ(outside, 100000);
  EXPECT_EQ(size, 65536);
}

TEST_F(Isolation, JoinsAnExistingNamespaceByPath) {
  // A pod's pinned network namespace, here: the one of a first container.
  auto c1 = defaultConfig({"sleep", "1000"});
  c1["linux"]["cgroupsPath"] = c1["linux"]["cgroupsPath"].get<std::string>() + "-a";
  writeConfig(c1);
  ASSERT_EQ(runtimeDetached({"run", "-d", "a"}).code, 0);
  int pid = state("a")["pid"];
  std::string netns = fmt::format("/proc/{}/ns/net", pid);
  auto c2 = defaultConfig({"readlink", "/proc/self/ns/net"});
  for (auto& ns : c2["linux"]["namespaces"])
    if (ns["type"] == "network") ns["path"] = netns;
  auto r = runContainer(c2, "b");
  ASSERT_EQ(r.code, 0) << r.err;
  char want[128] = {};
  ASSERT_GT(::readlink(netns.c_str(), want, sizeof want - 1), 0);
  EXPECT_EQ(r.out, std::string(want) + "\n");
}

TEST_F(Isolation, MaskedAndReadonlyPaths) {
  auto c =
      defaultConfig({"sh", "-c",
                     "wc -c < /proc/keys; ls /sys/firmware | wc -l; "
                     "echo 1 > /proc/sys/kernel/domainname && echo writable || echo readonly"});
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "0\n0\nreadonly\n");
}

TEST_F(Isolation, MaskedPathCannotBeUnmasked) {
  // The container's root has no CAP_SYS_ADMIN: umount of the mask fails.
  auto r = runContainer(
      defaultConfig({"sh", "-c", "umount /proc/keys 2>/dev/null && echo unmasked || echo kept"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "kept\n");
}

TEST_F(Isolation, ReadonlyRootfs) {
  auto c = defaultConfig(
      {"sh", "-c",
       "touch /newfile && echo writable || echo readonly; touch /tmp/x 2>/dev/null; echo ok"});
  c["root"]["readonly"] = true;
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, 9), "readonly\n");
  EXPECT_FALSE(std::filesystem::exists(rootfs() / "newfile"));
}

TEST_F(Isolation, CapabilitiesAreDroppedToTheSpec) {
  auto c = defaultConfig({"grep", "-E", "^Cap(Eff|Bnd|Prm)", "/proc/self/status"});
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29).
  EXPECT_EQ(r.out,
            "CapPrm:\t0000000020000420\nCapEff:\t0000000020000420\nCapBnd:\t0000000020000420\n");
}

TEST_F(Isolation, NoNewPrivilegesAndUser) {
  auto c =
      defaultConfig({"sh", "-c", "id -u; id -g; id -G; grep NoNewPrivs /proc/self/status; pwd"});
  c["process"]["user"] = {{"uid", 1000}, {"gid", 1000}, {"additionalGids", {65534}}};
  c["process"]["cwd"] = "/home/berth";
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "1000\n1000\n1000 65534\nNoNewPrivs:\t1\n/home/berth\n");
}

TEST_F(Isolation, EnvRlimitsUmaskAndSysctl) {
  auto c = defaultConfig(
      {"sh", "-c", "echo $GREETING; ulimit -n; umask; cat /proc/sys/net/ipv4/ip_forward"});
  c["process"]["env"].push_back("GREETING=hi there");
  c["process"]["rlimits"] =
      json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 512}, {"soft", 256}}});
  c["process"]["user"]["umask"] = 077;
  c["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hi there\n256\n0077\n1\n");
}

TEST_F(Isolation, OomScoreAdjCanBeRaised) {
  auto c = defaultConfig({"cat", "/proc/self/oom_score_adj"});
  c["process"]["oomScoreAdj"] = 500;
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "500\n");
}

TEST_F(Isolation, DefaultDevicesAndSpecDevices) {
  auto c = defaultConfig({"sh", "-c",
                          "stat -c '%n %t:%T %a' /dev/null /dev/zero /dev/fuse-test; "
                          "readlink /dev/ptmx; readlink /dev/fd; echo x > /dev/null && echo ok"});
  c["linux"]["devices"] = json::array({{{"path", "/dev/fuse-test"},
                                        {"type", "c"},
                                        {"major", 10},
                                        {"minor", 229},
                                        {"fileMode", 0600}}});
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "/dev/null 1:3 666\n/dev/zero 1:5 666\n/dev/fuse-test a:e5 600\n"
            "pts/ptmx\n/proc/self/fd\nok\n");
}

TEST_F(Isolation, BindMountsWithOptions) {
  std::filesystem::create_directories(dir() / "data");
  std::ofstream(dir() / "data" / "file") << "from host";
  auto c = defaultConfig({"sh", "-c",
                          "cat /mnt/data/file; touch /mnt/data/new && echo rw || echo ro; "
                          "cat /mnt/one-file"});
  c["mounts"].push_back({{"destination", "/mnt/data"},
                         {"type", "bind"},
                         {"source", (dir() / "data").string()},
                         {"options", {"rbind", "ro", "nosuid"}}});
  c["mounts"].push_back({{"destination", "/mnt/one-file"},
                         {"type", "bind"},
                         {"source", (dir() / "data" / "file").string()},
                         {"options", {"bind"}}});
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "from hostro\nfrom host");
}

TEST_F(Isolation, MountDestinationSymlinkStaysInsideRootfs) {
  // CVE-2021-30465 shape: a destination through a symlink that points at the host's /.
  std::filesystem::create_directories(dir() / "data");
  auto link = rootfs() / "escape";
  std::filesystem::create_symlink("/", link);
  auto c = defaultConfig({"ls", "/escape/target-inside"});
  c["mounts"].push_back({{"destination", "/escape/target-inside"},
                         {"type", "bind"},
                         {"source", (dir() / "data").string()},
                         {"options", {"bind"}}});
  auto r = runContainer(c);
  std::filesystem::remove(link);
  ASSERT_EQ(r.code, 0) << r.err;
  // The mount point was created in the rootfs, not on the host.
  EXPECT_FALSE(std::filesystem::exists("/target-inside"));
  EXPECT_TRUE(std::filesystem::exists(rootfs() / "target-inside"));
  std::filesystem::remove(rootfs() / "target-inside");
}

TEST_F(Isolation, NoPivotUsesMoveAndChroot) {
  writeConfig(defaultConfig({"sh", "-c", "ls /bin/busybox && echo $$"}));
  auto r = runtime({"run", "--no-pivot", "np"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "/bin/busybox\n1\n");
}

TEST_F(Isolation, PreservedFdsReachTheContainer) {
  std::ofstream(dir() / "passed") << "through fd 3";
  writeConfig(defaultConfig({"sh", "-c", "cat <&3; ls /proc/self/fd | wc -l"}));
  // bash opens fd 3 for the runtime; only it and stdio (plus ls's own dir fd) reach the process.
  auto r = runtimeAfter(fmt::format("exec 3<{}", (dir() / "passed").string()),
                        {"run", "--preserve-fds", "1", "pf"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "through fd 35\n");
}

TEST_F(Isolation, HostFdsDoNotLeakIntoTheContainer) {
  // CVE-2024-21626: whatever the caller had open beyond stdio must not be inherited.
  writeConfig(defaultConfig({"ls", "/proc/self/fd"}));
  auto r = runtimeAfter("exec 7</etc/hostname 8</", {"run", "leak"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "0\n1\n2\n3\n");  // 3 is ls's own directory fd
}

TEST_F(Isolation, NewSessionKeyringUnlessNoNewKeyring) {
  // The keyring is named after the container ("_ses.<id>"), as runc names it.
  auto c = defaultConfig({"sh", "-c", "grep -c '_ses\\.kr:' /proc/keys || true"});
  c["linux"]["maskedPaths"] = json::array();  // /proc/keys is masked by default
  auto r = runContainer(c, "kr");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "1\n");
  c["process"]["args"] = {"sh", "-c", "grep -c '_ses\\.nokr:' /proc/keys || true"};
  writeConfig(c);
  auto kept = runtime({"run", "--no-new-keyring", "nokr"});
  ASSERT_EQ(kept.code, 0) << kept.err;
  EXPECT_EQ(kept.out, "0\n");
}

TEST_F(Isolation, TimeNamespaceWithOffsets) {
  if (!std::filesystem::exists("/proc/self/ns/time"))
    GTEST_SKIP() << "kernel without time namespaces";
  auto c = defaultConfig({"cut", "-d.", "-f1", "/proc/uptime"});
  c["linux"]["namespaces"].push_back({{"type", "time"}});
  c["linux"]["timeOffsets"] = {{"boottime", {{"secs", 86400 * 365}, {"nanosecs", 0}}}};
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  long inside = std::stol(r.out);
  std::ifstream host("/proc/uptime");
  double hostUptime = 0;
  host >> hostUptime;
  EXPECT_GE(inside, static_cast<long>(hostUptime) + 86400 * 365 - 5);
}

TEST_F(Isolation, ForegroundRunOwnsTheTerminal) {
  // No --console-socket: `run` receives the pty master itself and relays our stdio through it.
  auto c = defaultConfig({"sh", "-c", "tty; read x; echo got:$x; exit 4"});
  c["process"]["terminal"] = true;
  writeConfig(c);
  auto r = runtime({"run", "tty"}, "ping\n");
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.out.find("/dev/pts/0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("got:ping"), std::string::npos) << r.out;
}

TEST_F(Isolation, ListenFdsArePassedOn) {
  // A socket-activated caller (systemd's LISTEN_FDS/LISTEN_PID for the runtime itself).
  std::ofstream(dir() / "listen") << "activated";
  writeConfig(defaultConfig({"sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; cat <&3"}));
  auto r = runtimeAfter(
      fmt::format("exec 3<{} && export LISTEN_FDS=1 LISTEN_PID=$$", (dir() / "listen").string()),
      {"run", "lf"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "1 1\nactivated");
}

TEST_F(Isolation, RecursiveReadonlyBind) {
  // rro makes submounts of an rbind read-only too (mount_setattr AT_RECURSIVE).
  std::filesystem::create_directories(dir() / "outer" / "inner");
  std::filesystem::create_directories(dir() / "sub");
  auto c = defaultConfig({"sh", "-c",
                          "touch /mnt/x 2>/dev/null && echo outer-rw || echo outer-ro; "
                          "touch /mnt/inner/x 2>/dev/null && echo inner-rw || echo inner-ro"});
  c["mounts"].push_back({{"destination", "/mnt"},
                         {"type", "bind"},
                         {"source", (dir() / "outer").string()},
                         {"options", {"rbind", "rro"}}});
  // The submount comes from the host side: bind sub onto outer/inner first.
  SpawnOptions m;
  m.path = "mount";
  m.args = {"mount", "--bind", (dir() / "sub").string(), (dir() / "outer" / "inner").string()};
  ASSERT_TRUE(runProgram(m).value().status.success());
  auto r = runContainer(c);
  SpawnOptions u;
  u.path = "umount";
  u.args = {"umount", (dir() / "outer" / "inner").string()};
  (void)runProgram(u);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "outer-ro\ninner-ro\n");
}

TEST_F(Isolation, ReadonlyDevTmpfsStillGetsDevices) {
  auto c = defaultConfig({"sh", "-c",
                          "ls /dev/null /dev/pts/ptmx >/dev/null && echo devices; "
                          "touch /dev/x 2>/dev/null && echo rw || echo ro"});
  for (auto& m : c["mounts"])
    if (m["destination"] == "/dev") m["options"].push_back("ro");
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "devices\nro\n");
}

TEST_F(Isolation, ProcThroughASymlinkIsRefused) {
  // CVE-2019-16884 shape: the image makes /proc a symlink.
  auto root = dir() / "evil-rootfs";
  std::filesystem::create_directories(root);
  SpawnOptions cp;
  cp.path = "cp";
  cp.args = {"cp", "-a", (rootfs() / "bin").string(), root.string()};
  ASSERT_TRUE(runProgram(cp).value().status.success());
  std::filesystem::create_directories(root / "elsewhere");
  std::filesystem::create_symlink("elsewhere", root / "proc");
  auto c = defaultConfig({"true"});
  c["root"]["path"] = root.string();
  auto r = runContainer(c);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("proc must be mounted on ordinary directory"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(root / "elsewhere"));
}

TEST_F(Isolation, NoPivotHidesTheHostProc) {
  // With MS_MOVE instead of pivot_root the host's procfs must not stay in the namespace: a new
  // procfs may be mounted only next to a fully visible one, and the container's own /proc is
  // overmounted by its masked paths. runc's test: a user namespace of the container's making.
  auto c = defaultConfig(
      {"unshare", "-mrpf", "sh", "-c", "mount -t proc none /proc && echo mounted || echo refused"});
  c["process"]["capabilities"]["bounding"].push_back("CAP_SETFCAP");
  c["process"]["capabilities"]["permitted"].push_back("CAP_SETFCAP");
  writeConfig(c);
  auto r = runtime({"run", "--no-pivot", "np"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("refused"), std::string::npos) << r.out;
}

TEST_F(Isolation, TerminalBelongsToTheProcessUser) {
  auto c = defaultConfig({"sh", "-c", "stat -c %u:%g $(tty)"});
  c["process"]["terminal"] = true;
  c["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  writeConfig(c);
  auto r = runtime({"run", "owner"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("1000:5"), std::string::npos) << r.out;
}

TEST_F(Isolation, UserNamespaceBindOfAnInaccessibleSource) {
  // The source is reachable only by host root (0700): the runtime opens it before the init
  // enters its user namespace.
  auto hidden = dir() / "hidden";
  std::filesystem::create_directories(hidden / "data");
  std::ofstream(hidden / "data" / "f") << "secret-ok";
  std::filesystem::permissions(hidden, std::filesystem::perms::owner_all);
  // The mount point exists: the container's root can't create it in a rootfs owned by host root.
  std::filesystem::create_directories(rootfs() / "mnt");
  auto c = defaultConfig({"cat", "/mnt/f"});
  addUserNamespace(c);
  c["mounts"].push_back({{"destination", "/mnt"},
                         {"type", "bind"},
                         {"source", (hidden / "data").string()},
                         {"options", {"bind"}}});
  std::filesystem::permissions(hidden / "data", std::filesystem::perms::all);
  std::filesystem::permissions(hidden / "data" / "f", std::filesystem::perms::all);
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "secret-ok");
}

TEST_F(Isolation, ExecIntoASubCgroup) {
  auto c = defaultConfig({"sleep", "1000"});
  writeConfig(c);
  ASSERT_EQ(runtimeDetached({"run", "-d", "c"}).code, 0);
  auto bad = runtime({"exec", "--cgroup", "..", "c", "true"});
  EXPECT_EQ(bad.code, 255);
  EXPECT_NE(bad.err.find(".. is not a sub cgroup path"), std::string::npos) << bad.err;
  auto unknown = runtime({"exec", "--cgroup", "whaaat:/", "c", "true"});
  bool v2 = cgroupDirs("ctr").size() == 1;
  EXPECT_NE(unknown.err.find(v2 ? "controllers can't be named on cgroup v2"
                                : "unknown controller whaaat"),
            std::string::npos)
      << unknown.err;
  auto missing = runtime({"exec", "--cgroup", "nonexistent", "c", "true"});
  EXPECT_NE(missing.err.find("/nonexistent/cgroup.procs: no such file"), std::string::npos)
      << missing.err;
  std::filesystem::path memory;
  for (const auto& d : cgroupDirs("ctr"))
    if (d.string().find("/memory/") != std::string::npos) memory = d;
  if (memory.empty()) return;  // v2: no per-controller sub-cgroups
  std::filesystem::create_directory(memory / "sub");
  auto ok = runtime({"exec", "--cgroup", "memory:sub", "c", "grep", "memory", "/proc/self/cgroup"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("/ctr/sub"), std::string::npos) << ok.out;
}

TEST_F(Isolation, RootfsPropagationSharedAndPerMountPropagation) {
  std::filesystem::create_directories(dir() / "data");
  auto c = defaultConfig({"sh", "-c", "grep -c ' /mnt ' /proc/self/mountinfo"});
  c["linux"]["rootfsPropagation"] = "rshared";
  c["mounts"].push_back({{"destination", "/mnt"},
                         {"type", "bind"},
                         {"source", (dir() / "data").string()},
                         {"options", {"rbind", "rprivate"}}});
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "1\n");
  c["linux"]["rootfsPropagation"] = "sideways";
  auto bad = runContainer(c, "bad");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("linux.rootfsPropagation"), std::string::npos) << bad.err;
}

TEST_F(Isolation, AppArmorProfileIsApplied) {
  // Runs where AppArmor is enabled and apparmor_parser can load a profile (the vm tier).
  auto enabled = readFile("/sys/module/apparmor/parameters/enabled");
  if (!enabled || enabled->rfind("Y", 0) != 0 || !std::filesystem::exists("/sbin/apparmor_parser"))
    GTEST_SKIP() << "AppArmor is not enabled here, or apparmor_parser is missing";
  auto profile = dir() / "berth-test.profile";
  std::ofstream(profile) << "profile berth-test flags=(attach_disconnected,mediate_deleted) {\n"
                            "  file, capability, network, signal, unix, ptrace, mount, umount,\n"
                            "  pivot_root,\n"
                            "  deny /tmp/** w,\n"
                            "}\n";
  SpawnOptions load;
  load.path = "/sbin/apparmor_parser";
  load.args = {load.path, "-r", "-W", profile.string()};
  load.captureStderr = true;
  auto loaded = runProgram(load);
  ASSERT_TRUE(loaded && loaded->status.success()) << (loaded ? loaded->stderrData : "");
  auto c = defaultConfig(
      {"sh", "-c",
       "cat /proc/self/attr/current; touch /tmp/x 2>/dev/null && echo wrote || echo denied"});
  c["process"]["apparmorProfile"] = "berth-test";
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "berth-test (enforce)\ndenied\n");
  // The same container without the profile may write there.
  c["process"].erase("apparmorProfile");
  EXPECT_EQ(runContainer(c, "free").out.substr(0, 10), "unconfined");
}

}  // namespace
}  // namespace berth::testing
