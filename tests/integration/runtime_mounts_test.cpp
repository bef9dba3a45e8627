// berth-runtime's mounts as the container and the host see them (/proc/self/mountinfo): the
// order of config.json's mounts, and which mount namespace they are made in.
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

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

}  // namespace
}  // namespace berth::testing
