#pragma once
// The plugin side of the CNI protocol (SPEC.md "Execution protocol"): the CNI_* environment and
// the config on stdin in, a result or an error object on stdout out, exit 0 or 1.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "cni-plugins/cni/types.h"

namespace berth::cni {

struct CmdArgs {
  std::string command;      // CNI_COMMAND
  std::string containerId;  // CNI_CONTAINERID
  std::string netns;        // CNI_NETNS
  std::string ifName;       // CNI_IFNAME
  std::string args;         // CNI_ARGS
  std::string path;         // CNI_PATH
  std::string stdinData;
  NetConf conf;
};

struct Plugin {
  std::string about;  // printed to stderr when run without CNI_COMMAND
  std::function<CniResult<PluginResult>(const CmdArgs&)> add;
  std::function<CniStatus(const CmdArgs&)> del;
  std::function<CniStatus(const CmdArgs&)> check;
  // Optional; absent ones succeed (a plugin with nothing to report or collect).
  std::function<CniStatus(const CmdArgs&)> status;
  std::function<CniStatus(const CmdArgs&)> gc;
};

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const char*)>;

struct SkelOutput {
  int exitCode = 0;
  std::string stdoutData;
};

// One invocation, without touching the process' environment or stdio (unit-tested).
SkelOutput runSkel(const Plugin& plugin, const EnvLookup& env, std::string_view stdinData);

// main() of a plugin: the real environment, stdin, stdout.
int pluginMain(const Plugin& plugin);

}  // namespace berth::cni
