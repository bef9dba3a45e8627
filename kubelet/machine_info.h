#pragma once
// What the node is made of (cadvisor's MachineInfo as the kubelet reports it): CPUs, memory,
// hugepages, the root disk's size, and the identity fields of nodeInfo. Read from /proc, /sys and
// /etc at start; the paths are parameters so tests read fixtures.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace berth::kubelet {

struct MachineInfo {
  int cpus = 1;
  std::int64_t memoryBytes = 0;
  std::map<std::string, std::int64_t> hugepages;  // "hugepages-2Mi" → bytes
  std::int64_t ephemeralStorageBytes = 0;         // the filesystem of the kubelet's root dir
  std::string machineId;
  std::string systemUuid;
  std::string bootId;
  std::string kernelVersion;
  std::string osImage;
  std::string architecture = "amd64";
};

struct MachinePaths {
  std::filesystem::path proc = "/proc";
  std::filesystem::path sys = "/sys";
  std::filesystem::path etc = "/etc";
};

MachineInfo readMachineInfo(const std::filesystem::path& rootDir, const MachinePaths& paths = {});

// "x86_64" → "amd64", "aarch64" → "arm64", as GOARCH names them.
std::string goArch(const std::string& machine);

}  // namespace berth::kubelet
