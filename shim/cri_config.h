#pragma once
// berth-cri's configuration: /etc/berth/cri.yaml (every key is documented in
// docs/ARCHITECTURE.md "berth-cri configuration"). Parsing is strict: an unknown key, a wrong type
// or an invalid value is an error naming the key's dotted path.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "shim/cgroup_driver.h"

namespace berth::cri {

// A runtime handler (the RuntimeClass handler name maps to one): an OCI runtime driven through
// runc's command line (berth-runtime, runc, crun).
struct RuntimeHandler {
  std::string type = "runc-cli";  // the only type so far
  std::string path;               // the binary; a bare name is looked up in PATH
  std::filesystem::path root;     // its --root; default <state>/runtimes/<name>
};

struct CniConfig {
  std::vector<std::filesystem::path> binDirs = {"/usr/lib/berth/cni", "/opt/cni/bin"};
  std::filesystem::path confDir = "/etc/cni/net.d";
  // A conflist with {{.PodCIDR}} placeholders that UpdateRuntimeConfig renders into
  // <confDir>/10-berth-net.conflist once the kubelet knows the node's pod CIDR (containerd's
  // conf_template); empty: the network is configured by someone else.
  std::filesystem::path confTemplate;
};

struct StreamServerConfig {
  std::string address = "127.0.0.1";  // an IP literal; never a wildcard by default
  uint16_t port = 0;                  // 0: a free port chosen at start
};

struct CriConfig {
  std::filesystem::path root = "/var/lib/berth/cri";
  std::filesystem::path state = "/run/berth";
  std::filesystem::path listen = "/run/berth/cri.sock";
  std::string logLevel = "info";
  CgroupDriver cgroupDriver = CgroupDriver::kCgroupfs;
  // containerd's disable_apparmor: no AppArmor profiles even on a host that has AppArmor.
  bool disableAppArmor = false;
  std::map<std::string, RuntimeHandler> runtimeHandlers;  // filled by finalize() when empty
  std::string defaultRuntimeHandler = "berth-runtime";
  CniConfig cni;
  std::filesystem::path registryConfig = "/etc/berth/registries.yaml";
  std::filesystem::path imageRoot = "/var/lib/berth/images";  // the images/ store
  StreamServerConfig streamServer;
  // berth-monitor and berth-pod-init; empty: beside berth-cri (<bindir>/berth-monitor,
  // <bindir>/../lib/berth/berth-pod-init), filled by finalizeCriConfig.
  std::filesystem::path monitorPath;
  std::filesystem::path podInitPath;
};

// Parses cri.yaml text over the defaults. An empty document gives the defaults.
[[nodiscard]] Result<CriConfig> parseCriConfig(std::string_view yaml);
// Reads and parses the file; errors are prefixed with its path. A missing file is an error only
// when `mustExist` (the user named it); otherwise the defaults are used.
[[nodiscard]] Result<CriConfig> loadCriConfig(const std::filesystem::path& path, bool mustExist);
// Fills what depends on other settings (default handlers, handler roots under state) and checks
// the cross-key rules. Call after flags have overridden the file.
[[nodiscard]] Status finalizeCriConfig(CriConfig& config);

// The effective configuration as JSON (for Status' verbose info).
nlohmann::ordered_json toJson(const CriConfig& config);

}  // namespace berth::cri
