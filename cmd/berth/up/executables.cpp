#include "cmd/berth/up/executables.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <vector>

namespace berth::cmd {

namespace {

std::filesystem::path ownDirectory() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : self.parent_path();
}

bool isExecutable(const std::filesystem::path& p) {
  return std::filesystem::is_regular_file(p) && ::access(p.c_str(), X_OK) == 0;
}

}  // namespace

Result<std::filesystem::path> findExecutable(const std::string& name) {
  std::vector<std::filesystem::path> dirs = {ownDirectory(), "/usr/libexec/berth"};
  if (const char* path = std::getenv("PATH")) {
    std::stringstream in(path);
    for (std::string dir; std::getline(in, dir, ':');)
      if (!dir.empty()) dirs.emplace_back(dir);
  }
  for (const auto& dir : dirs) {
    if (dir.empty()) continue;
    if (isExecutable(dir / name)) return dir / name;
  }
  return fail(Code::kNotFound, "{}: not found next to berth, in /usr/libexec/berth or in PATH",
              name);
}

Result<std::filesystem::path> findCniBinDir() {
  auto own = ownDirectory();
  for (const auto& dir :
       {own.parent_path() / "lib" / "berth" / "cni", own.parent_path() / "cni-bin",
        std::filesystem::path("/usr/lib/berth/cni")}) {
    if (isExecutable(dir / "bridge")) return dir;
  }
  return fail(Code::kNotFound,
              "CNI plugins (bridge, host-local, loopback, portmap): not found in {}/lib/berth/cni, "
              "{}/cni-bin or /usr/lib/berth/cni",
              own.parent_path().string(), own.parent_path().string());
}

}  // namespace berth::cmd
