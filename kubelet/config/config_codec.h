#pragma once
// Reading and writing KubeletConfiguration as the kubelet does: strict decoding of the --config
// file (YAML or JSON; an unknown field, a duplicate field or a value of the wrong type is an
// error naming the field), v1beta1 defaulting, the /configz body, and the setting of one field
// from a command-line flag's text.

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubelet/config/kubelet_configuration.h"

namespace berth::kubelet {

// Decodes a config file's text; errors name the field ("nodeStatusUpdateFrequency: invalid
// duration ..."). apiVersion and kind must be kubelet.config.k8s.io/v1beta1 KubeletConfiguration.
// The result is defaulted (applyDefaults) but not validated.
[[nodiscard]] Result<KubeletConfiguration> decodeKubeletConfiguration(std::string_view text);
// Reads and decodes `path`; errors are prefixed with the path.
[[nodiscard]] Result<KubeletConfiguration> loadKubeletConfigFile(const std::string& path);

// SetDefaults_KubeletConfiguration's "zero means default" for the non-pointer fields, on a
// config decoded over a default-constructed one. `decoded` is the file's object: the report
// frequency follows an explicitly set update frequency, as upstream.
void applyDefaults(KubeletConfiguration& config, const nlohmann::json& decoded);

// The config as v1beta1 JSON with apiVersion and kind, every field present (durations as Go
// strings), so that it decodes back to the same config.
nlohmann::json toJson(const KubeletConfiguration& config);
// The kubelet's /configz body: {"kubeletconfig": toJson(config)}.
nlohmann::json configzJson(const KubeletConfiguration& config);

// How a flag's text maps onto a map field: pflag's MapStringString ("k=v,k2=v2") or
// LangleSeparatedMapStringString ("memory.available<100Mi", the eviction flags).
enum class MapSyntax { kEquals, kLangle };

// Sets the field at the dotted JSON path ("authentication.webhook.enabled") from a flag's text,
// parsed as pflag parses the flag's type. `firstUse`: a map or list flag replaces the file's
// value on its first use and adds to it when repeated, as pflag's map and slice values do.
[[nodiscard]] Status setFieldFromText(KubeletConfiguration& config, std::string_view fieldPath,
                                      std::string_view text, MapSyntax mapSyntax, bool firstUse);
// pflag's map flags on their own (--node-labels is a MapStringString outside the config).
[[nodiscard]] Status setMapFromText(std::map<std::string, std::string>& out, std::string_view text,
                                    MapSyntax mapSyntax, bool firstUse);
// Whether the field at the path exists and is a bool (bool flags take no value: --fail-swap-on).
enum class FieldKind { kMissing, kBool, kOther };
FieldKind fieldKind(std::string_view fieldPath);

// Go's strconv.ParseBool.
[[nodiscard]] Result<bool> parseGoBool(std::string_view text);

}  // namespace berth::kubelet
