#pragma once
// berth-kubelet's command line, read as the v1.32 kubelet reads its own: the node's flags
// (KubeletFlags), --config naming a KubeletConfiguration file, and the deprecated flags that set
// config fields and override the file (flags > file > defaults). Without --config the kubelet's
// legacy command-line defaults apply (anonymous auth, AlwaysAllow, read-only port 10255).

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/result.h"
#include "kubelet/config/config_codec.h"
#include "kubelet/config/kubelet_configuration.h"
#include "kubelet/config/kubelet_flags.h"

namespace berth::kubelet {

struct LoadedConfig {
  KubeletFlags flags;
  KubeletConfiguration config;  // defaulted, flags applied, validated
};

// Parses argv, loads --config and applies the flags. nullopt: --help was printed to stdout
// (exit 0). Errors name the flag, or the file and field ("unknown flag: --foo",
// "/etc/berth/kubelet.yaml: unknown field \"evictionHardd\"", "invalid configuration: port ...").
[[nodiscard]] Result<std::optional<LoadedConfig>> loadKubeletConfig(int argc, char** argv);
// The same over a vector (args[0] is the program name).
[[nodiscard]] Result<std::optional<LoadedConfig>> loadKubeletConfig(std::vector<std::string> args);

// A deprecated flag that sets a KubeletConfiguration field (AddKubeletConfigFlags).
struct ConfigFlag {
  const char* name;       // without the dashes
  const char* fieldPath;  // the v1beta1 JSON path
  const char* help;
  MapSyntax mapSyntax = MapSyntax::kEquals;
};
const std::vector<ConfigFlag>& configFlags();

// applyLegacyDefaults: the defaults of a kubelet started without --config.
void applyLegacyDefaults(KubeletConfiguration& config);

}  // namespace berth::kubelet
