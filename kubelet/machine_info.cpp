#include "kubelet/machine_info.h"

#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <sstream>

#include "common/file_util.h"

namespace berth::kubelet {
namespace {

std::string firstLine(const std::filesystem::path& p) {
  std::string text = readFile(p).value_or("");
  if (auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  return text;
}

std::int64_t memTotal(const std::filesystem::path& meminfo) {
  std::istringstream in(readFile(meminfo).value_or(""));
  std::string key;
  std::int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit) {
    if (key == "MemTotal:") return kb * 1024;
  }
  return 0;
}

std::string osImage(const std::filesystem::path& osRelease) {
  std::istringstream in(readFile(osRelease).value_or(""));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("PRETTY_NAME=")) continue;
    std::string v = line.substr(12);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    return v;
  }
  return "Linux";
}

}  // namespace

std::string goArch(const std::string& machine) {
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64") return "arm64";
  if (machine == "i686" || machine == "i386") return "386";
  return machine;
}

MachineInfo readMachineInfo(const std::filesystem::path& rootDir, const MachinePaths& paths) {
  MachineInfo info;
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  info.cpus = cpus > 0 ? static_cast<int>(cpus) : 1;
  info.memoryBytes = memTotal(paths.proc / "meminfo");
  std::error_code ec;
  for (const auto& dir :
       std::filesystem::directory_iterator(paths.sys / "kernel/mm/hugepages", ec)) {
    // "hugepages-2048kB" → "hugepages-2Mi"
    std::string name = dir.path().filename().string();
    if (!name.starts_with("hugepages-") || !name.ends_with("kB")) continue;
    std::int64_t kb = std::stoll(name.substr(10, name.size() - 12));
    std::string size = kb % (1024 * 1024) == 0 ? std::to_string(kb / 1024 / 1024) + "Gi"
                                               : std::to_string(kb / 1024) + "Mi";
    std::int64_t pages = std::atoll(firstLine(dir.path() / "nr_hugepages").c_str());
    info.hugepages["hugepages-" + size] = pages * kb * 1024;
  }
  struct statvfs fs {};
  if (::statvfs(rootDir.c_str(), &fs) == 0) {
    info.ephemeralStorageBytes = static_cast<std::int64_t>(fs.f_blocks) * fs.f_frsize;
  }
  info.machineId = firstLine(paths.etc / "machine-id");
  info.systemUuid = firstLine(paths.sys / "class/dmi/id/product_uuid");
  if (info.systemUuid.empty()) info.systemUuid = info.machineId;
  info.bootId = firstLine(paths.proc / "sys/kernel/random/boot_id");
  struct utsname u {};
  if (::uname(&u) == 0) {
    info.kernelVersion = u.release;
    info.architecture = goArch(u.machine);
  }
  info.osImage = osImage(paths.etc / "os-release");
  return info;
}

}  // namespace berth::kubelet
