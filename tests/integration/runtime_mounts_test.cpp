// berth-runtime's mounts as the container and the host see them (/proc/self/mountinfo): the
// order of config.json's mounts, and which mount namespace they are made in.
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "common/spawn.h"
#include "tests/integration/runtime_fixture.h"

namespace berth::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class Mounts : public RuntimeTest {};

struct MountInfoEntry {
  std::string point;
  std::string optional;  // shared:N, master:N, ...
};

// /proc/<pid>/mountinfo text, in its order: mount point (field 5) and the optional fields.
std::vector<MountInfoEntry> parseMountInfo(const std::string& text) {
  std::vector<MountInfoEntry> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point, opts, field, optional;
    if (!(f >> id >> parent >> dev >> root >> point >> opts)) continue;
    while (f >> field && field != "-")
      optional += field + " ";
    out.push_back({point, optional});
  }
  return out;
}

void writeFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

json bindMount(const std::string& destination, const fs::path& source,
               const std::vector<std::string>& options) {
  return {{"destination", destination},
          {"type", "bind"},
          {"source", source.string()},
          {"options", options}};
}

json tmpfsMount(const std::string& destination, const std::vector<std::string>& options) {
  return {
      {"destination", destination}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", options}};
}

TEST_F(Mounts, AreMountedInTheListedOrderAndALaterOneWins) {
  writeFile(dir() / "one" / "file", "one\n");
  writeFile(dir() / "two" / "file", "two\n");
  auto c = defaultConfig({"sh", "-c",
                          "cat /proc/self/mountinfo; echo ---; ls /mnt/b | wc -l; "
                          "cat /mnt/a/x/file /mnt/c/file"});
  // Binds, tmpfs and propagation options interleaved after the default /proc, /dev, /sys ones;
  // /mnt/a/x lands in an earlier tmpfs, and the second /mnt/b and /mnt/c cover earlier mounts.
  for (json m :
       {tmpfsMount("/mnt/a", {"nosuid"}), bindMount("/mnt/b", dir() / "one", {"rbind", "rprivate"}),
        bindMount("/mnt/a/x", dir() / "two", {"bind"}), tmpfsMount("/mnt/c", {"rslave"}),
        tmpfsMount("/mnt/b", {}), bindMount("/mnt/c", dir() / "two", {"rbind", "rshared"})})
    c["mounts"].push_back(m);
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  auto sep = r.out.find("---\n");
  ASSERT_NE(sep, std::string::npos) << r.out;
  // The later mount wins: /mnt/b is the empty tmpfs, /mnt/c the bind.
  EXPECT_EQ(r.out.substr(sep + 4), "0\ntwo\ntwo\n");

  std::vector<std::string> want{"/"};
  std::set<std::string> listed{"/"};
  for (const auto& m : c["mounts"]) {
    want.push_back(m["destination"]);
    listed.insert(m["destination"]);
  }
  std::vector<std::string> got;
  std::vector<MountInfoEntry> entries = parseMountInfo(r.out.substr(0, sep));
  for (const auto& e : entries)
    if (listed.count(e.point)) got.push_back(e.point);
  EXPECT_EQ(got, want) << r.out.substr(0, sep);

  // Each propagation option applies to its own mount: the rprivate bind shares with nothing,
  // the rshared one is in a peer group.
  std::vector<std::string> bPropagation, cPropagation;
  for (const auto& e : entries) {
    if (e.point == "/mnt/b") bPropagation.push_back(e.optional);
    if (e.point == "/mnt/c") cPropagation.push_back(e.optional);
  }
  ASSERT_EQ(bPropagation.size(), 2u);
  ASSERT_EQ(cPropagation.size(), 2u);
  EXPECT_EQ(bPropagation[0], "") << "rprivate bind on /mnt/b";
  EXPECT_NE(cPropagation[1].find("shared:"), std::string::npos) << "rshared bind on /mnt/c";
}

// runtime-spec: a namespace type that is not listed is inherited from the runtime.
void removeNamespace(json& config, const std::string& type) {
  auto& list = config["linux"]["namespaces"];
  for (auto it = list.begin(); it != list.end(); ++it)
    if ((*it)["type"] == type) {
      list.erase(it);
      return;
    }
}

std::string namespaceOf(const std::string& procNsFile) {
  std::error_code ec;
  return fs::read_symlink(procNsFile, ec).string();
}

// The propagation (optional fields) of the mount at `point` in our mount table.
std::string propagationOf(const std::string& point) {
  std::ifstream in("/proc/self/mountinfo");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string found = "(not mounted)";
  for (const auto& e : parseMountInfo(text))
    if (e.point == point) found = e.optional;
  return found;
}

TEST_F(Mounts, WithoutAMountNamespaceTheContainerUsesTheCallersAndDeleteLeavesNoMount) {
  writeFile(dir() / "data" / "file", "from host\n");
  std::string rootPropagation = propagationOf("/");
  auto c =
      defaultConfig({"sh", "-c", "readlink /proc/self/ns/mnt; cat /mnt/data/file; sleep 1000"});
  removeNamespace(c, "mount");
  c["mounts"].push_back(bindMount("/mnt/data", dir() / "data", {"rbind", "ro"}));
  writeConfig(c);
  auto created = runtimeDetached({"create", "c"});
  ASSERT_EQ(created.code, 0) << created.out;

  // Its mounts are in our mount namespace, on the rootfs bind under its state directory, and
  // nowhere else.
  fs::path root = stateRoot() / "c" / "rootfs";
  auto mounted = mountsUnder(root.string());
  for (const char* want : {"", "/proc", "/dev", "/sys", "/mnt/data"})
    EXPECT_NE(std::find(mounted.begin(), mounted.end(), root.string() + want), mounted.end())
        << want;
  EXPECT_TRUE(mountsUnder(rootfs().string()).empty());
  EXPECT_TRUE(mountsUnder(dir().string() + "/data").empty());

  // exec lands in the container's root too.
  auto ls = runtime({"exec", "c", "cat", "/mnt/data/file"});
  EXPECT_EQ(ls.code, 0) << ls.err;
  EXPECT_EQ(ls.out, "from host\n");

  ASSERT_EQ(runtime({"start", "c"}).code, 0);
  int pid = state("c")["pid"];
  EXPECT_EQ(namespaceOf(fmt::format("/proc/{}/ns/mnt", pid)), namespaceOf("/proc/self/ns/mnt"));
  ASSERT_EQ(runtime({"delete", "--force", "c"}).code, 0);
  EXPECT_TRUE(mountsUnder(dir().string()).empty());
  EXPECT_TRUE(mountsUnder(rootfs().string()).empty());
  EXPECT_FALSE(fs::exists(stateRoot() / "c"));
  // The host's root mount is as it was (runc makes it rslave there).
  EXPECT_EQ(propagationOf("/"), rootPropagation);

  // `run` removes them when the process exits; the output came from inside.
  c["process"]["args"] = {"sh", "-c", "readlink /proc/self/ns/mnt; cat /mnt/data/file"};
  auto r = runContainer(c, "r");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, namespaceOf("/proc/self/ns/mnt") + "\nfrom host\n");
  EXPECT_TRUE(mountsUnder(dir().string()).empty());
}

TEST_F(Mounts, WithoutAMountNamespaceAFailedCreateLeavesNoMount) {
  writeFile(dir() / "data" / "file", "from host\n");
  // The init fails after every mount is made: the executable is looked up last.
  auto c = defaultConfig({"/no/such/program"});
  removeNamespace(c, "mount");
  c["mounts"].push_back(bindMount("/mnt/data", dir() / "data", {"rbind"}));
  writeConfig(c);
  auto r = runtime({"create", "c"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("/no/such/program"), std::string::npos) << r.err;
  EXPECT_TRUE(mountsUnder(dir().string()).empty());
  EXPECT_TRUE(mountsUnder(rootfs().string()).empty());
  EXPECT_FALSE(fs::exists(stateRoot() / "c"));
}

TEST_F(Mounts, WithoutAMountNamespaceAUserNamespaceIsRefused) {
  auto c = defaultConfig({"true"});
  removeNamespace(c, "mount");
  addUserNamespace(c);
  writeConfig(c);
  auto r = runtime({"create", "c"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("linux.namespaces: a user namespace needs a mount namespace"),
            std::string::npos)
      << r.err;
}

TEST_F(Mounts, JoinsAMountNamespaceByPath) {
  if (!fs::exists("/usr/bin/unshare")) GTEST_SKIP() << "needs unshare(1) (util-linux)";
  writeFile(dir() / "data" / "file", "from host\n");
  // A mount namespace of the test's own (a private copy of ours), held by a process.
  SpawnOptions o;
  o.path = "/usr/bin/unshare";
  o.args = {o.path, "--mount", "--propagation", "private", "sleep", "1000"};
  auto holder = startProgram(o);
  ASSERT_TRUE(holder) << holder.error().message();
  std::string nsFile = fmt::format("/proc/{}/ns/mnt", holder->pid());
  std::string ours = namespaceOf("/proc/self/ns/mnt");
  for (int i = 0; i < 500 && namespaceOf(nsFile) == ours; ++i)
    ::usleep(10000);
  std::string joined = namespaceOf(nsFile);
  ASSERT_NE(joined, ours);

  auto c = defaultConfig({"sh", "-c", "readlink /proc/self/ns/mnt; cat /mnt/data/file"});
  for (auto& ns : c["linux"]["namespaces"])
    if (ns["type"] == "mount") ns["path"] = nsFile;
  c["mounts"].push_back(bindMount("/mnt/data", dir() / "data", {"rbind"}));
  auto r = runContainer(c);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, joined + "\nfrom host\n");
  // Set up in there: nothing of it in ours.
  EXPECT_TRUE(mountsUnder(rootfs().string()).empty());
  EXPECT_TRUE(mountsUnder(dir().string()).empty());
}

}  // namespace
}  // namespace berth::testing
