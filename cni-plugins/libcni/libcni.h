#pragma once
// The runtime side of CNI (what libcni is for containerd and CRI-O), for berth-cri: network
// configuration lists from a directory, running a list's plugins in order with the protocol's
// environment and a timeout, the result cache in libcni's layout, and DEL/CHECK/STATUS/GC from
// that cache.
//
//   <cacheDir>/results/<network>-<containerID>-<ifname>   {"kind": "cniCacheV1", "containerId",
//       "config" (the list, base64), "ifName", "networkName", "netns", "cniArgs",
//       "capabilityArgs", "result"}        cacheDir defaults to /var/lib/cni

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cni-plugins/cni/exec.h"
#include "cni-plugins/cni/types.h"

namespace berth::cni {

struct NetworkConfigList {
  std::string cniVersion;
  std::string name;
  bool disableCheck = false;
  bool disableGC = false;
  std::vector<Json> plugins;  // each with at least "type"
  std::string bytes;          // the list as loaded (a .conf becomes a one-plugin list)
  std::string source;         // the file it came from
};

// Parses a .conflist document, or a single-plugin .conf when `singleConf`. Errors name the file
// and field.
[[nodiscard]] CniResult<NetworkConfigList> parseConfList(std::string_view text,
                                                         const std::string& source,
                                                         bool singleConf = false);
// The first valid configuration in `dir` (*.conf, *.conflist, *.json in lexical order, as
// containerd picks it); invalid files are skipped and reported through `skipped`.
[[nodiscard]] CniResult<NetworkConfigList> loadDefaultNetwork(
    const std::filesystem::path& dir, std::vector<std::string>* skipped = nullptr);

struct RuntimeConf {
  std::string containerID;
  std::string netns;
  std::string ifName = "eth0";
  std::vector<std::pair<std::string, std::string>> args;  // CNI_ARGS
  Json capabilityArgs = Json::object();                   // "portMappings", "ips", "mac", ...
};

// The config one plugin of the list gets on stdin: the list's name and cniVersion, runtimeConfig
// with the capability args it declared, and prevResult when there is one.
[[nodiscard]] CniResult<std::string> buildPluginConf(const NetworkConfigList& list,
                                                     const Json& plugin, const RuntimeConf& rt,
                                                     const std::optional<Json>& prevResult);

// Runs one plugin invocation (exec by default; a fake in unit tests).
using PluginExec = std::function<CniResult<std::string>(const ExecRequest&)>;

class CniRuntime {
 public:
  struct Options {
    std::vector<std::string> binDirs = {"/usr/lib/berth/cni", "/opt/cni/bin"};
    std::filesystem::path cacheDir = "/var/lib/cni";
    std::chrono::milliseconds timeout{std::chrono::minutes(1)};
    PluginExec exec;  // empty: execPlugin
  };
  explicit CniRuntime(Options o);

  [[nodiscard]] CniResult<PluginResult> add(const NetworkConfigList& list, const RuntimeConf& rt);
  // DEL in reverse order with the cached result; a missing cache is fine (DEL is idempotent).
  // Every plugin's DEL runs even after one failed; the first failure is returned and the cache
  // kept for the retry.
  [[nodiscard]] CniStatus del(const NetworkConfigList& list, const RuntimeConf& rt);
  [[nodiscard]] CniStatus check(const NetworkConfigList& list, const RuntimeConf& rt);
  [[nodiscard]] CniStatus status(const NetworkConfigList& list);
  // Deletes cached attachments of this network that are not in `valid`, then GC in each plugin.
  [[nodiscard]] CniStatus gc(const NetworkConfigList& list, const std::vector<Attachment>& valid);

  // The cached result of an attachment, if any.
  [[nodiscard]] std::optional<Json> cachedResult(const std::string& network,
                                                 const RuntimeConf& rt) const;
  std::filesystem::path cachePath(const std::string& network, const std::string& containerID,
                                  const std::string& ifName) const;

 private:
  CniResult<std::string> invoke(const std::string& command, const Json& plugin,
                                const RuntimeConf& rt, const std::string& conf);
  CniStatus writeCache(const NetworkConfigList& list, const RuntimeConf& rt, const Json& result);

  Options o_;
};

}  // namespace berth::cni
