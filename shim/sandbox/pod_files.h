#pragma once
// The files and mounts every container of a pod shares, made once per pod (containerd's
// setupSandboxFiles): hostname, hosts and resolv.conf under the pod's state dir, and the pod's
// /dev/shm (a tmpfs of its own, or the host's with host IPC).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace berth::shim {

// CRI DNSConfig.
struct DnsConfig {
  std::vector<std::string> servers;
  std::vector<std::string> searches;
  std::vector<std::string> options;
};

struct PodFilesOptions {
  std::filesystem::path dir;  // the pod's state dir; files are written here
  std::string hostname;
  bool hostNetwork = false;
  bool hostIpc = false;
  const DnsConfig* dns = nullptr;  // null or empty: the host's resolv.conf
  std::filesystem::path hostResolvConf = "/etc/resolv.conf";
  std::filesystem::path hostHosts = "/etc/hosts";
  std::uint64_t shmSize = 64 << 20;  // containerd's default
};

struct PodFiles {
  std::filesystem::path hostname, hosts, resolvConf;
  std::filesystem::path shm;  // what containers bind-mount at /dev/shm
};

// resolv.conf from a CRI DNSConfig, as containerd writes it: "search", "nameserver" lines,
// "options" (Kubernetes allows at most 32 search domains and 2048 characters; more is an error).
[[nodiscard]] Result<std::string> resolvConfFor(const DnsConfig& dns);

// Writes hostname, hosts and resolv.conf (0644) and mounts the pod's shm tmpfs (nosuid, nodev,
// noexec, mode 1777, size shmSize) at <dir>/shm unless hostIpc. Nothing stays on failure.
[[nodiscard]] Result<PodFiles> setUpPodFiles(const PodFilesOptions& options);
// Unmounts the shm and removes the files; idempotent.
[[nodiscard]] Status tearDownPodFiles(const std::filesystem::path& dir);

}  // namespace berth::shim
