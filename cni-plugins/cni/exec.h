#pragma once
// Running another CNI plugin: a delegated IPAM plugin from a plugin (found in CNI_PATH, with the
// caller's CNI_* environment and the same config), and any plugin from the runtime library.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cni-plugins/cni/types.h"

namespace berth::cni {

// Finds `type` in the ':'-separated directories of cniPath.
[[nodiscard]] CniResult<std::string> findPlugin(const std::string& type,
                                                const std::string& cniPath);

struct ExecRequest {
  std::string binary;
  std::map<std::string, std::string> env;  // CNI_COMMAND, CNI_CONTAINERID, ... (PATH is kept)
  std::string stdinData;
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};
};

// Runs the plugin; its stdout on success, its error object (or one describing how it failed)
// otherwise.
[[nodiscard]] CniResult<std::string> execPlugin(const ExecRequest& req);

// The IPAM delegation of the reference plugins' ipam package: ADD returns the IPAM result, DEL
// and CHECK just succeed or fail. `command` overrides CNI_COMMAND; the rest of the environment is
// the calling plugin's.
[[nodiscard]] CniResult<PluginResult> ipamAdd(const std::string& type, const std::string& conf);
[[nodiscard]] CniStatus ipamExec(const std::string& command, const std::string& type,
                                 const std::string& conf);

}  // namespace berth::cni
