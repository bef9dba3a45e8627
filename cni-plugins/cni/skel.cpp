#include "cni-plugins/cni/skel.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>

#include "cni-plugins/cni/config_json.h"
namespace berth::cni {

namespace {

struct EnvVar {
  const char* name;
  std::string CmdArgs::*field;
  // Commands that need it.
  std::vector<std::string_view> requiredFor;
};

std::string versionList() {
  std::string out = "[";
  for (auto v : supportedVersions()) {
    if (out.size() > 1) out += ' ';
    out += v;
  }
  return out + "]";
}

CniResult<PluginResult> dispatch(const Plugin& p, CmdArgs& a) {
  a.conf =
      CNI_TRY(parseNetConf(a.stdinData, a.command == "DEL" ? ParseMode::kDel : ParseMode::kStrict));
  std::string version = a.conf.cniVersion.empty() ? "0.1.0" : a.conf.cniVersion;
  if (!isSupportedVersion(version)) {
    return cniFail(kIncompatibleVersion,
                   "incompatible CNI versions; config is \"{}\", plugin supports {}", version,
                   versionList());
  }
  if (a.command == "ADD") return p.add(a);
  if (a.command == "DEL") {
    CNI_TRY(p.del(a));
    return PluginResult{};
  }
  if (a.command == "CHECK") {
    if (compareVersions(version, "0.4.0") < 0) {
      return cniFail(kIncompatibleVersion, "config version \"{}\" does not allow CHECK", version);
    }
    CNI_TRY(p.check(a));
    return PluginResult{};
  }
  // STATUS and GC arrived in 1.1.0.
  if (compareVersions(version, "1.1.0") < 0) {
    return cniFail(kIncompatibleVersion, "config version \"{}\" does not allow {}", version,
                   a.command);
  }
  if (a.command == "STATUS" && p.status) CNI_TRY(p.status(a));
  if (a.command == "GC" && p.gc) CNI_TRY(p.gc(a));
  return PluginResult{};
}

std::string errorOutput(const CniError& e, const std::string& version) {
  return e.toJson(version.empty() ? std::string(kCurrentVersion) : version).dump(4) + "\n";
}

}  // namespace

SkelOutput runSkel(const Plugin& plugin, const EnvLookup& env, std::string_view stdinData) {
  static const std::vector<EnvVar> kVars = {
      {"CNI_COMMAND", &CmdArgs::command, {"ADD", "DEL", "CHECK", "STATUS", "GC"}},
      {"CNI_CONTAINERID", &CmdArgs::containerId, {"ADD", "DEL", "CHECK"}},
      {"CNI_NETNS", &CmdArgs::netns, {"ADD", "CHECK"}},
      {"CNI_IFNAME", &CmdArgs::ifName, {"ADD", "DEL", "CHECK"}},
      {"CNI_ARGS", &CmdArgs::args, {}},
      {"CNI_PATH", &CmdArgs::path, {"ADD", "DEL", "CHECK", "GC", "STATUS"}},
  };
  CmdArgs a;
  a.stdinData = std::string(stdinData);
  a.command = env("CNI_COMMAND").value_or("");
  if (a.command.empty()) {
    std::fprintf(stderr, "%s\n", plugin.about.c_str());
    return {0, ""};
  }
  if (a.command == "VERSION") {
    // The cniVersion asked for comes back; supportedVersions lists everything we speak.
    std::string asked(kCurrentVersion);
    auto j = Json::parse(stdinData, nullptr, false);
    if (const Json* v = member(j, "cniVersion"); v && v->is_string()) asked = v->get<std::string>();
    OrderedJson out;
    out["cniVersion"] = asked;
    out["supportedVersions"] = supportedVersions();
    return {0, out.dump() + "\n"};
  }
  static const std::vector<std::string_view> kCommands = {"ADD", "DEL", "CHECK", "STATUS", "GC"};
  if (std::find(kCommands.begin(), kCommands.end(), a.command) == kCommands.end()) {
    return {
        1, errorOutput({kInvalidEnvironment, fmt::format("unknown CNI_COMMAND: {}", a.command), {}},
                       "")};
  }
  std::vector<std::string> missing;
  for (const auto& v : kVars) {
    auto value = env(v.name);
    a.*(v.field) = value.value_or("");
    bool needed =
        std::find(v.requiredFor.begin(), v.requiredFor.end(), a.command) != v.requiredFor.end();
    if (needed && (a.*(v.field)).empty()) missing.push_back(v.name);
  }
  // The version from the config for error objects, best effort before full parsing.
  std::string version;
  auto j = Json::parse(stdinData, nullptr, false);
  if (const Json* v = member(j, "cniVersion"); v && v->is_string()) version = v->get<std::string>();
  if (!missing.empty()) {
    return {
        1, errorOutput({kInvalidEnvironment,
                        fmt::format("required env variables [{}] missing", fmt::join(missing, ",")),
                        {}},
                       version)};
  }
  if (a.command == "ADD" || a.command == "DEL" || a.command == "CHECK") {
    if (auto s = validateContainerId(a.containerId); !s)
      return {1, errorOutput(s.error(), version)};
    if (auto s = validateInterfaceName(a.ifName); !s) return {1, errorOutput(s.error(), version)};
  }
  auto r = dispatch(plugin, a);
  if (!r) return {1, errorOutput(r.error(), version)};
  if (a.command != "ADD") return {0, ""};
  auto out = resultToJson(*r, a.conf.cniVersion.empty() ? "0.1.0" : a.conf.cniVersion);
  if (!out) return {1, errorOutput(out.error(), version)};
  return {0, out->dump(4) + "\n"};
}

int pluginMain(const Plugin& plugin) {
  std::string input;
  // VERSION and a bare invocation need no stdin; everything else reads the config.
  const char* cmd = std::getenv("CNI_COMMAND");
  if (cmd != nullptr && *cmd != '\0') {
    char buf[16384];
    ssize_t n;
    while ((n = ::read(STDIN_FILENO, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
      if (n > 0) input.append(buf, static_cast<size_t>(n));
    }
  }
  auto out = runSkel(
      plugin,
      [](const char* name) -> std::optional<std::string> {
        const char* v = std::getenv(name);
        if (v == nullptr) return std::nullopt;
        return std::string(v);
      },
      input);
  if (!out.stdoutData.empty()) {
    std::fwrite(out.stdoutData.data(), 1, out.stdoutData.size(), stdout);
    std::fflush(stdout);
  }
  return out.exitCode;
}

}  // namespace berth::cni
